import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../errors.js';
import { lastValue, parseSubArgs, secondsOption } from '../drill/args.js';

/** Exit code of `vncplay drill report|run` when the drill failed or its RTO exceeded the budget. */
export const DRILL_FAILED = 1;

export const drillUsage = `usage: vncplay drill report RUN.ndjson [--out DIR] [--rto-budget S]
       vncplay drill run [--log-dir DIR] [--out DIR] [--rto-budget S] -- PLAYBOOK [vncplay options…]

  report   read a drill run's --json log; write DIR/report.md and DIR/junit.xml (DIR defaults to the log's folder)
  run      run the drill playbook with --json into DIR/drill-STAMP.ndjson, then the report into OUT/STAMP/
           (what a scheduled drill runs; see \`vncplay schedule drill\`)

exit codes: 0 drill passed; 1 drill failed or RTO over budget; 4 unreadable log; 5 bad command line;
            for run, the playbook's own non-zero exit code wins (2 task failed, 3 unreachable …)
`;

/** `vncplay drill …`: returns the exit code; errors are thrown as VncplayError for main to print. */
export async function drillCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(drillUsage);
    return sub === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (sub === 'report') return drillReport(rest);
  if (sub === 'run') return drillRun(rest);
  throw new UsageError('E_USAGE', `unknown drill subcommand '${sub}'`, { hint: drillUsage });
}

async function drillReport(argv: readonly string[]): Promise<number> {
  const a = parseSubArgs(argv, ['--out', '--rto-budget'], [], drillUsage);
  if (a.positional.length !== 1) throw new UsageError('E_USAGE', 'drill report takes exactly one RUN.ndjson', { hint: drillUsage });
  const log = a.positional[0]!;
  const budget = secondsOption(lastValue(a, '--rto-budget'), '--rto-budget', drillUsage);
  return reportAndVerdict(log, lastValue(a, '--out') ?? path.dirname(log), budget);
}

async function reportAndVerdict(log: string, outDir: string, budget: number | undefined): Promise<number> {
  const { writeDrillReport } = await import('../drill/report.js');
  const r = await writeDrillReport(log, outDir, budget !== undefined ? { rtoBudgetS: budget } : {});
  const s = r.summary;
  const rto = s.rtoS !== undefined ? `RTO ${s.rtoS.toFixed(3)} s` : 'RTO not measured';
  process.stdout.write(`drill ${s.passed ? 'PASSED' : 'FAILED'}: ${s.fault ?? 'unknown fault'}, ${rto} (budget ${s.budgetS} s)\n`);
  for (const reason of s.reasons) process.stdout.write(`  - ${reason}\n`);
  process.stdout.write(`wrote ${r.markdown}\nwrote ${r.junit}\n`);
  return s.passed ? ExitCode.ok : DRILL_FAILED;
}

/** bin/vncplay.js of this installation (dist/cli/drill.js or src/cli/drill.ts → ../../bin). */
export function vncplayBin(): string {
  return fileURLToPath(new URL('../../bin/vncplay.js', import.meta.url));
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

async function drillRun(argv: readonly string[]): Promise<number> {
  const a = parseSubArgs(argv, ['--log-dir', '--out', '--rto-budget'], [], drillUsage);
  if (a.positional.length || a.rest.length === 0) {
    throw new UsageError('E_USAGE', 'drill run needs `-- PLAYBOOK [options]` after its own options', { hint: drillUsage });
  }
  const budget = secondsOption(lastValue(a, '--rto-budget'), '--rto-budget', drillUsage);
  const logDir = lastValue(a, '--log-dir') ?? '.';
  const id = stamp();
  await mkdir(logDir, { recursive: true });
  const log = path.join(logDir, `drill-${id}.ndjson`);
  const handle = await open(log, 'w');
  let runCode: number;
  try {
    const extra = budget !== undefined ? ['-e', JSON.stringify({ rto_budget_s: budget })] : [];
    runCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [vncplayBin(), ...a.rest, ...extra, '--json'], { stdio: ['ignore', handle.fd, 'inherit'] });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 70)));
    });
  } finally {
    await handle.close();
  }
  process.stdout.write(`drill log: ${log} (playbook exit ${runCode})\n`);
  const verdict = await reportAndVerdict(log, path.join(lastValue(a, '--out') ?? logDir, id), budget);
  return runCode !== ExitCode.ok ? runCode : verdict;
}

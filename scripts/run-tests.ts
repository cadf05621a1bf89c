/**
 * `npm test`'s runner. The test files that need no hosts (vitest project `local`) and those that use the fleets
 * (`hosts`, then `hosts-alone`) run as two vitest processes at once: in one process vitest runs its projects one
 * after the other (it groups files by pool settings), while the fleet's files mostly wait on their hosts and the
 * local ones mostly use the CPU. Side by side the suite takes about as long as its fleet part alone.
 *
 *   node --import tsx scripts/run-tests.ts            both, side by side
 *   node --import tsx scripts/run-tests.ts ARGS...    one plain `vitest run ARGS...` (a file, -t NAME, --project …)
 *
 * The fleet run's output streams live; the local run's is kept in a file and printed whole at the end (two live
 * reporters on one terminal would interleave line by line). The exit status is the first non-zero of the two.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VITEST = join(process.cwd(), 'node_modules', '.bin', 'vitest');

function run(args: readonly string[], output: 'inherit' | string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const toFile = output !== 'inherit' ? createWriteStream(output) : undefined;
    const child = spawn(VITEST, ['run', ...args], { stdio: ['ignore', toFile ? 'pipe' : 'inherit', toFile ? 'pipe' : 'inherit'] });
    if (toFile) {
      child.stdout!.pipe(toFile, { end: false });
      child.stderr!.pipe(toFile, { end: false });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const status = code ?? (signal === 'SIGINT' ? 130 : 1);
      if (toFile) toFile.end(() => resolvePromise(status));
      else resolvePromise(status);
    });
  });
}

async function main(args: readonly string[]): Promise<number> {
  if (args.length > 0) return run(args, 'inherit');
  const localLog = join(mkdtempSync(join(tmpdir(), 'vncplay-tests-')), 'local.log');
  process.stdout.write(`vitest --project local runs beside the fleet's files; its output follows theirs (live: ${localLog})\n`);
  const [hosts, local] = await Promise.all([
    run(['--project', 'hosts', '--project', 'hosts-alone'], 'inherit'),
    run(['--project', 'local'], localLog),
  ]);
  process.stdout.write(`\n── vitest --project local ──\n${readFileSync(localLog, 'utf8')}`);
  process.stdout.write(`\nfleet files: exit ${hosts}; local files: exit ${local}\n`);
  return hosts !== 0 ? hosts : local;
}

// Ctrl-C reaches both vitest processes through the terminal's process group; this one waits for them to finish.
process.on('SIGINT', () => {});
process.exitCode = await main(process.argv.slice(2));

import path from 'node:path';
import { AuditError, auditDir, readRunEvents, readRuns, verifyAudit, type RunSummary } from '../audit/trail.js';
import { lastValue, parseSubArgs } from '../drill/args.js';
import { ExitCode, UsageError } from '../errors.js';

export const historyUsage = `usage: vncplay history [list] [--host H] [--playbook TEXT] [--since DATE] [--until DATE]
                              [--result ok|failed|running] [--json]
       vncplay history show RUN_ID [--events]
       vncplay history verify

  Every vncplay run is recorded in an append-only, hash-chained audit trail (VNCPLAY_AUDIT_DIR, else
  /var/lib/vncplay/audit for root, else ~/.local/state/vncplay/audit; kept VNCPLAY_AUDIT_RETENTION_DAYS, default 180).
  list     the runs, oldest first: id, start, user, result, hosts, playbooks (filters combine)
  show     who ran it, with what (argv, playbook and inventory sha256, git commit), the recap and each host's
           changes; --events prints the run's recorded events (NDJSON, as redacted as --json)
  verify   checks every record against its hash and the chains between them; exit 0 intact, 1 tampered

exit codes: 0 ok; 1 verify found tampering; 4 unreadable trail or unknown run; 5 bad command line
`;

/** `vncplay history …`. */
export async function historyCommand(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const sub = first === undefined || first.startsWith('-') ? 'list' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(historyUsage);
    return ExitCode.ok;
  }
  const dir = auditDir();
  if (sub === 'list') return listRuns(dir, args);
  if (sub === 'show') return showRun(dir, args);
  if (sub === 'verify') {
    if (args.length) throw new UsageError('E_USAGE', `history verify takes no argument ('${args[0]!}')`, { hint: historyUsage });
    return verify(dir);
  }
  throw new UsageError('E_USAGE', `unknown history subcommand '${sub}'`, { hint: historyUsage });
}

function result(run: RunSummary): 'ok' | 'failed' | 'running' {
  if (!run.end) return 'running';
  return run.end.exitCode === 0 ? 'ok' : 'failed';
}

function dateOption(v: string | undefined, name: string, endOfDay: boolean): number | undefined {
  if (v === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const t = Date.parse(day ? `${v}T${endOfDay ? '23:59:59.999' : '00:00:00'}Z` : v);
  if (Number.isNaN(t)) throw new UsageError('E_USAGE', `${name} must be a date (2026-12-07) or an ISO time, not '${v}'`, { hint: historyUsage });
  return t;
}

async function listRuns(dir: string, argv: readonly string[]): Promise<number> {
  const a = parseSubArgs(argv, ['--host', '--playbook', '--since', '--until', '--result'], ['--json'], historyUsage);
  if (a.positional.length) throw new UsageError('E_USAGE', `unexpected argument '${a.positional[0]!}'`, { hint: historyUsage });
  const host = lastValue(a, '--host');
  const playbook = lastValue(a, '--playbook');
  const since = dateOption(lastValue(a, '--since'), '--since', false);
  const until = dateOption(lastValue(a, '--until'), '--until', true);
  const wanted = lastValue(a, '--result');
  if (wanted !== undefined && !['ok', 'failed', 'running'].includes(wanted)) {
    throw new UsageError('E_USAGE', `--result must be ok, failed or running, not '${wanted}'`, { hint: historyUsage });
  }
  const runs = (await readRuns(dir)).filter((run) => {
    const t = Date.parse(run.start.time);
    if (since !== undefined && t < since) return false;
    if (until !== undefined && t > until) return false;
    if (wanted !== undefined && result(run) !== wanted) return false;
    if (playbook !== undefined && !run.start.playbooks.some((p) => p.path.includes(playbook))) return false;
    if (host !== undefined && !(run.end && host in run.end.recap)) return false;
    return true;
  });
  if (a.values.has('--json')) {
    for (const run of runs) process.stdout.write(`${JSON.stringify(run)}\n`);
    return ExitCode.ok;
  }
  for (const run of runs) {
    const hosts = run.end ? Object.keys(run.end.recap).length : 0;
    const code = run.end ? ` (exit ${run.end.exitCode})` : '';
    const books = run.start.playbooks.map((p) => path.basename(p.path)).join(' ');
    process.stdout.write(`${run.start.id}  ${run.start.time}  ${run.start.user}${run.start.sudoUser ? ` (sudo from ${run.start.sudoUser})` : ''}  ${result(run)}${code}  ${hosts} host(s)  ${books}${run.start.check ? ' --check' : ''}\n`);
  }
  if (runs.length === 0) process.stdout.write(`no recorded run matches (audit trail: ${dir})\n`);
  return ExitCode.ok;
}

async function showRun(dir: string, argv: readonly string[]): Promise<number> {
  const a = parseSubArgs(argv, [], ['--events'], historyUsage);
  if (a.positional.length !== 1) throw new UsageError('E_USAGE', 'history show takes one RUN_ID (see `vncplay history`)', { hint: historyUsage });
  const id = a.positional[0]!;
  const run = (await readRuns(dir)).find((r) => r.start.id === id);
  if (!run) {
    throw new AuditError('E_AUDIT_NO_RUN', `no run '${id}' in the audit trail (${dir})`, { hint: 'list the runs with `vncplay history`' });
  }
  if (a.values.has('--events')) {
    for (const e of await readRunEvents(dir, id)) process.stdout.write(`${JSON.stringify(e)}\n`);
    return ExitCode.ok;
  }
  const s = run.start;
  const out = [
    `run ${s.id}: ${result(run)}${run.end ? ` (exit ${run.end.exitCode}) at ${run.end.time}` : ''}`,
    `started ${s.time} by ${s.user} (uid ${s.uid})${s.sudoUser ? ` via sudo from ${s.sudoUser}` : ''} on ${s.controller}, vncplay ${s.version}${s.check ? ', --check' : ''}`,
    `command: ${s.argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ')}  (in ${s.cwd})`,
    ...s.playbooks.map((p) => `playbook: ${p.path} sha256 ${p.sha256 ?? '(unreadable)'}`),
    ...s.inventories.map((p) => `inventory: ${p.path}${p.sha256 ? ` sha256 ${p.sha256}` : ''}`),
    ...(s.git ? [`git: ${s.git.commit}${s.git.dirty ? ' with uncommitted changes' : ''}`] : []),
  ];
  if (run.end) {
    for (const [host, st] of Object.entries(run.end.recap)) {
      out.push(`${host}: ok=${st.ok} changed=${st.changed} unreachable=${st.unreachable} failed=${st.failed} skipped=${st.skipped}`);
      for (const change of run.end.changes[host] ?? []) out.push(`  changed: ${change}`);
    }
    out.push(`${run.end.events} events recorded (vncplay history show ${s.id} --events)`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return ExitCode.ok;
}

async function verify(dir: string): Promise<number> {
  const r = await verifyAudit(dir);
  for (const note of r.notes) process.stdout.write(`note: ${note}\n`);
  for (const problem of r.problems) process.stdout.write(`TAMPERED: ${problem}\n`);
  process.stdout.write(`${r.problems.length ? 'audit trail NOT intact' : 'audit trail intact'}: ${r.runs} run(s), ${r.records} ledger record(s) in ${dir}\n`);
  return r.problems.length ? 1 : ExitCode.ok;
}

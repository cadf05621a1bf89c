import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VncplayError } from '../errors.js';
import type { RunEvent } from '../runner/events.js';

/** A drill run log that cannot be read or holds no drill. Exit 4 (invalid input). */
export class DrillReportError extends VncplayError {}

/** The RTO budget when neither --rto-budget nor the run (rto_budget_s) says. */
export const DEFAULT_RTO_BUDGET_S = 10;

export interface DrillPhase {
  phase: string;
  /** ISO time of the event. */
  time: string;
  /** Controller epoch ms of the phase (the module's own stamp when it has one). */
  tMs: number;
  /** Seconds since t0, when there was a t0. */
  sinceT0S?: number;
  host?: string;
  data: Record<string, unknown>;
}

export interface FailedTask {
  host: string;
  task: string;
  msg: string;
}

export interface DrillSummary {
  playbook?: string;
  fault?: string;
  primary?: string;
  standby?: string;
  vip?: string;
  phases: DrillPhase[];
  rtoS?: number;
  budgetS: number;
  /** The pre-checks refused to start the drill (both MASTER, a host down …). */
  refused: boolean;
  runExitCode?: number;
  failedTasks: FailedTask[];
  passed: boolean;
  /** Why it did not pass; empty when it passed. */
  reasons: string[];
  started?: string;
  durationS?: number;
}

/** NDJSON → events. Blank lines are skipped; anything else that is not a JSON object is an error with its line. */
export function parseRunLog(text: string, file = 'run.ndjson'): RunEvent[] {
  const events: RunEvent[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new DrillReportError('E_DRILL_LOG', `line ${i + 1} is not JSON`, {
        pos: { file, line: i + 1, col: 1 },
        hint: 'the log must be the output of `vncplay … --json` (one event per line)',
        cause: err,
      });
    }
    if (typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string') events.push(v as RunEvent);
  }
  return events;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** The drill's story from a run's events; `rtoBudgetS` overrides the budget the run recorded. */
export function summarizeDrill(events: readonly RunEvent[], opts: { rtoBudgetS?: number } = {}): DrillSummary {
  const drill = events.filter((e): e is Extract<RunEvent, { type: 'drill' }> => e.type === 'drill' && e.phase !== 'health');
  const t0 = drill.find((e) => e.phase === 't0');
  const t0Ms = t0 ? (numberOf(t0.data['t_ms']) ?? Date.parse(t0.time)) : undefined;
  const phases: DrillPhase[] = drill.map((e) => {
    const tMs = numberOf(e.data['t_ms']) ?? Date.parse(e.time);
    const p: DrillPhase = { phase: e.phase, time: new Date(tMs).toISOString(), tMs, data: e.data };
    if (e.host !== undefined) p.host = e.host;
    if (t0Ms !== undefined) p.sinceT0S = Math.round(tMs - t0Ms) / 1000;
    return p;
  });
  const answered = drill.find((e) => e.phase === 'standby_answered');
  const rtoS = answered ? numberOf(answered.data['rto_s']) : undefined;
  const budgetS =
    opts.rtoBudgetS ??
    numberOf(t0?.data['rto_budget_s']) ??
    numberOf(answered?.data['rto_budget_s']) ??
    DEFAULT_RTO_BUDGET_S;
  const runStart = events.find((e): e is Extract<RunEvent, { type: 'run_start' }> => e.type === 'run_start');
  const runEnd = events.find((e): e is Extract<RunEvent, { type: 'run_end' }> => e.type === 'run_end');
  const failedTasks: FailedTask[] = events.flatMap((e) =>
    e.type === 'task_result' && (e.status === 'failed' || e.status === 'unreachable')
      ? [{ host: e.host, task: e.task.name, msg: `${e.status === 'unreachable' ? 'UNREACHABLE: ' : ''}${e.msg ?? ''}` }]
      : [],
  );
  const refused = drill.some((e) => e.phase === 'refused');

  const reasons: string[] = [];
  if (refused) reasons.push('the pre-checks refused to start the drill');
  else if (!t0) {
    const down = [...new Set(events.flatMap((e) => (e.type === 'task_result' && e.status === 'unreachable' ? [e.host] : [])))];
    reasons.push(down.length ? `the drill never reached t0: unreachable ${down.join(', ')}` : 'the drill never reached t0');
  }
  if (t0 && rtoS === undefined) reasons.push('the standby never answered on the VIP');
  if (rtoS !== undefined && rtoS > budgetS) reasons.push(`RTO ${rtoS} s exceeds the budget of ${budgetS} s`);
  if (t0 && !drill.some((e) => e.phase === 'failback')) reasons.push('failback to the primary was not confirmed');
  if (!runEnd) reasons.push('the run log has no run_end event (interrupted or truncated)');
  else if (runEnd.exitCode !== 0) reasons.push(`the run exited ${runEnd.exitCode}`);

  const summary: DrillSummary = { phases, budgetS, refused, failedTasks, passed: reasons.length === 0, reasons };
  if (runStart) {
    summary.playbook = runStart.playbook;
    summary.started = runStart.time;
  }
  if (runEnd) {
    summary.runExitCode = runEnd.exitCode;
    summary.durationS = Math.round(runEnd.durationMs) / 1000;
  }
  const fault = str(t0?.data['fault']) ?? str(drill.find((e) => str(e.data['fault']))?.data['fault']);
  if (fault) summary.fault = fault;
  if (str(t0?.data['primary'])) summary.primary = str(t0?.data['primary'])!;
  if (str(t0?.data['standby'])) summary.standby = str(t0?.data['standby'])!;
  if (str(t0?.data['vip'])) summary.vip = `${str(t0?.data['vip'])!}${t0?.data['port'] !== undefined ? `:${String(t0.data['port'])}` : ''}`;
  if (rtoS !== undefined) summary.rtoS = rtoS;
  return summary;
}

function mdCell(v: string): string {
  return v.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const PHASE_NOTES: Record<string, string> = {
  refused: 'pre-checks refused the drill',
  t0: 'clock starts; fault follows',
  fault_injected: 'fault injected on the primary',
  standby_answered: 'RFB banner on the VIP again (standby)',
  standby_answered_timeout: 'no answer on the VIP in time',
  standby_master: 'standby holds the VIP',
  restored: 'primary restored',
  failback_answered: 'VIP answers after failback',
  failback_answered_timeout: 'no answer on the VIP after failback',
  failback: 'single MASTER again (the primary)',
};

/** What the phase means, with the facts the event carried (controller events name no meaningful host). */
function phaseNote(p: DrillPhase): string {
  const d = p.data;
  const base = PHASE_NOTES[p.phase] ?? '';
  const extra: string[] = [];
  if (p.phase === 't0' && str(d['fault'])) extra.push(`${str(d['fault'])!} on ${str(d['primary']) ?? '?'}`);
  if (p.phase === 'refused') extra.push(`healthy: ${JSON.stringify(d['healthy'] ?? [])}, MASTER: ${JSON.stringify(d['masters'] ?? [])}`);
  if (p.phase.endsWith('_answered') && typeof d['attempts'] === 'number') extra.push(`${String(d['attempts'])} probes, ${String(d['failures'] ?? 0)} failed`);
  if (p.phase.endsWith('_timeout') && str(d['last'])) extra.push(`last: ${str(d['last'])!}`);
  if (p.phase === 'standby_master' && str(d['host'])) extra.push(str(d['host'])!);
  if (p.phase === 'failback' && Array.isArray(d['masters'])) extra.push(`MASTER: ${d['masters'].map(String).join(', ')}`);
  return [base, ...extra].filter(Boolean).join('; ');
}

export function renderMarkdown(s: DrillSummary): string {
  const verdict = s.passed ? 'PASSED' : 'FAILED';
  const out: string[] = [`# Failover drill: ${verdict}`, ''];
  const facts: [string, string | undefined][] = [
    ['Playbook', s.playbook],
    ['Started', s.started],
    ['Fault', s.fault],
    ['Primary', s.primary],
    ['Standby', s.standby],
    ['VIP', s.vip],
    ['RTO', s.rtoS !== undefined ? `${s.rtoS.toFixed(3)} s` : 'not measured'],
    ['RTO budget', `${s.budgetS} s`],
    ['Run exit code', s.runExitCode !== undefined ? String(s.runExitCode) : 'unknown (no run_end)'],
    ['Run duration', s.durationS !== undefined ? `${s.durationS} s` : undefined],
  ];
  for (const [k, v] of facts) if (v !== undefined) out.push(`- **${k}:** ${mdCell(v)}`);
  out.push('');
  if (!s.passed) {
    out.push('## Why it failed', '');
    for (const r of s.reasons) out.push(`- ${mdCell(r)}`);
    out.push('');
  }
  out.push('## Phases', '', '| Phase | Time (UTC) | t − t0 (s) | Note |', '|---|---|---|---|');
  for (const p of s.phases) {
    const since = p.sinceT0S !== undefined ? p.sinceT0S.toFixed(3) : '';
    out.push(`| ${mdCell(p.phase)} | ${p.time} | ${since} | ${mdCell(phaseNote(p))} |`);
  }
  out.push('');
  if (s.failedTasks.length) {
    out.push('## Failed tasks', '');
    for (const f of s.failedTasks) out.push(`- ${mdCell(f.host)}: ${mdCell(f.task)}: ${mdCell(f.msg)}`);
    out.push('');
  }
  return out.join('\n');
}

function xml(v: string): string {
  return v
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    // XML 1.0 has no representation for most control characters.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

interface JunitCase {
  name: string;
  timeS: number;
  failure?: string;
}

/** The drill's checks as JUnit test cases, so CI shows which part failed. */
export function junitCases(s: DrillSummary): JunitCase[] {
  const fault = s.fault ?? 'unknown fault';
  const failback = s.phases.find((p) => p.phase === 'failback');
  const restored = s.phases.find((p) => p.phase === 'restored');
  const cases: JunitCase[] = [
    {
      name: 'pre-checks: both hosts healthy, exactly one MASTER',
      timeS: 0,
      ...(s.refused || !s.phases.some((p) => p.phase === 't0') ? { failure: s.refused ? 'the pre-checks refused to start the drill' : 'the drill never reached t0' } : {}),
    },
    {
      name: `failover (${fault}): standby answers on the VIP within ${s.budgetS} s`,
      timeS: s.rtoS ?? 0,
      ...(s.rtoS === undefined
        ? { failure: 'the standby never answered on the VIP' }
        : s.rtoS > s.budgetS
          ? { failure: `RTO ${s.rtoS} s exceeds the budget of ${s.budgetS} s` }
          : {}),
    },
    {
      name: 'failback: a single MASTER again, the primary',
      timeS: failback && restored ? Math.max(0, (failback.tMs - restored.tMs) / 1000) : 0,
      ...(failback ? {} : { failure: 'failback to the primary was not confirmed' }),
    },
    {
      name: 'run: the playbook exited 0',
      timeS: s.durationS ?? 0,
      ...(s.runExitCode === 0 ? {} : { failure: s.runExitCode === undefined ? 'no run_end event' : `exit code ${s.runExitCode}` }),
    },
  ];
  return cases;
}

export function renderJunit(s: DrillSummary): string {
  const cases = junitCases(s);
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const total = s.durationS ?? cases.reduce((t, c) => t + c.timeS, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vncplay failover drill" tests="${cases.length}" failures="${failures}" time="${total.toFixed(3)}">`,
    `  <testsuite name="failover-drill${s.fault ? `.${xml(s.fault)}` : ''}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${total.toFixed(3)}"${s.started ? ` timestamp="${xml(s.started)}"` : ''}>`,
    '    <properties>',
    ...(s.rtoS !== undefined ? [`      <property name="rto_s" value="${s.rtoS}"/>`] : []),
    `      <property name="rto_budget_s" value="${s.budgetS}"/>`,
    ...(s.primary ? [`      <property name="primary" value="${xml(s.primary)}"/>`] : []),
    ...(s.standby ? [`      <property name="standby" value="${xml(s.standby)}"/>`] : []),
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase classname="vncplay.drill" name="${xml(c.name)}" time="${c.timeS.toFixed(3)}"`;
    if (c.failure === undefined) lines.push(`${open}/>`);
    else lines.push(`${open}>`, `      <failure message="${xml(c.failure)}" type="DrillFailure">${xml(c.failure)}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

export interface WrittenReport {
  summary: DrillSummary;
  markdown: string;
  junit: string;
}

/** Reads RUN.ndjson, writes OUT/report.md and OUT/junit.xml; returns the summary (its `passed` is the verdict). */
export async function writeDrillReport(logFile: string, outDir: string, opts: { rtoBudgetS?: number } = {}): Promise<WrittenReport> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch (err) {
    throw new DrillReportError('E_DRILL_LOG', `cannot read ${logFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: 'pass the NDJSON file written by `vncplay playbooks/failover-drill.yml … --json > RUN.ndjson`',
      cause: err,
    });
  }
  const events = parseRunLog(text, logFile);
  if (!events.some((e) => e.type === 'run_start' || e.type === 'drill')) {
    throw new DrillReportError('E_DRILL_EMPTY', `${logFile} holds no vncplay run`, {
      hint: 'run the drill with --json and redirect its standard output to the file',
    });
  }
  const summary = summarizeDrill(events, opts);
  await mkdir(outDir, { recursive: true });
  const markdown = path.join(outDir, 'report.md');
  const junit = path.join(outDir, 'junit.xml');
  await writeAtomic(markdown, renderMarkdown(summary));
  await writeAtomic(junit, renderJunit(summary));
  return { summary, markdown, junit };
}

// The audit trail: every run, who started it and with what, every event (as redacted as --json's) and each host's
// changes, in append-only NDJSON files whose records are hash-chained, so that an edited or removed record is
// detected by `vncplay history verify`.
//
// Layout of the audit folder (0700; files 0600):
//   runs-YYYY-MM.ndjson       the ledger: one `run_start` and one `run_end` record per run, and `pruned` records;
//                             one chain across all months (a month's first record continues the previous month's)
//   runs/YYYY-MM/RUN_ID.ndjson  one run's events, a chain of its own whose last hash the ledger's run_end records
// Plain files rather than a database: an operator reads and ships them with the tools they have (grep, jq, a log
// shipper), appending never rewrites what is there, and months of run summaries are a few MB to scan.
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VncplayError } from '../errors.js';
import type { HostStats, RunEvent } from '../runner/events.js';

export class AuditError extends VncplayError {}

/** The hash a chain starts from (a run file's first record, the ledger's very first record). */
export const GENESIS = '0'.repeat(64);
export const DEFAULT_RETENTION_DAYS = 180;

/** Who ran what: the ledger's run_start record. */
export interface RunStart {
  type: 'run_start';
  id: string;
  time: string;
  user: string;
  uid: number;
  /** The user sudo was run by, when vncplay runs under sudo. */
  sudoUser?: string;
  controller: string;
  argv: string[];
  cwd: string;
  playbooks: FileDigest[];
  inventories: FileDigest[];
  /** The git commit of the first playbook's folder, and whether its work tree had changes. */
  git?: { commit: string; dirty: boolean };
  version: string;
  check: boolean;
}

export interface FileDigest {
  path: string;
  /** sha256 of the content (of every file under it, in order, for a folder); absent when it could not be read. */
  sha256?: string;
}

export interface RunEnd {
  type: 'run_end';
  id: string;
  time: string;
  exitCode: number;
  recap: Record<string, HostStats>;
  /** Each host's changed tasks, in order ("task name" or "task name (item label)"). */
  changes: Record<string, string[]>;
  /** The run file's record count and last hash: what ties its events to the ledger. */
  events: number;
  lastHash: string;
}

export interface Pruned {
  type: 'pruned';
  time: string;
  /** Ledger months removed, and the hash of the last record they held: the next month's first `prev`. */
  months: string[];
  lastHash: string;
  retentionDays: number;
}

export type LedgerRecord = RunStart | RunEnd | Pruned;

interface Line<T> {
  r: T;
  prev: string;
  hash: string;
}

export function recordHash(prev: string, record: unknown): string {
  return hashOfJson(prev, JSON.stringify(record));
}

function hashOfJson(prev: string, json: string): string {
  return createHash('sha256').update(prev).update('\n').update(json).digest('hex');
}

/**
 * A record's line: the record serialized once, for its hash and its text (`{"r":…,"prev":…,"hash":…}`, the same
 * text JSON.stringify gives for that object: a run writes one per event, so serializing twice doubled its garbage).
 */
function line<T>(record: T, prev: string): { text: string; hash: string } {
  const json = JSON.stringify(record);
  const hash = hashOfJson(prev, json);
  return { text: `{"r":${json},"prev":${JSON.stringify(prev)},"hash":"${hash}"}\n`, hash };
}

/** Where the audit trail lives: VNCPLAY_AUDIT_DIR, else /var/lib/vncplay/audit for root, else ~/.local/state. */
export function auditDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['VNCPLAY_AUDIT_DIR']) return path.resolve(env['VNCPLAY_AUDIT_DIR']);
  if (process.getuid?.() === 0) return '/var/lib/vncplay/audit';
  return path.join(env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local/state'), 'vncplay/audit');
}

export function retentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['VNCPLAY_AUDIT_RETENTION_DAYS'];
  if (v === undefined || v === '') return DEFAULT_RETENTION_DAYS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new AuditError('E_AUDIT_RETENTION', `VNCPLAY_AUDIT_RETENTION_DAYS must be a whole number of days (1 or more), not '${v}'`, { hint: 'the default is 180 days' });
  }
  return n;
}

const month = (iso: string): string => iso.slice(0, 7);
const ledgerFile = (dir: string, m: string): string => path.join(dir, `runs-${m}.ndjson`);
const runFile = (dir: string, id: string): string => path.join(dir, 'runs', id.slice(0, 7), `${id}.ndjson`);

/** A new run id: its start time (sortable, names its month) and a random suffix. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/** Serializes ledger appends between concurrent vncplay processes: mkdir is atomic; a dead holder's lock is taken over. */
async function withLedgerLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.ledger.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lock, { mode: 0o700 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 10_000 || attempt > 500) await rm(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function ledgerMonths(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return names.flatMap((n) => /^runs-(\d{4}-\d{2})\.ndjson$/.exec(n)?.[1] ?? []).sort();
}

async function readLines<T>(file: string): Promise<Line<T>[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line<T>);
}

/**
 * The last non-empty line of a file, read from its end: a month's ledger grows with every run (a run_end holds every
 * host's recap), and each run reads its tail twice, so reading the whole file made every run slower than the last.
 */
async function lastLine(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    let end = (await fh.stat()).size;
    let tail = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - 64 * 1024);
      const chunk = Buffer.alloc(end - start);
      await fh.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      end = start;
      let last = tail.length;
      while (last > 0 && tail[last - 1] === 0x0a) last--;
      const nl = tail.lastIndexOf(0x0a, last - 1);
      if (last > 0 && (nl >= 0 || end === 0)) return tail.subarray(nl + 1, last).toString('utf8');
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

/** The hash of a month's last ledger record, or undefined for an empty month. */
async function monthTailHash(dir: string, m: string): Promise<string | undefined> {
  const text = await lastLine(ledgerFile(dir, m));
  return text === undefined ? undefined : (JSON.parse(text) as Line<LedgerRecord>).hash;
}

/** The last hash of the ledger (the newest month's last line), or GENESIS for an empty ledger. */
async function ledgerTail(dir: string): Promise<string> {
  const months = await ledgerMonths(dir);
  for (const m of months.reverse()) {
    const hash = await monthTailHash(dir, m);
    if (hash !== undefined) return hash;
  }
  return GENESIS;
}

async function appendLedger(dir: string, record: LedgerRecord): Promise<void> {
  await withLedgerLock(dir, async () => {
    const { text } = line(record, await ledgerTail(dir));
    await appendFile(ledgerFile(dir, month(record.time)), text, { mode: 0o600 });
  });
}

/** Records one run: its start in the ledger now, its events as they come, its end and changes in the ledger. */
export class RunRecorder {
  private prev = GENESIS;
  private count = 0;
  private readonly changes: Record<string, string[]> = {};
  private recap: Record<string, HostStats> = {};
  private writing: Promise<void> = Promise.resolve();
  /** Event lines not yet handed to a write, and whether a write that will take them is already queued. */
  private unwritten = '';
  private flushQueued = false;
  private failure: unknown;

  private constructor(
    private readonly dir: string,
    readonly id: string,
    private readonly file: import('node:fs/promises').FileHandle,
  ) {}

  static async start(dir: string, start: Omit<RunStart, 'type' | 'id' | 'time'>, now = new Date()): Promise<RunRecorder> {
    try {
      const id = newRunId(now);
      await ensureDir(path.dirname(runFile(dir, id)));
      await appendLedger(dir, { type: 'run_start', id, time: now.toISOString(), ...start });
      const file = await open(runFile(dir, id), 'ax', 0o600);
      return new RunRecorder(dir, id, file);
    } catch (err) {
      if (err instanceof VncplayError) throw err;
      throw new AuditError('E_AUDIT_WRITE', `cannot write the audit trail in ${dir}: ${(err as Error).message}`, {
        hint: 'every run is recorded; make the folder writable, or point VNCPLAY_AUDIT_DIR at one that is',
        cause: err,
      });
    }
  }

  /** Appends one event (already redacted by the runner), in order. */
  event(e: RunEvent): void {
    if (e.type === 'task_result' && e.changed) {
      (this.changes[e.host] ??= []).push(e.label !== undefined ? `${e.task.name} (${e.label})` : e.task.name);
    }
    if (e.type === 'recap') this.recap = { ...this.recap, ...e.hosts };
    const { text, hash } = line(e, this.prev);
    this.prev = hash;
    this.count++;
    // Events come in bursts (a task's result on every host at once): the lines that arrive while a write is under
    // way go out together in the next one. One append per event cost ~14% of a 3-host, 110-task run's CPU.
    this.unwritten += text;
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.writing = this.writing
      .then(() => {
        this.flushQueued = false;
        const chunk = this.unwritten;
        this.unwritten = '';
        return this.file.appendFile(chunk);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  async finish(exitCode: number, now = new Date()): Promise<void> {
    await this.writing;
    await this.file.sync().catch(() => undefined);
    await this.file.close();
    if (this.failure !== undefined) {
      throw new AuditError('E_AUDIT_WRITE', `the audit trail of run ${this.id} is incomplete: ${(this.failure as Error).message}`, { hint: `folder: ${this.dir}` });
    }
    await appendLedger(this.dir, {
      type: 'run_end', id: this.id, time: now.toISOString(), exitCode, recap: this.recap, changes: this.changes, events: this.count, lastHash: this.prev,
    });
  }
}

/**
 * mkdir -p, one level at a time. (Node's recursive mkdir never returns for a path under /proc: it retries the
 * parent's ENOENT forever.)
 */
async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw err;
    await ensureDir(path.dirname(dir));
    await mkdir(dir, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** Removes ledger months (and their run files) wholly older than the retention, recording it in the chain. */
export async function pruneAudit(dir: string, days: number, now = new Date()): Promise<string[]> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  return withLedgerLock(dir, async () => {
    const months = await ledgerMonths(dir);
    // A month goes only when its last day is past the cutoff, and never the newest month (the chain's tail).
    const old = months.slice(0, -1).filter((m) => monthEnd(m) < cutoff);
    if (old.length === 0) return [];
    const lastHash = (await monthTailHash(dir, old[old.length - 1]!)) ?? GENESIS;
    const record: Pruned = { type: 'pruned', time: now.toISOString(), months: old, lastHash, retentionDays: days };
    const { text } = line(record, await ledgerTail(dir));
    await appendFile(ledgerFile(dir, month(record.time)), text, { mode: 0o600 });
    for (const m of old) {
      await rm(ledgerFile(dir, m), { force: true });
      await rm(path.join(dir, 'runs', m), { recursive: true, force: true });
    }
    return old;
  });
}

function monthEnd(m: string): Date {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, mo, 1));
}

/** One run as the ledger knows it. */
export interface RunSummary {
  start: RunStart;
  end?: RunEnd;
}

export async function readRuns(dir: string): Promise<RunSummary[]> {
  const runs = new Map<string, RunSummary>();
  for (const m of await ledgerMonths(dir)) {
    for (const { r } of await readLedgerMonth(dir, m)) {
      if (r.type === 'run_start') runs.set(r.id, { start: r });
      else if (r.type === 'run_end') {
        const run = runs.get(r.id);
        if (run) run.end = r;
      }
    }
  }
  return [...runs.values()];
}

async function readLedgerMonth(dir: string, m: string): Promise<Line<LedgerRecord>[]> {
  const file = ledgerFile(dir, m);
  try {
    return await readLines<LedgerRecord>(file);
  } catch (err) {
    throw new AuditError('E_AUDIT_READ', `cannot read ${file}: ${(err as Error).message}`, { hint: 'the audit trail is unreadable: check its permissions, or run `vncplay history verify`' });
  }
}

export async function readRunEvents(dir: string, id: string): Promise<RunEvent[]> {
  const file = runFile(dir, id);
  try {
    return (await readLines<RunEvent>(file)).map((l) => l.r);
  } catch (err) {
    throw new AuditError('E_AUDIT_READ', `cannot read the events of run ${id} (${file}): ${(err as Error).message}`);
  }
}

/** What verify found: problems name the file and line of the record. */
export interface VerifyReport {
  runs: number;
  records: number;
  problems: string[];
  notes: string[];
}

export async function verifyAudit(dir: string): Promise<VerifyReport> {
  const report: VerifyReport = { runs: 0, records: 0, problems: [], notes: [] };
  const months = await ledgerMonths(dir);
  let prev: string | undefined;
  const ends = new Map<string, { end: RunEnd; where: string }>();
  const starts = new Map<string, string>();
  const prunedTails = new Set<string>();
  const ledger: Array<{ line: Line<LedgerRecord> | undefined; where: string; raw: string }> = [];
  for (const m of months) {
    const file = ledgerFile(dir, m);
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new AuditError('E_AUDIT_READ', `cannot read ${file}: ${err.message}`);
    });
    text.split('\n').forEach((raw, i) => {
      if (raw === '') return;
      let parsed: Line<LedgerRecord> | undefined;
      try {
        parsed = JSON.parse(raw) as Line<LedgerRecord>;
      } catch {
        parsed = undefined;
      }
      ledger.push({ line: parsed, where: `${path.basename(file)}:${i + 1}`, raw });
    });
  }
  for (const { line: l } of ledger) if (l?.r?.type === 'pruned') prunedTails.add(l.r.lastHash);
  for (const [index, { line: l, where }] of ledger.entries()) {
    report.records++;
    if (!l || typeof l.prev !== 'string' || typeof l.hash !== 'string' || typeof l.r !== 'object' || l.r === null) {
      report.problems.push(`${where}: not a ledger record (damaged or edited)`);
      prev = undefined;
      continue;
    }
    if (recordHash(l.prev, l.r) !== l.hash) report.problems.push(`${where}: record edited (its content does not match its hash)`);
    if (index === 0) {
      if (l.prev !== GENESIS && !prunedTails.has(l.prev)) report.problems.push(`${where}: records before this one were removed (the chain does not start here, and no pruned record says so)`);
      else if (l.prev !== GENESIS) report.notes.push(`the chain starts at ${where}: older months were removed by the retention`);
    } else if (prev !== undefined && l.prev !== prev) {
      report.problems.push(`${where}: a record before this one was removed or reordered (the chain breaks here)`);
    }
    prev = l.hash;
    if (l.r.type === 'run_start') starts.set(l.r.id, where);
    if (l.r.type === 'run_end') ends.set(l.r.id, { end: l.r, where });
  }
  for (const [id, where] of starts) {
    report.runs++;
    const end = ends.get(id);
    const file = runFile(dir, id);
    let lines: string[];
    try {
      lines = (await readFile(file, 'utf8')).split('\n').filter((x) => x !== '');
    } catch {
      if (end) report.problems.push(`run ${id} (${where}): its event file ${path.relative(dir, file)} is missing`);
      else report.notes.push(`run ${id} (${where}) has no event file and no end: it never started its play`);
      continue;
    }
    let chain = GENESIS;
    lines.forEach((raw, i) => {
      const at = `${path.relative(dir, file)}:${i + 1}`;
      try {
        const l = JSON.parse(raw) as Line<RunEvent>;
        if (recordHash(l.prev, l.r) !== l.hash) report.problems.push(`${at}: event edited (its content does not match its hash)`);
        else if (l.prev !== chain) report.problems.push(`${at}: an event before this one was removed or reordered`);
        chain = l.hash;
      } catch {
        report.problems.push(`${at}: not an event record (damaged or edited)`);
      }
    });
    if (!end) report.notes.push(`run ${id} (${where}) has no end record: still running, or the process was killed`);
    else if (end.end.lastHash !== chain || end.end.events !== lines.length) {
      report.problems.push(`run ${id}: its event file ${path.relative(dir, file)} has ${lines.length} events, the ledger (${end.where}) recorded ${end.end.events}: events were removed or added at its end`);
    }
  }
  for (const [id, { where }] of ends) if (!starts.has(id)) report.problems.push(`${where}: the end of run ${id}, whose start record is missing`);
  return report;
}

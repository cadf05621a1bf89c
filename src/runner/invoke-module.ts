import { setMaxListeners } from 'node:events';
import type { Connection, ExecOptions, ExecResult } from '../connection/types.js';
import { sessionScript } from '../connection/line-session.js';
import { joinArgv } from '../connection/quote.js';
import { writeFileAtomic } from '../connection/write-file.js';
import { ModuleError, VncplayError, type SourcePos } from '../errors.js';
import { renderText } from '../playbook/template.js';
import { issuesText, parseArgs } from '../modules/spec/parse.js';
import { runInBackground, type Background } from '../modules/async-job.js';
import type { TaskError } from './events.js';
import type { AnyModule, Change, DiffEntry, ModuleContext, ModuleEvent, ModuleReturn, RenderOptions, Step, StepOutcome, TaskScope } from '../modules/types.js';
import { SharedTaskScope } from './task-scope.js';

/** How one module call should run on one host. */
export interface InvokeSettings {
  hostName: string;
  conn?: Connection;
  check: boolean;
  diff: boolean;
  become: boolean;
  becomeUser?: string;
  signal: AbortSignal;
  vars: Record<string, unknown>;
  render(template: string, opts?: RenderOptions): string;
  findFile(rel: string, kind: 'files' | 'templates' | 'vars'): Promise<string>;
  log(level: number, line: string): void;
  /** The scope the hosts running this task share (runner/task-scope.ts); a call on its own gets a scope of its own. */
  task?: TaskScope;
  /** A module's own events (ModuleEvent), to the reporters. */
  emit?(event: ModuleEvent): void;
  /** Opens a fresh connection to the host and says whether it worked (firewall lockout check). */
  probeNewConnection?(): Promise<boolean>;
  /**
   * Drops the host's pooled connection and opens a new one (reboot, wait_for_connection); rejects when the host
   * cannot be reached within `connectTimeoutMs`.
   */
  reconnect?(connectTimeoutMs?: number): Promise<Connection>;
  /** Asks the terminal for a line (pause); absent without a terminal. */
  ask?(question: string, echo: boolean): Promise<string>;
  /** Task `environment:`: every host command of the module runs under env(1) with these variables. */
  environment?: Record<string, string>;
  /** `async:`/`poll:`: the module's command runs as a background job on the host. */
  background?: Background;
}

export interface InvokeResult {
  changed: boolean;
  failed: boolean;
  skipped: boolean;
  msg?: string;
  facts?: Record<string, unknown>;
  includedVars?: Record<string, unknown>;
  noLog?: boolean;
  data: Record<string, unknown>;
  diff: DiffEntry[];
  meta?: ModuleReturn['meta'];
  inventory?: ModuleReturn['inventory'];
  /** Set when the arguments were refused (the code and hint of the first problem). */
  error?: TaskError;
  /** What a planned module meant to do: its changes' summaries, in order (empty: nothing to change). */
  planned?: string[];
  /** Why a planned module changed nothing (`service vnc@1 is running`), also logged at -v. */
  noop?: string;
}

/** What is wrong with the rendered arguments (the playbook allowed templates), or undefined. */
export function checkArgs(mod: AnyModule, args: Record<string, unknown>): string | undefined {
  const parsed = argsForHooks(mod, args);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** Rendered arguments the spec refused: the message, and the first problem's code and hint for the event. */
export interface ArgsProblem {
  problem: string;
  error: TaskError;
}

/** The arguments the module's hooks get: parsed by its spec (converted, aliases resolved, defaults filled in). */
export function argsForHooks(mod: AnyModule, args: Record<string, unknown>): { args: Record<string, unknown> } | ArgsProblem {
  const parsed = parseArgs(mod.spec, args, { owner: mod.name, rendered: true });
  const first = parsed.issues[0];
  if (!first) return { args: parsed.args };
  return { problem: issuesText(mod.name, parsed.issues), error: { code: first.code, ...(first.hint ? { hint: first.hint } : {}) } };
}

export async function invokeModule(
  mod: AnyModule,
  rendered: Record<string, unknown>,
  s: InvokeSettings,
): Promise<InvokeResult> {
  const parsed = argsForHooks(mod, rendered);
  if ('problem' in parsed) return { ...failure(parsed.problem), error: parsed.error };
  const args = parsed.args;
  const ctx = moduleContext(s);
  if (mod.kind === 'action') {
    if (s.check && mod.inCheckMode === 'skip') {
      return { changed: false, failed: false, skipped: true, msg: 'skipped in check mode', data: {}, diff: [] };
    }
    if (s.background) {
      const command = mod.asyncCommand?.(args) ?? `${mod.name} cannot run in the background`;
      return fromReturn(await runInBackground(command, ctx, s.background));
    }
    return fromReturn(await mod.run(args, ctx));
  }
  if (s.background) return failure(`${mod.name} cannot run in the background`);
  const facts: unknown = await mod.gather(args, ctx);
  const changes = mod.plan(args, facts);
  const diff = changes.flatMap((c) => (c.diff ? [c.diff] : []));
  const report = mod.report?.(args, facts) ?? {};
  const planned = changes.map((c) => c.summary);
  if (changes.length === 0) {
    const noop = mod.noop?.(args, facts);
    if (noop !== undefined) ctx.log(1, noop);
    return { changed: false, failed: false, skipped: false, data: report, diff, planned, ...(noop !== undefined ? { noop } : {}) };
  }
  if (s.check) return { changed: true, failed: false, skipped: false, data: report, diff, planned, ...summaryMsg(changes) };
  const outcomes: StepOutcome[] = [];
  // Without finish() nothing reads a step's own output, so a change's consecutive commands may share one exec.
  const stepFailure = await runSteps(changes, ctx, s, outcomes, mod.finish === undefined);
  if (stepFailure) return { ...failure(stepFailure.msg), changed: !stepFailure.undone && !mod.unchangedWhenFailed && outcomes.length > 0, data: stepFailure.data, diff };
  if (mod.finish) {
    const ret = fromReturn(await mod.finish(args, facts, outcomes, ctx));
    return { ...ret, changed: ret.changed || changes.length > 0, diff: ret.diff.length ? ret.diff : diff, planned };
  }
  return { changed: true, failed: false, skipped: false, data: report, diff, planned, ...summaryMsg(changes) };
}

function summaryMsg(changes: Change[]): { msg?: string } {
  return changes.length ? { msg: changes.map((c) => c.summary).join('; ') } : {};
}

async function runSteps(
  changes: Change[],
  ctx: ModuleContext,
  s: InvokeSettings,
  outcomes: StepOutcome[],
  batch: boolean,
): Promise<{ msg: string; data: Record<string, unknown>; undone?: boolean } | undefined> {
  for (const change of changes) {
    const groups = batch ? batchedSteps(change.steps) : change.steps.map((step) => [step]);
    for (const group of groups) {
      if (s.signal.aborted && outcomes.length === 0) throw new VncplayError('E_INTERRUPTED', 'interrupted');
      const step = group[0]!;
      switch (step.kind) {
        case 'exec': {
          const execs = group as ExecStep[];
          const opts: ExecOptions = {};
          if (step.become !== undefined) opts.become = step.become;
          if (step.stdin !== undefined) opts.stdin = step.stdin;
          const { failedStep: failed, ...res } = await execGroup(ctx, execs, opts);
          for (const e of execs) {
            outcomes.push({ step: e, exec: res });
            if (e === failed) break;
          }
          if (failed?.undoesOnFailure) return { msg: res.stderr.trim(), data: {}, undone: true };
          if (failed) {
            // The message names the change, not the argv: a module's helper script is noise to the reader.
            return {
              msg: `${change.summary}: exited ${res.rc}: ${(res.stderr || res.stdout).trim()}`,
              data: { rc: res.rc, stdout: res.stdout, stderr: res.stderr, ...(failed.secret ? {} : { cmd: failed.argv }) },
            };
          }
          break;
        }
        case 'write': {
          if (!s.conn) throw new ModuleError('E_NO_CONNECTION', 'a write step needs a host connection');
          const opts: Parameters<typeof writeFileAtomic>[3] = { become: s.become };
          if (s.becomeUser !== undefined) opts.becomeUser = s.becomeUser;
          if (step.mode !== undefined) opts.mode = step.mode;
          if (step.owner !== undefined) opts.owner = step.owner;
          if (step.group !== undefined) opts.group = step.group;
          await writeFileAtomic(s.conn, step.path, step.content, opts);
          outcomes.push({ step });
          break;
        }
        case 'call': {
          outcomes.push({ step, value: await step.run(UNTIL_DONE) });
          break;
        }
      }
    }
  }
  return undefined;
}

type ExecStep = Extract<Step, { kind: 'exec' }>;

/** Consecutive plain commands of one change (no stdin, no secret, the same become) form one group. */
export function batchedSteps(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  const batchable = (st: Step): st is ExecStep => st.kind === 'exec' && st.stdin === undefined && !st.secret;
  for (const step of steps) {
    const last = groups.at(-1);
    const prev = last?.[0];
    if (last && prev && batchable(prev) && batchable(step) && prev.become === step.become) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/**
 * Several commands in one exec (one round trip, one shell): each runs in turn, the first failure stops the rest
 * and names itself on stderr's last line. Each command is a joinArgv line, so eval runs exactly its argv.
 */
const STEPS_SCRIPT = sessionScript(
  'steps',
  `i=0
for c in "$@"; do
  i=$((i + 1))
  eval "$c" || { rc=$?; printf 'vncplay-step %d\\n' "$i" >&2; exit "$rc"; }
done`,
);

/** One command as it is; several in one exec (execBatch). `failedStep`: the step that failed, if one did. */
async function execGroup(ctx: ModuleContext, steps: ExecStep[], opts: ExecOptions): Promise<ExecResult & { failedStep?: ExecStep }> {
  if (steps.length > 1) return execBatch(ctx, steps, opts);
  const res = await ctx.exec(steps[0]!.argv, opts);
  return res.rc === 0 ? res : { ...res, failedStep: steps[0]! };
}

export async function execBatch(ctx: ModuleContext, steps: ExecStep[], opts: ExecOptions): Promise<ExecResult & { failedStep?: ExecStep }> {
  const res = await ctx.exec(['sh', '-c', STEPS_SCRIPT, 'vncplay-steps', ...steps.map((st) => joinArgv(st.argv))], opts);
  if (res.rc === 0) return res;
  // The failing command's own stderr, without the marker; a result without one (the shell died) blames the last.
  const marker = /vncplay-step (\d+)\n$/.exec(res.stderr);
  const failedStep = (marker ? steps[Number(marker[1]) - 1] : undefined) ?? steps[steps.length - 1]!;
  return { ...res, stderr: marker ? res.stderr.slice(0, marker.index) : res.stderr, failedStep };
}

/**
 * The first Ctrl-C (s.signal) means "start nothing new": a change whose first step has begun runs all its steps and
 * finish() to the end, and a host command already running is not killed (killing a step midway is how a firewall
 * ends up applied but reported failed, or a restart half done). A second Ctrl-C exits the process at once.
 * Steps and host commands therefore get no abort signal; controller-side calls get this one, which never fires.
 */
const UNTIL_DONE: AbortSignal = new AbortController().signal;
setMaxListeners(0, UNTIL_DONE);

/** ctx.render: a text rendered with the task's variables, and the extra ones a module adds (template's template_*). */
export function moduleRender(vars: Record<string, unknown>, where?: SourcePos): InvokeSettings['render'] {
  return (text, o = {}) =>
    renderText(text, o.extraVars ? { ...vars, ...o.extraVars } : vars, where, {
      ...(o.trimBlocks !== undefined ? { trimBlocks: o.trimBlocks } : {}),
      ...(o.lstripBlocks !== undefined ? { lstripBlocks: o.lstripBlocks } : {}),
      ...(o.file !== undefined ? { file: o.file } : {}),
    });
}

/** The context a module's hooks get for these settings (exported for the test harness, test/support/module-harness.ts). */
export function moduleContext(s: InvokeSettings): ModuleContext {
  // A reconnect replaces the connection every later exec of this module uses.
  let conn = s.conn;
  const exec = (argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> => {
    if (!conn) throw new ModuleError('E_NO_CONNECTION', `module needs a host connection on ${s.hostName}`);
    // No default signal: see UNTIL_DONE. A module that waits (wait_for) passes ctx.signal itself to stop early.
    const merged: ExecOptions = { become: s.become, ...opts };
    if (merged.become && merged.becomeUser === undefined && s.becomeUser !== undefined) merged.becomeUser = s.becomeUser;
    const env = s.environment ? Object.entries(s.environment).map(([k, v]) => `${k}=${v}`) : [];
    if (env.length === 0) return conn.exec(argv, merged);
    // env takes every leading NAME=value word as an assignment: a program named so is exec'd by sh instead.
    const program = argv[0]?.includes('=') ? ['sh', '-c', 'exec "$0" "$@"', ...argv] : argv;
    return conn.exec(['env', ...env, ...program], merged);
  };
  const ctx: ModuleContext = {
    hostName: s.hostName,
    exec,
    check: s.check,
    diff: s.diff,
    signal: s.signal,
    vars: s.vars,
    render: s.render,
    findFile: s.findFile,
    log: s.log,
    task: s.task ?? new SharedTaskScope(),
  };
  if (s.conn) ctx.conn = s.conn;
  if (s.emit) ctx.emit = s.emit;
  if (s.ask) ctx.ask = s.ask;
  const reconnect = s.reconnect;
  if (reconnect) {
    ctx.reconnect = async (connectTimeoutMs) => {
      conn = await reconnect(connectTimeoutMs);
      ctx.conn = conn;
    };
  }
  if (s.probeNewConnection) ctx.probeNewConnection = s.probeNewConnection;
  return ctx;
}

function fromReturn(r: ModuleReturn): InvokeResult {
  const out: InvokeResult = {
    changed: r.changed ?? false,
    failed: r.failed ?? false,
    skipped: r.skipped ?? false,
    data: r.data ?? {},
    diff: r.diff ?? [],
  };
  if (r.msg !== undefined) out.msg = r.msg;
  if (r.facts) out.facts = r.facts;
  if (r.includedVars) out.includedVars = r.includedVars;
  if (r.noLog) out.noLog = true;
  if (r.meta) out.meta = r.meta;
  if (r.inventory) out.inventory = r.inventory;
  return out;
}

function failure(msg: string): InvokeResult {
  return { changed: false, failed: true, skipped: false, msg, data: {}, diff: [] };
}

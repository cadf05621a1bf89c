import type { Connection, ExecOptions, ExecResult } from '../connection/types.js';
import type { InventoryUpdate } from '../inventory/dynamic.js';
import type { ModuleSpec } from './spec/types.js';

/** JSON Schema (draft 2020-12) for a module's arguments. Also feeds schemas/playbook.schema.json. */
export type ArgSchema = Record<string, unknown> & { type: 'object'; properties: Record<string, unknown> };

export type Step =
  | {
      kind: 'exec';
      argv: string[];
      become?: boolean;
      stdin?: string | Uint8Array;
      secret?: boolean;
      /**
       * When this command fails it has put back what the change's earlier steps did (apt_repository's cache update
       * restores the sources files): the task is failed but not changed, and the command's stderr is the message.
       */
      undoesOnFailure?: boolean;
    }
  | { kind: 'write'; path: string; content: string | Uint8Array; mode?: string; owner?: string; group?: string }
  | { kind: 'call'; label: string; run(signal: AbortSignal): Promise<unknown> };

/** A before/after pair the runner shows under --diff. Text content gets a unified diff. */
export interface DiffEntry {
  path?: string;
  before?: string | Record<string, unknown>;
  after?: string | Record<string, unknown>;
  beforeHeader?: string;
  afterHeader?: string;
  /** Why no text diff is shown ("diff skipped: destination file appears to be binary"), printed instead of it. */
  skipped?: string[];
}

export interface Change {
  summary: string;
  diff?: DiffEntry;
  steps: Step[];
}

/** What a step produced, in order; an exec that exits non-zero stops the remaining steps of the task. */
export interface StepOutcome {
  step: Step;
  exec?: ExecResult;
  value?: unknown;
}

/** Whitespace control of the template module (Jinja2's trim_blocks / lstrip_blocks). */
export interface RenderOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** Extra variables over the task's (template adds ansible_managed, template_path, template_host …). */
  extraVars?: Record<string, unknown>;
  /** The template file's path, so errors point at file:line:col inside it. */
  file?: string;
}

/** The context every module gets: the host's connection with the task's become settings baked in. */
export interface ModuleContext {
  hostName: string;
  /** Absent for controller modules. */
  conn?: Connection;
  /** exec on the host with the task's become settings (override per call). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  check: boolean;
  diff: boolean;
  signal: AbortSignal;
  /** All variables visible to the task on this host (rendered lazily by the runner). */
  vars: Record<string, unknown>;
  /**
   * Render a Jinja2 template string with the task's variables (used by `template`). `opts` carries the template
   * module's whitespace options; a renderer may ignore it when it only supports Ansible's defaults
   * (trimBlocks true, lstripBlocks false).
   */
  render(template: string, opts?: RenderOptions): string;
  /** Find a controller-side file for `src:` (role files/, templates/, then the playbook's folder). */
  findFile(rel: string, kind: 'files' | 'templates' | 'vars'): Promise<string>;
  /** Emit a line at -v level (never shown unless asked; the runner redacts it under no_log). */
  log(level: number, line: string): void;
  /**
   * Open a NEW connection to the host (fresh TCP + SSH handshake + `true`), close it, and say whether it worked.
   * The firewall module calls it after a change to prove it did not lock vncplay out; absent for local hosts.
   */
  probeNewConnection?(): Promise<boolean>;
  /**
   * Shared by every host running this task at the same time, and gone when the last of them is done (the strategy's
   * per-task place, `runner/task-scope.ts`): a controller-side module reads and changes a cloud resource once for
   * all of them. Never a cache across tasks: the next task gets a new scope.
   */
  task: TaskScope;
  /**
   * Tell the run's reporters something besides the result (a failover drill's phase and timings): the runner adds
   * the time and the host and hands it to every reporter (the --json NDJSON, the plain output); absent outside a run.
   */
  emit?(event: ModuleEvent): void;
  /**
   * Close the host's connection, drop it from the run's pool and open a new one, which this module's later execs
   * and the following tasks use (reboot, wait_for_connection). Rejects when the host does not answer within
   * `connectTimeoutMs` (default: the connection's own timeout). Absent for the local connection.
   */
  reconnect?(connectTimeoutMs?: number): Promise<void>;
  /**
   * Ask the person at the controller's terminal for a line (pause's prompt); absent when there is no terminal.
   * `echo: false` hides what is typed.
   */
  ask?(question: string, echo: boolean): Promise<string>;
}

/** Values computed once for the hosts running one task together (see ModuleContext.task). */
export interface TaskScope {
  /** The value of `compute`, computed by the first host that asks for `key`; a failure is not shared. */
  once<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** What `key` described has changed (a step ran): the next host that asks computes it again. */
  forget(key: string): void;
}

/** What a module may tell the reporters during a task; a new kind of event is one more member here. */
export type ModuleEvent = { type: 'drill'; phase: string; data: Record<string, unknown> };

/** What a module hands back; becomes the task's registered result (`register:`). */
export interface ModuleReturn {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  /** Variables to set on the host (`set_fact`, `ansible_facts`). */
  facts?: Record<string, unknown>;
  /**
   * Variables read from vars files (`include_vars`): as written, templates kept, so they render when read (a value
   * may refer to another of the same file), at include_vars' precedence (above task vars, below set_fact).
   */
  includedVars?: Record<string, unknown>;
  /** Hide this result from output as `no_log: true` would (include_vars of a vault-encrypted file, as Ansible does). */
  noLog?: boolean;
  /** Extra keys of the registered result: rc, stdout, stat, status, elapsed … */
  data?: Record<string, unknown>;
  diff?: DiffEntry[];
  /** A change to the run's inventory (add_host, group_by): the runner applies it and decides `changed`. */
  inventory?: InventoryUpdate;
  /** Meta actions for the runner (`meta: flush_handlers`, `end_host`, …). */
  meta?: 'flush_handlers' | 'end_play' | 'end_host' | 'clear_facts' | 'noop' | 'refresh_inventory' | 'reset_connection';
}

/**
 * A file on the controller a module reads (copy's and template's `src`). The loader looks for it where the runner
 * will (the role's `kind` folder, then beside the playbook), so a missing file is an error before any host is
 * contacted; a template's syntax and a vault file's password are checked there too.
 */
export interface ControllerFile {
  /** The argument whose value is the file's path (a template still to render is checked at run time). */
  param: string;
  kind: 'files' | 'templates';
  /** A vault-encrypted file is decrypted when copied: it must open with the run's vault passwords. */
  decrypt?: boolean;
}

/** What a module runs in the background under `async:` (src/modules/async-job.ts). */
export interface AsyncCommand {
  /** The program and its arguments. */
  argv: string[];
  /** The result's `cmd`, as the module reports it in the foreground. */
  cmd: unknown;
}

interface ModuleBase<Args> {
  /** Canonical short name: 'systemd'. */
  name: string;
  /** Runs once per batch, for its first host, as Ansible's BYPASS_HOST_LOOP action plugins (add_host) do. */
  bypassHostLoop?: boolean;
  /** Other names that select it ('systemd_service', 'ansible.builtin.systemd' is automatic). */
  aliases?: string[];
  /** For editors, the README and key=value conversion; generated from `spec` when the module has one. */
  schema: ArgSchema;
  /**
   * The declarative argument spec (src/modules/spec/, docs/ARCHITECTURE.md). The loader and the runner parse the
   * arguments with it, and the hooks receive the parsed, typed arguments. Declared through
   * actionModule()/plannedModule() (src/modules/spec/define.ts), which also derive `schema` and `secretArgs`.
   */
  spec: ModuleSpec;
  /** Key a free-form string argument goes under (`command: ls` → { cmd: 'ls' }). */
  freeForm?: string;
  where: 'host' | 'controller';
  /** Arguments that never appear in output (passwords, keys). */
  secretArgs?: string[];
  /**
   * Variables the module sets on the host besides `ansible_facts` (package_facts: `packages`), so the load-time
   * check of undefined variables knows a later task may read them.
   */
  factNames?: readonly string[];
  /** The controller files these (load-time) arguments name; parameters still to render are absent from `args`. */
  controllerFiles?(args: Args): ControllerFile[];
  /**
   * Modules that run under `async:` have this: the command to run in the background for these arguments, or why
   * these arguments cannot (a string). A task with `async:` on a module without it is refused at load.
   */
  asyncCommand?(args: Args): AsyncCommand | string;
}

/**
 * Declarative module: read-only gather (ideally one remote command), then a pure plan. The runner decides what
 * --check means (plan, do not run steps), what --diff shows, and what changed is (any Change).
 */
export interface PlannedModule<Args = Record<string, unknown>, Facts = unknown> extends ModuleBase<Args> {
  kind: 'planned';
  gather(args: Args, ctx: ModuleContext): Promise<Facts>;
  plan(args: Args, facts: Facts): Change[];
  /** Optional after the steps ran (not in check mode): verify and shape the registered result. */
  finish?(args: Args, facts: Facts, outcomes: StepOutcome[], ctx: ModuleContext): Promise<ModuleReturn>;
  /** Return data of the registered result when nothing needed to change (or in check mode). */
  report?(args: Args, facts: Facts): Record<string, unknown>;
  /**
   * Why the plan is empty, said from the facts (`service vnc@1 is running`, pyinfra's noop): shown at -v. Called
   * only when plan() returned no change.
   */
  noop?(args: Args, facts: Facts): string | undefined;
  /**
   * A failed step leaves the task unchanged even when earlier steps ran, as the Ansible module reports it: its
   * fail_json carries no `changed` (docker_container: a container created but failing to start, a failed pull).
   */
  unchangedWhenFailed?: true;
}

/** Imperative module (command, debug, set_fact, wait_for …): state cannot be read ahead, so it just runs. */
export interface ActionModule<Args = Record<string, unknown>> extends ModuleBase<Args> {
  kind: 'action';
  /** 'skip': in --check the task is reported skipped (like Ansible's command); 'run': it runs anyway (read-only). */
  inCheckMode: 'skip' | 'run';
  run(args: Args, ctx: ModuleContext): Promise<ModuleReturn>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds modules of every Args type
export type AnyModule = PlannedModule<any, any> | ActionModule<any>;

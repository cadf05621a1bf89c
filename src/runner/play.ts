import { readFile } from 'node:fs/promises';
import { formatExcerpt, PlaybookError, VncplayError } from '../errors.js';
import type { Gathering, PlayDef, RoleScope, TaskDef } from '../playbook/model.js';
import {
  implicitTask,
  includedRoleTasks,
  includedTasks,
  inheritKeywords,
  NOTHING_INHERITED,
  planTasks,
  rescueWith,
  roleDirOf,
  taskSearchPath,
  type PlannedBlock,
  type PlannedInclude,
  type PlanNode,
} from '../playbook/plan.js';
import { loadIncludedRole, loadTaskFile, type IncludeRoleArgs, type LoadedRole } from '../playbook/load.js';
import { toBoolean } from '../modules/spec/convert.js';
import { moduleOfTask } from '../modules/registry.js';
import { markUnsafe, render, unwrapUnsafe } from '../playbook/template.js';
import { buildHostScope, type MagicVars } from '../playbook/vars.js';
import type { PlayRun, RunEnv } from './context.js';
import { asRegistered, conditionsHold, executeTask, loopItemsUnlessSkipped, loopItemVars, taskRef, truthy, type TaskOutcome } from './execute-task.js';
import { now } from './events.js';
import type { HostState } from './host-state.js';
import { FreeGate, Rounds, type Gate } from './rounds.js';
import { tagsSelected } from './tags.js';

type Flow = 'ok' | 'failed' | 'stop';

/**
 * How deep include_tasks may nest on one host. A file that includes itself needs a `when:` that ends the recursion;
 * without one, this stops it with a positioned error. Ansible has no limit of its own: it stops at about 245
 * levels, when Python's recursion limit is hit ("Exceeded maximum object depth"), after minutes.
 */
const MAX_INCLUDE_DEPTH = 64;

/**
 * Runs one batch of a play: pre_tasks, roles, tasks, post_tasks, with handler flushes after each section,
 * one walk per host, kept in lockstep by the linear strategy or free-running under the free strategy.
 */
/**
 * The hosts of a batch whose failure stands (not rescued), and among them those that failed a task with
 * `any_errors_fatal` (the task's, its blocks' or the play's): Ansible's linear strategy then ends the play for all.
 */
export class BatchFailures {
  readonly failed = new Set<string>();
  readonly fatal = new Set<string>();

  add(host: string, fatal: boolean): void {
    this.failed.add(host);
    if (fatal) this.fatal.add(host);
  }

  rescued(host: string): void {
    this.failed.delete(host);
    this.fatal.delete(host);
  }
}

export async function runBatch(env: RunEnv, run: PlayRun, shouldAbort: (failures: BatchFailures) => boolean): Promise<BatchFailures> {
  const play = run.play;
  const failedInBatch = new BatchFailures();
  // Before each round (linear) or task (free): stop everyone once the play must end.
  const check = (): boolean => !env.interrupted() && !shouldAbort(failedInBatch);
  const gate: Gate = play.strategy === 'free' ? new FreeGate(check) : new Rounds(run.batch, check);
  await Promise.all(
    run.batch.map(async (name) => {
      const hs = env.hosts.get(name)!;
      try {
        await walkHost(env, run, hs, gate, failedInBatch);
      } finally {
        gate.leave(name);
      }
    }),
  );
  return failedInBatch;
}

async function walkHost(env: RunEnv, run: PlayRun, hs: HostState, gate: Gate, failedInBatch: BatchFailures): Promise<void> {
  const play = run.play;
  const walker = new HostWalker(env, run, hs, gate, failedInBatch);
  const root = { ...NOTHING_INHERITED, tags: play.tags };
  const sections: TaskDef[][] = [
    // Ansible's implicit first task: facts, one cheap command, counted as ok like ansible-playbook counts it.
    [...(gathersFacts(play, env.settings.gathering, hs) ? [gatheringFactsTask(play)] : []), ...play.preTasks],
    [...play.roleTasks, ...play.tasks],
    play.postTasks,
  ];
  for (const section of sections) {
    const flow = await walker.runList(planTasks(section, root));
    if (flow === 'failed') {
      hs.failed = true;
      return;
    }
    if (flow === 'stop' || hs.endedPlay) return;
    if ((await walker.flushHandlers()) !== 'ok') return;
  }
}

class HostWalker {
  /**
   * The task that failed last, for `ansible_failed_task` / `ansible_failed_result` in a rescue; `shared` when it was
   * another host's run_once result (Ansible counts the failure, and its rescue, for the host that ran it only).
   */
  private lastFailure?: { task: TaskDef; result: Record<string, unknown>; shared?: boolean };
  /** How many include_tasks files and include_role roles are being run, one inside the other. */
  private includeDepth = 0;
  /** Set while handlers run: tasks a handler includes are shown as handlers too. */
  private inHandlers = false;
  /** Variables of roles included with `public: true`: visible to the rest of the play on this host. */
  private readonly publicRoleScopes: RoleScope[] = [];

  constructor(
    private readonly env: RunEnv,
    private readonly run: PlayRun,
    private readonly hs: HostState,
    private readonly gate: Gate,
    private readonly failedInBatch: BatchFailures,
  ) {}

  async runList(nodes: readonly PlanNode[]): Promise<Flow> {
    for (const node of nodes) {
      const flow = await this.runOne(node);
      if (flow !== 'ok') return flow;
      if (this.hs.endedPlay) return 'stop';
    }
    return 'ok';
  }

  private async runOne(node: PlanNode): Promise<Flow> {
    switch (node.kind) {
      case 'block':
        return this.runBlock(node);
      case 'include':
        if (node.what === 'tasks') return this.runInclude(node);
        return node.task.loop !== undefined ? this.runLoopedIncludeRole(node) : this.runIncludeRole(node);
      case 'task':
        return this.runLeaf(node.task, this.inHandlers);
    }
  }

  private async runBlock(block: PlannedBlock): Promise<Flow> {
    let flow = await this.runList(block.block);
    if (flow === 'failed' && block.rescue) {
      if (this.lastFailure?.shared !== true) {
        this.hs.stats.failed = Math.max(0, this.hs.stats.failed - 1);
        this.hs.stats.rescued++;
      }
      this.failedInBatch.rescued(this.hs.name);
      flow = await this.runList(rescueWith(block, this.failureVars()));
    }
    if (block.always && flow !== 'stop') {
      const always = await this.runList(block.always);
      if (always !== 'ok') return always;
    }
    return flow;
  }

  /**
   * include_tasks, as Ansible runs a dynamic include: a task of its own (its tags select it, it is ok or skipped in
   * the recap), whose file is loaded when it is reached, on this host. Its tags are its own (Ansible's `apply:` is
   * not supported); its vars and the enclosing blocks' keywords reach the included tasks.
   */
  private async runInclude(include: PlannedInclude): Promise<Flow> {
    const { task: eff, source: task } = include;
    if (!tagsSelected(eff.tags, this.env.settings.tags, this.env.settings.skipTags)) return 'ok';
    // Before --start-at-task's task the include is only walked through (that task may be in its file): no result.
    const counted = !this.env.skippingToStart;
    if (counted && !(await this.gate.arrive(this.hs.name))) return 'stop';
    const vars = this.varsFor(eff);
    if (task.loop !== undefined) return this.runIncludeLoop(include, vars, counted);
    if (!conditionsHold(eff.when, vars, eff)) {
      if (counted) this.includeResult(task, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' });
      return 'ok';
    }
    return this.includeFile(include, vars, counted, {});
  }

  /**
   * A looped include_tasks (`loop:` or `with_<lookup>:`, e.g. with_first_found over setup-{{ ansible_os_family }}.yml),
   * as Ansible runs it: `when` is checked per item, each item's file is loaded and run with the loop variable (and
   * index_var) set, and counts as one ok include; no items at all is one skipped include.
   */
  private async runIncludeLoop(include: PlannedInclude, vars: Record<string, unknown>, counted: boolean): Promise<Flow> {
    const { task: eff, source: task } = include;
    const items = includeLoopItems(task, vars, eff);
    if (items === 'skipped') {
      if (counted) this.includeResult(task, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' });
      return 'ok';
    }
    if (items instanceof VncplayError) return this.failInclude(task, items);
    if (items.length === 0) {
      if (counted) this.includeResult(task, 'skipped', { changed: false, skipped: true, skipped_reason: 'No items in the list', results: [] });
      return 'ok';
    }
    for (const [index, item] of items.entries()) {
      const own = loopItemVars(task, vars, item, index, items.length);
      if (!conditionsHold(eff.when, { ...vars, ...own }, eff)) continue;
      // The included tasks see the loop variable and index_var (not ansible_loop, as in Ansible).
      const { ansible_loop: _loop, ansible_loop_var: _name, ...passed } = own;
      const flow = await this.includeFile(include, { ...vars, ...own }, counted, passed);
      if (flow !== 'ok') return flow;
    }
    return 'ok';
  }

  /** Load the include's file (its name rendered with `vars`) and run its tasks, with `extraVars` set for them. */
  private async includeFile(include: PlannedInclude, vars: Record<string, unknown>, counted: boolean, extraVars: Record<string, unknown>): Promise<Flow> {
    const task = include.source;
    let file: string;
    let loaded: TaskDef[];
    try {
      file = String(render(task.includeTasks, vars, task.pos));
      if (this.includeDepth >= MAX_INCLUDE_DEPTH) return this.failInclude(task, await includeDepthError(task, file));
      loaded = await loadTaskFile(file, { includedFrom: task, playbookDir: this.env.playbookDir });
    } catch (err) {
      // An undefined variable in the path, a missing or broken file: this host fails, as in Ansible; the others go on.
      if (err instanceof VncplayError) return this.failInclude(task, err);
      throw err;
    }
    const item = task.loop !== undefined ? { [task.loopVar]: unwrapUnsafe(extraVars[task.loopVar]) } : {};
    if (counted) this.includeResult(task, 'ok', { changed: false, include: file, ...item });
    this.includeDepth++;
    try {
      return await this.runList(includedTasks(include, loaded, extraVars));
    } finally {
      this.includeDepth--;
    }
  }

  /**
   * An include_role with a loop: included once per item, in order, with the item in the loop variable (and its
   * `when` decided per item), as Ansible includes a role per item. (A looped include_tasks: runIncludeLoop.)
   */
  private async runLoopedIncludeRole(include: PlannedInclude): Promise<Flow> {
    const { task: eff, source: task } = include;
    if (!tagsSelected(eff.tags, this.env.settings.tags, this.env.settings.skipTags)) return 'ok';
    const vars = this.varsFor(eff);
    const items = includeLoopItems(task, vars, eff);
    if (items === 'skipped') {
      this.includeResult(task, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' });
      return 'ok';
    }
    if (items instanceof VncplayError) return this.failInclude(task, items);
    if (items.length === 0) {
      this.includeResult(task, 'skipped', { changed: false, skipped: true, skipped_reason: 'No items in the list', results: [] });
      return 'ok';
    }
    for (const [index, item] of items.entries()) {
      const { ansible_loop: _loop, ansible_loop_var: _name, ...own } = loopItemVars(task, vars, item, index, items.length);
      // ansible-playbook shows an include_role's header once for the whole loop.
      const flow = await this.runIncludeRole(include, own, index === 0);
      if (flow !== 'ok') return flow;
    }
    return 'ok';
  }

  /**
   * include_role, as Ansible runs it: when reached on this host, its name and files rendered with the host's
   * variables. Like include_tasks its own tags select it and its `when` decides (skipped counts); unlike it, it has
   * no result of its own when it runs (ansible-playbook shows only its header). The role's defaults and vars are
   * seen by its tasks (and, with `public`, by the rest of the play); its handlers join the play's.
   */
  private async runIncludeRole(include: PlannedInclude, loopVars: Record<string, unknown> = {}, announce = true): Promise<Flow> {
    const task = include.source;
    const eff: TaskDef = { ...include.task, vars: { ...include.task.vars, ...loopVars } };
    if (!tagsSelected(eff.tags, this.env.settings.tags, this.env.settings.skipTags)) return 'ok';
    const counted = !this.env.skippingToStart;
    if (counted && !(await this.gate.arrive(this.hs.name))) return 'stop';
    const vars = this.varsFor(eff);
    if (!conditionsHold(eff.when, vars, eff)) {
      if (counted) this.includeResult(task, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' });
      return 'ok';
    }
    const spec = task.includeRole!;
    let role: LoadedRole;
    let isPublic: boolean;
    try {
      const text = (v: unknown): string | undefined => (v === undefined ? undefined : String(render(v, vars, task.pos)));
      const args: IncludeRoleArgs = { name: text(spec.name)! };
      for (const k of ['tasksFrom', 'varsFrom', 'defaultsFrom', 'handlersFrom'] as const) {
        const v = text(spec[k]);
        if (v !== undefined) args[k] = v;
      }
      isPublic = spec.public !== undefined && toBoolean(render(spec.public, vars, task.pos)) === true;
      if (this.includeDepth >= MAX_INCLUDE_DEPTH) return this.failInclude(task, await includeDepthError(task, args.name));
      role = await loadIncludedRole(task, args);
    } catch (err) {
      if (err instanceof VncplayError) return this.failInclude(task, err);
      throw err;
    }
    if (counted && announce) this.env.emit({ type: 'task_start', time: now(), host: this.hs.name, task: taskRef(task, this.inHandlers) });
    this.addHandlers(role.handlers);
    if (isPublic) this.publicRoleScopes.push(role.scope);
    this.includeDepth++;
    try {
      return await this.runList(includedRoleTasks(include, role.tasks, role.scope, loopVars));
    } finally {
      this.includeDepth--;
    }
  }

  /** Handlers of an included role join the play's (once: a role named literally brought them at load). */
  private addHandlers(handlers: TaskDef[]): void {
    const key = (t: TaskDef): string => `${t.pos.file}:${t.pos.line}:${t.pos.col}`;
    const known = new Set([...this.run.play.handlers, ...this.run.includedHandlers].map(key));
    this.run.includedHandlers.push(...handlers.filter((h) => !known.has(key(h))));
  }

  /** The include task's own result: counted in the recap as ansible-playbook counts it. */
  private includeResult(task: TaskDef, status: 'ok' | 'skipped' | 'failed', result: Record<string, unknown>): void {
    const ref = taskRef(task, this.inHandlers);
    const msg = result['msg'];
    this.env.emit({ type: 'task_start', time: now(), host: this.hs.name, task: ref });
    this.env.emit({
      type: 'task_result',
      time: now(),
      host: this.hs.name,
      task: ref,
      status,
      changed: false,
      failed: status === 'failed',
      ...(typeof msg === 'string' ? { msg } : {}),
      result,
      durationMs: 0,
    });
    this.count({ status, result });
  }

  /** An include that cannot run on this host fails there like a task: a rescue sees it, the recap counts it. */
  private failInclude(task: TaskDef, error: VncplayError): Flow {
    const result = { changed: false, failed: true, msg: error.format() };
    this.includeResult(task, 'failed', result);
    this.failedInBatch.add(this.hs.name, truthy(task.anyErrorsFatal, this.varsFor(task), task));
    this.lastFailure = { task, result };
    return 'failed';
  }

  /** A single task (or handler) on this host, through the gate and the fork limit. */
  private async runLeaf(task: TaskDef, handler: boolean): Promise<Flow> {
    const env = this.env;
    if (!tagsSelected(task.tags, env.settings.tags, env.settings.skipTags)) return 'ok';
    if (env.skippingToStart) {
      if (task.name === env.settings.startAtTask) env.skippingToStart = false;
      else return 'ok';
    }
    if (!(await this.gate.arrive(this.hs.name))) return 'stop';
    const vars = this.varsFor(task);
    const outcome = await this.runShared(task, vars, handler);
    this.count(outcome);
    if (outcome.status === 'unreachable') {
      this.hs.unreachable = true;
      this.failedInBatch.add(this.hs.name, truthy(task.anyErrorsFatal, vars, task));
      return 'stop';
    }
    if (outcome.status === 'failed') {
      // Ansible's linear strategy: `if (task.any_errors_fatal or run_once) and not task.ignore_errors`.
      this.failedInBatch.add(this.hs.name, outcome.runOnce === true || truthy(task.anyErrorsFatal, vars, task));
      this.lastFailure = { task, result: outcome.result, ...(outcome.shared ? { shared: true } : {}) };
      return 'failed';
    }
    return this.applyMeta(outcome);
  }

  /** run_once (and add_host, which bypasses the host loop): the first host of the batch runs it; the others take its result. */
  private async runShared(task: TaskDef, vars: Record<string, unknown>, handler: boolean): Promise<TaskOutcome> {
    const bypassesHostLoop = moduleOfTask(task)?.bypassHostLoop === true;
    const runOnce = bypassesHostLoop || (task.runOnce !== undefined && Boolean(render(task.runOnce, vars, task.pos)));
    const exec = (): Promise<TaskOutcome> =>
      this.env.limit(() => executeTask(this.env, this.run, this.hs, task, vars, handler));
    if (!runOnce) return exec();
    const key = task.pos.file + ':' + task.pos.line + ':' + task.pos.col;
    let shared = this.run.runOnce.get(key) as Promise<TaskOutcome> | undefined;
    if (!shared) {
      shared = exec();
      this.run.runOnce.set(key, shared);
      return { ...(await shared), runOnce: true };
    }
    const outcome = await shared;
    if (task.register) this.hs.facts[task.register] = asRegistered(outcome.result);
    return { ...outcome, status: outcome.status === 'unreachable' ? 'ok' : outcome.status, shared: true, runOnce: true };
  }

  private count(outcome: TaskOutcome): void {
    if (outcome.shared) return;
    const s = this.hs.stats;
    switch (outcome.status) {
      case 'ok':
        s.ok++;
        break;
      case 'changed':
        s.ok++;
        s.changed++;
        break;
      case 'skipped':
        s.skipped++;
        break;
      case 'failed':
        s.failed++;
        break;
      case 'ignored':
        s.ok++;
        s.ignored++;
        if (outcome.result['changed'] === true) s.changed++;
        break;
      case 'unreachable':
        s.unreachable++;
        break;
      case 'rescued':
        s.rescued++;
        break;
    }
  }

  private async applyMeta(outcome: TaskOutcome): Promise<Flow> {
    switch (outcome.meta) {
      case 'flush_handlers':
        return this.flushHandlers();
      case 'end_host':
        this.hs.endedPlay = true;
        return 'stop';
      case 'end_play':
        for (const h of this.run.batch) this.env.hosts.get(h)!.endedPlay = true;
        return 'stop';
      case 'clear_facts':
        for (const k of Object.keys(this.hs.facts)) delete this.hs.facts[k];
        return 'ok';
      default:
        return 'ok';
    }
  }

  /** Runs, in the order they are written, the handlers notified on this host (by name or `listen` topic). */
  async flushHandlers(): Promise<Flow> {
    for (const h of [...this.run.play.handlers, ...this.run.includedHandlers]) {
      const names = [h.name ?? '', ...h.listen].filter(Boolean);
      if (!names.some((n) => this.hs.notified.has(n))) continue;
      for (const n of names) this.hs.notified.delete(n);
      // A handler may also be an include_tasks (a role's handler including a file of its tasks/) or a block.
      this.inHandlers = true;
      let flow: Flow;
      try {
        flow = await this.runList(planTasks([h], NOTHING_INHERITED));
      } finally {
        this.inHandlers = false;
      }
      if (flow === 'failed') {
        this.hs.failed = true;
        return 'failed';
      }
      if (flow === 'stop') return 'stop';
    }
    return 'ok';
  }

  /** What a rescue section sees of the failure, as in Ansible; host data, so never rendered again. */
  private failureVars(): Record<string, unknown> {
    if (!this.lastFailure) return {};
    const { task, result } = this.lastFailure;
    return {
      // An unnamed task's name is '' here, as Ansible serialises it (not the action --list-tasks shows).
      ansible_failed_task: markUnsafe({ name: task.name ?? '', action: task.module ?? '' }),
      ansible_failed_result: markUnsafe(result),
    };
  }

  private varsFor(task: TaskDef): Record<string, unknown> {
    return taskVars(this.env, this.run, this.hs, task, [...this.publicRoleScopes, ...(task.roleScopes ?? [])]);
  }
}

async function includeDepthError(task: TaskDef, file: string): Promise<PlaybookError> {
  const { pos } = task;
  const excerpt = await readFile(pos.file, 'utf8').then((text) => formatExcerpt(text, pos.line, pos.col), () => undefined);
  return new PlaybookError('E_INCLUDE_DEPTH', `include_tasks nested more than ${MAX_INCLUDE_DEPTH} levels deep: \`${file}\` is included again and again`, {
    pos,
    ...(excerpt ? { excerpt } : {}),
    hint: 'a task file that includes itself needs an end: put a `when:` on this include_tasks that becomes false',
  });
}

/**
 * A looped include's items on this host, 'skipped' when they read an undefined variable and its `when` is false
 * (as for any task), or why it has none to run: a loop that is not a list, a broken template.
 */
function includeLoopItems(task: TaskDef, vars: Record<string, unknown>, eff: TaskDef): unknown[] | 'skipped' | VncplayError {
  try {
    const items = loopItemsUnlessSkipped(task, vars, eff);
    if (items === 'skipped') return items;
    return Array.isArray(items) ? items : new PlaybookError('E_LOOP_TYPE', items.invalid, { pos: task.pos });
  } catch (err) {
    if (err instanceof VncplayError) return err;
    throw err;
  }
}

/** Ansible's rule (PlayIterator): whether this host starts the play by gathering facts. */
function gathersFacts(play: PlayDef, gathering: Gathering, hs: HostState): boolean {
  switch (gathering) {
    case 'explicit':
      return play.gatherFacts === true;
    case 'smart':
      // Facts from an earlier play of the run (not cleared by meta: clear_facts) are enough.
      return play.gatherFacts !== false && hs.facts['ansible_facts'] === undefined;
    case 'implicit':
      return play.gatherFacts !== false;
  }
}

/** Ansible's implicit setup task: a task of the play, so it takes the play's keywords (remote_user, connection …). */
function gatheringFactsTask(play: PlayDef): TaskDef {
  return inheritKeywords<TaskDef>(implicitTask(play.pos, 'Gathering Facts', [], { module: 'setup' }), play.taskKeywords);
}

/**
 * Variables visible to a task on a host, in Ansible's precedence (decided in one place: buildHostScope):
 * role defaults, inventory, play vars, vars_files, role vars, block and task vars, include_vars, set_fact/registered,
 * extra vars.
 */
export function taskVars(env: RunEnv, run: PlayRun, hs: HostState, task: TaskDef, roleScopes: readonly RoleScope[] = []): Record<string, unknown> {
  const play: PlayDef = run.play;
  const hostVars = { ...hs.inventoryVars };
  // Connection variables beat play keywords in Ansible, so the play's become only fills a gap.
  if (play.become !== undefined && hostVars['ansible_become'] === undefined) hostVars['ansible_become'] = play.become;
  if (play.becomeUser !== undefined && hostVars['ansible_become_user'] === undefined) hostVars['ansible_become_user'] = play.becomeUser;
  if (hostVars['ansible_become'] === undefined && env.settings.become) hostVars['ansible_become'] = true;
  if (hostVars['ansible_become_user'] === undefined && env.settings.becomeUser !== undefined) hostVars['ansible_become_user'] = env.settings.becomeUser;
  const magic: MagicVars = {
    inventoryHostname: hs.name,
    groups: env.groups,
    hostvars: env.hostvars,
    checkMode: env.settings.check,
    diffMode: env.settings.diff,
    playHosts: run.playHosts.filter((h) => env.hosts.get(h)?.active),
    playBatch: run.batch.filter((h) => env.hosts.get(h)?.active),
    playName: play.name,
    playbookDir: env.playbookDir,
  };
  const scope = buildHostScope({
    roleDefaults: [play.roleDefaults, ...roleScopes.map((r) => r.defaults)],
    hostVars,
    playVars: play.vars,
    varsFiles: play.varsFiles,
    roleVars: [play.roleVars, ...roleScopes.map((r) => r.vars)],
    taskVars: task.vars,
    includeVars: hs.includedVars,
    hostFacts: hs.facts,
    extraVars: env.settings.extraVars,
    magic,
  });
  scope['ansible_verbosity'] = env.settings.verbosity;
  scope['ansible_search_path'] = taskSearchPath(task);
  const roleDir = roleDirOf(task);
  if (roleDir !== undefined) scope['role_path'] ??= roleDir;
  scope['ansible_play_hosts_all'] = run.playHosts;
  return scope;
}

export function playStartEvent(run: PlayRun, batchIndex: number, batches: number): Parameters<RunEnv['emit']>[0] {
  return { type: 'play_start', time: now(), name: run.play.name, hosts: run.batch, batch: batchIndex + 1, batches };
}

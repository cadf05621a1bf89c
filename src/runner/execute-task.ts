import path from 'node:path';
import { access } from 'node:fs/promises';
import { becomeMethodNamed } from '../connection/become.js';
import { ConnectionError, PlaybookError, TemplateError, VncplayError } from '../errors.js';
import type { Connection } from '../connection/types.js';
import { moduleNameProblem } from '../modules/ansible-names.js';
import { findModule, moduleOfTask } from '../modules/registry.js';
import type { AnyModule, DiffEntry, TaskScope } from '../modules/types.js';
import type { RoleArgumentCheck, TaskDef } from '../playbook/model.js';
import { validateRoleArguments } from '../playbook/role-argument-spec.js';
import { entriesFor, mergedModuleDefaults, moduleDefaultsKey } from '../playbook/module-defaults.js';
import { controllerFileDirs, controllerFilePaths } from '../playbook/plan.js';
import type { ControllerSubdir } from '../playbook/lookups.js';
import { pyStr } from '../playbook/filters.js';
import { evaluateCondition, loopLookupItems, markUnsafe, render } from '../playbook/template.js';
import { markUnsafeEach } from '../playbook/vars.js';
import { secretVariableValuesInScope } from './secret-vars.js';
import type { ConnectionKeywords, RunEnv, PlayRun } from './context.js';
import { now, type TaskError, type TaskRef, type TaskStatus } from './events.js';
import type { HostState } from './host-state.js';
import { taskVars } from './play.js';
import { argsForHooks, invokeModule, moduleRender, type InvokeResult, type InvokeSettings } from './invoke-module.js';
import type { Background } from '../modules/async-job.js';
import { inTaskScope } from './task-scope.js';

/** The outcome of one task on one host, as the strategy needs it. */
export interface TaskOutcome {
  status: TaskStatus;
  result: Record<string, unknown>;
  meta?: InvokeResult['meta'];
  /** A run_once result taken from the host that ran it: not counted again in this host's recap. */
  shared?: boolean;
  /** A run_once task's result (the first host's or shared): a failure then ends the play, as any_errors_fatal does. */
  runOnce?: boolean;
  /** The host a delegated task ran on (shown as `h1 -> h2`). */
  delegatedTo?: string;
  /** Failed before the module ran (become refused): changed_when/failed_when do not apply, as in Ansible. */
  beforeModule?: boolean;
  /** The module hid its own result, as no_log does (include_vars of a vault-encrypted file). */
  hidden?: boolean;
  /** Why it failed, structured (code, hint, position; the stack of a bug), for the task_result event. */
  error?: TaskError;
}

const NO_LOG_RESULT = { censored: "the output has been hidden due to the fact that 'no_log: true' was specified for this result" };

export function taskRef(task: TaskDef, handler = false): TaskRef {
  const ref: TaskRef = {
    id: `${task.pos.file}:${task.pos.line}:${task.pos.col}`,
    name: displayName(task),
    path: `${task.pos.file}:${task.pos.line}:${task.pos.col}`,
    handler,
  };
  if (task.module) ref.module = task.module;
  return ref;
}

export function displayName(task: TaskDef): string {
  // Ansible's IncludeRole.get_name: its own name as it is, without the role prefix a task of a role gets.
  if (task.includeRole !== undefined && task.name !== undefined) return task.name;
  const base = task.name ?? task.module ?? task.dynamicModule?.name ?? (task.includeTasks !== undefined ? (task.action === 'include' ? 'include' : 'include_tasks') : task.includeRole !== undefined ? `include_role : ${String(task.includeRole.name)}` : 'block');
  return task.role && !base.startsWith(`${task.role} :`) ? `${task.role} : ${base}` : base;
}

/**
 * Runs one task on one host: when, loop, become, delegate_to, retries/until, changed_when/failed_when,
 * ignore_errors, register and notify, with a task_start and a task_result event.
 */
export async function executeTask(
  env: RunEnv,
  run: PlayRun,
  hs: HostState,
  task: TaskDef,
  vars: Record<string, unknown>,
  handler: boolean,
): Promise<TaskOutcome> {
  const ref = taskRef(task, handler);
  const started = Date.now();
  for (const value of secretVariableValuesInScope(vars)) env.addSecret?.(value);
  env.emit({ type: 'task_start', time: now(), host: hs.name, task: ref });
  let outcome: TaskOutcome;
  try {
    outcome = await inTaskScope(run, ref.id, (scope) => executeWithLoop(env, run, hs, task, vars, scope));
  } catch (err) {
    outcome = failedTaskOutcome(task, outcomeFromError(err), vars);
  }
  const noLog = truthy(task.noLog, vars, task) || outcome.hidden === true;
  if (task.register && outcome.status !== 'unreachable') {
    // As in Ansible, no_log hides the result from output only: later tasks still see what the task returned.
    hs.facts[task.register] = markUnsafe(asRegistered(outcome.result));
  }
  if (outcome.status === 'changed') for (const n of task.notify) hs.notified.add(String(render(n, vars, task.pos)));
  const shown = noLog ? { ...pickStatus(outcome.result), ...NO_LOG_RESULT } : outcome.result;
  const event: Parameters<RunEnv['emit']>[0] = {
    type: 'task_result',
    time: now(),
    host: hs.name,
    task: ref,
    status: outcome.status,
    changed: outcome.result['changed'] === true,
    failed: outcome.status === 'failed' || outcome.status === 'unreachable',
    result: shown,
    durationMs: Date.now() - started,
  };
  const msg = shown['msg'];
  if (typeof msg === 'string') event.msg = msg;
  const diff = shown['diff'];
  if (env.settings.diff && !noLog && Array.isArray(diff) && diff.length) event.diff = diff as DiffEntry[];
  if (typeof shown['attempts'] === 'number') event.attempts = shown['attempts'];
  if (outcome.delegatedTo !== undefined) event.delegatedTo = outcome.delegatedTo;
  if (outcome.error) event.error = outcome.error;
  env.emit(event);
  return outcome;
}

function pickStatus(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['changed', 'failed', 'skipped', 'unreachable']) if (k in r) out[k] = r[k];
  return out;
}

async function executeWithLoop(
  env: RunEnv,
  run: PlayRun,
  hs: HostState,
  asWritten: TaskDef,
  vars: Record<string, unknown>,
  scope: TaskScope,
): Promise<TaskOutcome> {
  // Ansible's strategy templates `action` first, with the host's variables: before `when`, never with a loop item.
  const chosen = withDynamicModule(asWritten, vars);
  // No module ran: ignore_errors applies, changed_when/failed_when do not (as in Ansible).
  if ('outcome' in chosen) return judge(asWritten, { ...chosen.outcome, beforeModule: true }, vars);
  const task = chosen.task;
  if (task.loop === undefined) {
    if (!conditionsHold(task.when, vars, task)) return skipped('Conditional result was False');
    return executeOnce(env, run, hs, task, vars, scope);
  }
  if (task.loopWith === 'items' && isBareVariableName(task.loop, vars)) {
    env.emit({
      type: 'warning',
      time: now(),
      host: hs.name,
      message: `${task.pos.file}:${task.pos.line}:${task.pos.col}: with_items: ${task.loop} loops once over the text '${task.loop}', as Ansible 2.14 does; write with_items: "{{ ${task.loop} }}" to loop over the variable`,
    });
  }
  let items: ReturnType<typeof loopItemsUnlessSkipped>;
  try {
    items = loopItemsUnlessSkipped(task, vars);
  } catch (err) {
    // Ansible's TaskExecutor.run turns the loop's error (an undefined variable, a lookup's) into the task's failed
    // result, which ignore_errors then ignores.
    if (!(err instanceof VncplayError)) throw err;
    return judge(task, { ...outcomeFromError(err), beforeModule: true }, vars);
  }
  if (items === 'skipped') return skipped('Conditional result was False');
  if (!Array.isArray(items)) return judge(task, { ...failed(items.invalid), beforeModule: true }, vars);
  const results: Record<string, unknown>[] = [];
  const indexVar = loopIndexVar(task, vars);
  let anyChanged = false;
  let anyFailed = false;
  let anyHidden = false;
  let allSkipped = true;
  let delegatedTo: string | undefined;
  for (const [index, item] of items.entries()) {
    if (env.interrupted()) break;
    // Loop items are rendered already (or came from a host): never rendered again.
    const itemVars = { ...vars, ...loopItemVars(task, vars, item, index, items.length) };
    // As Ansible records them in each item's result: the loop variable, and the index variable when there is one.
    const loopKeys = { item, ansible_loop_var: task.loopVar, ...(indexVar !== undefined ? { ansible_index_var: indexVar, [indexVar]: index } : {}) };
    const label = task.loopLabel !== undefined ? render(task.loopLabel, itemVars, task.pos) : item;
    if (!conditionsHold(task.when, itemVars, task)) {
      results.push({ skipped: true, changed: false, skip_reason: 'Conditional result was False', ...loopKeys, _label: label });
      continue;
    }
    allSkipped = false;
    const one = await executeOnce(env, run, hs, task, itemVars, scope);
    if (one.status === 'unreachable') return one;
    delegatedTo ??= one.delegatedTo;
    results.push({ ...one.result, ...loopKeys, _label: label });
    anyHidden ||= one.hidden === true;
    anyChanged ||= one.result['changed'] === true;
    // An item that failed under ignore_errors is still a failed item of the loop.
    anyFailed ||= one.status === 'failed' || one.status === 'ignored';
  }
  if (allSkipped) return { status: 'skipped', result: { changed: false, skipped: true, results, msg: 'All items skipped' } };
  const result: Record<string, unknown> = { changed: anyChanged, results, msg: anyFailed ? 'One or more items failed' : 'All items completed' };
  const where = { ...(delegatedTo !== undefined ? { delegatedTo } : {}), ...(anyHidden ? { hidden: true } : {}) };
  if (anyFailed) {
    result['failed'] = true;
    return { status: truthy(task.ignoreErrors, vars, task) ? 'ignored' : 'failed', result, ...where };
  }
  return { status: anyChanged ? 'changed' : 'ok', result, ...where };
}

/**
 * The items a task loops over: a `with_<lookup>`'s results (with_items: a single value is a one-item list, nested
 * lists flatten one level), or the rendered `loop:`, which must be a list. Template errors throw (positioned).
 */
function loopItems(task: TaskDef, vars: Record<string, unknown>): unknown[] | { invalid: string } {
  const where = task.loopPos ?? task.pos;
  if (task.loopWith !== undefined) return loopLookupItems(task.loopWith, task.loop, vars, where, lookupSubdir(task));
  const rendered = render(task.loop, vars, where);
  if (!Array.isArray(rendered)) {
    return {
      invalid: `Invalid data passed to 'loop', it requires a list, got this instead: ${pyStr(rendered)}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.`,
    };
  }
  return rendered;
}

/**
 * The loop's items, or 'skipped' when they use an undefined variable and the task's `when` (evaluated without an
 * item) is false: Ansible's TaskExecutor.run keeps that error aside (`_loop_eval_error`) and raises it only when the
 * task would run — `when` true, or failing itself (the loop's error wins then). `conditionsOf` is the task whose
 * `when` decides (an include's effective task).
 */
export function loopItemsUnlessSkipped(task: TaskDef, vars: Record<string, unknown>, conditionsOf: TaskDef = task): ReturnType<typeof loopItems> | 'skipped' {
  try {
    return loopItems(task, vars);
  } catch (loopError) {
    if (!(loopError instanceof TemplateError) || loopError.code !== 'E_TEMPLATE_UNDEFINED') throw loopError;
    let holds: boolean;
    try {
      holds = conditionsHold(conditionsOf.when, vars, conditionsOf);
    } catch {
      throw loopError;
    }
    if (holds) throw loopError;
    return 'skipped';
  }
}

/** The variables one loop item adds: the loop variable (never rendered again), ansible_loop and index_var. */
export function loopItemVars(task: TaskDef, vars: Record<string, unknown>, item: unknown, index: number, length: number): Record<string, unknown> {
  const indexVar = loopIndexVar(task, vars);
  return {
    [task.loopVar]: markUnsafe(item),
    ansible_loop_var: task.loopVar,
    ansible_loop: { index: index + 1, index0: index, first: index === 0, last: index === length - 1, length },
    ...(indexVar !== undefined ? { [indexVar]: index } : {}),
  };
}

/** Where `with_first_found` looks first, by the task's action as Ansible decides it: templates/, vars/ or files/. */
function lookupSubdir(task: TaskDef): ControllerSubdir {
  const action = task.module ?? '';
  if (action.includes('template')) return 'templates';
  if (action.includes('var')) return 'vars';
  return 'files';
}

/** `loop_control.index_var`: the name of the variable holding the item's 0-based index (it may be templated). */
function loopIndexVar(task: TaskDef, vars: Record<string, unknown>): string | undefined {
  const name = task.loopControl?.['index_var'];
  return name === undefined || name === null ? undefined : String(render(name, vars, task.pos));
}

/** One module call (one loop item), with retries/until, changed_when and failed_when applied. */
async function executeOnce(
  env: RunEnv,
  run: PlayRun,
  hs: HostState,
  task: TaskDef,
  vars: Record<string, unknown>,
  scope: TaskScope,
): Promise<TaskOutcome> {
  if (task.roleArguments) return judge(task, roleArgumentsOutcome(task.roleArguments, vars, task.pos), vars);
  const mod = moduleOfTask(task);
  if (!mod) return failed(`unknown module '${task.module ?? ''}'`);
  const retries = task.until ? Number(render(task.retries ?? 3, vars, task.pos)) : 0;
  const delayS = Number(render(task.delay ?? 5, vars, task.pos));
  let attempts = 0;
  for (;;) {
    attempts++;
    const outcome = await callModule(env, run, hs, task, mod.where === 'controller', vars, scope);
    if (outcome.status === 'unreachable') return outcome;
    const judged = judge(task, outcome, vars);
    if (!task.until) return judged;
    judged.result['attempts'] = attempts;
    const withResult = task.register ? { ...vars, [task.register]: markUnsafe(asRegistered(judged.result)) } : vars;
    if (judged.status !== 'failed' && conditionsHold(task.until, withResult, task)) return judged;
    if (attempts > retries || env.interrupted()) {
      judged.result['failed'] = true;
      judged.result['msg'] ??= 'Retries exceeded';
      if (judged.status !== 'failed') judged.result['msg'] = `Retries exceeded (${attempts} attempts)`;
      return { ...judged, status: truthy(task.ignoreErrors, vars, task) ? 'ignored' : 'failed' };
    }
    env.emit({ type: 'verbose', time: now(), level: 0, host: hs.name, message: `FAILED - RETRYING: ${displayName(task)} (${retries - attempts + 1} retries left).` });
    await sleep(delayS * 1000, env.signal);
  }
}

/**
 * The task with its module chosen for this host: `action: "{{ packager }} …"` renders the name with the host's
 * variables and looks it up as the loader looks up a literal name (vncplay's modules, then the installed
 * collections' module files), as Ansible templates `action` when the task runs; a name that is no module fails the
 * task with Ansible's words (or why its collection module cannot run), at the name.
 */
function withDynamicModule(task: TaskDef, vars: Record<string, unknown>): { task: TaskDef } | { outcome: TaskOutcome } {
  const dynamic = task.dynamicModule;
  if (!dynamic) return { task };
  try {
    const name = String(render(dynamic.name, vars, dynamic.pos)).trim();
    const mod = findModule(name);
    if (mod) return { task: { ...task, module: mod.name, action: name } };
    const installed = task.roleSearch?.collectionModules?.find(name);
    if (installed !== undefined && 'file' in installed) return { task: { ...task, module: name, action: name, libraryFile: installed.file } };
    const known = installed?.problem ?? moduleNameProblem(name);
    throw new PlaybookError(known?.code ?? 'E_UNKNOWN_MODULE', known?.message ?? `The module ${name} was not found in configured module paths`, {
      pos: dynamic.pos,
      hint: known?.hint ?? `\`${dynamic.name}\` rendered to \`${name}\` on this host, which is not a module`,
    });
  } catch (err) {
    return { outcome: outcomeFromError(err) };
  }
}

/**
 * A role's argument-spec task on this host: the role's variables the spec names, rendered, with its parameters
 * over them, as Ansible's validate_argument_spec action gathers them from the task's variables.
 */
function roleArgumentsOutcome(check: RoleArgumentCheck, vars: Record<string, unknown>, pos: TaskDef['pos']): TaskOutcome {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(check.options)) if (vars[name] !== undefined) values[name] = render(vars[name], vars, pos);
  for (const [name, value] of Object.entries(check.params)) values[name] = render(value, vars, pos);
  const result = validateRoleArguments(check, values);
  return { status: result['failed'] === true ? 'failed' : 'ok', result };
}

/**
 * Arguments of a module chosen when the task ran, refused by its spec: the failure points at the module's name,
 * where a load-time check of a literal module would have pointed.
 */
function refusedDynamicArgs(task: TaskDef, mod: AnyModule, args: Record<string, unknown>): TaskOutcome | undefined {
  if (!task.dynamicModule) return undefined;
  const parsed = argsForHooks(mod, args);
  if (!('problem' in parsed)) return undefined;
  const { code, hint } = parsed.error;
  return outcomeFromError(new PlaybookError(code, parsed.problem, { pos: task.dynamicModule.pos, ...(hint !== undefined ? { hint } : {}) }));
}

/**
 * A result as `register:` (and until/changed_when/failed_when) see it: with `failed: false` wherever a module ran and
 * did not fail, as Ansible's TaskExecutor adds it to every module result, each loop item's included; not to a task
 * its `when` skipped, nor to a loop's summary. Output leaves it out, as Ansible's callbacks do. The module's
 * `invocation` (AnsibleModule's echo of its arguments) is shown but not registered: Ansible's strategy drops it.
 */
export function asRegistered(result: Record<string, unknown>): Record<string, unknown> {
  const { invocation: _shownOnly, ...registered } = result;
  return withFailedFlags(registered);
}

function withFailedFlags(result: Record<string, unknown>): Record<string, unknown> {
  const items = result['results'];
  if (Array.isArray(items)) {
    return { ...result, results: items.map((r: unknown) => (typeof r === 'object' && r !== null && !Array.isArray(r) ? withFailedFlags(r as Record<string, unknown>) : r)) };
  }
  if ('failed' in result || (result['skipped'] === true && 'skip_reason' in result)) return result;
  return { ...result, failed: false };
}

/** changed_when, failed_when and ignore_errors turn a module's answer into the task's status. */
function judge(task: TaskDef, outcome: TaskOutcome, vars: Record<string, unknown>): TaskOutcome {
  if (outcome.beforeModule) return { ...outcome, status: truthy(task.ignoreErrors, vars, task) ? 'ignored' : 'failed' };
  const result = outcome.result;
  const scope = task.register ? { ...vars, [task.register]: markUnsafe(asRegistered(result)) } : { ...vars };
  if (outcome.status !== 'skipped') {
    if (task.changedWhen) result['changed'] = conditionsHold(task.changedWhen, withResultVars(scope, result), task);
    if (task.failedWhen) result['failed'] = anyCondition(task.failedWhen, withResultVars(scope, result), task);
  }
  const failedNow = result['failed'] === true;
  if (failedNow) return { ...outcome, status: truthy(task.ignoreErrors, vars, task) ? 'ignored' : 'failed' };
  if (outcome.status === 'skipped') return outcome;
  return { ...outcome, status: result['changed'] === true ? 'changed' : 'ok' };
}

/**
 * A task that failed outside its module's answer (a template error in its arguments or its `when`, a value its
 * module refused): ignore_errors still applies, as Ansible's TaskExecutor turns such errors into the task's failed
 * result. An unreachable host or an interrupted run stays what it is.
 */
function failedTaskOutcome(task: TaskDef, outcome: TaskOutcome, vars: Record<string, unknown>): TaskOutcome {
  if (outcome.status !== 'failed') return outcome;
  try {
    return judge(task, { ...outcome, beforeModule: true }, vars);
  } catch {
    // ignore_errors itself does not render: the task's own failure is the one to show.
    return outcome;
  }
}

/** In changed_when/failed_when Ansible also lets the result's own keys (rc, stdout) be used bare. */
function withResultVars(scope: Record<string, unknown>, result: Record<string, unknown>): Record<string, unknown> {
  return { ...markUnsafeEach(result), ...scope };
}

async function callModule(
  env: RunEnv,
  run: PlayRun,
  hs: HostState,
  task: TaskDef,
  onController: boolean,
  vars: Record<string, unknown>,
  scope: TaskScope,
): Promise<TaskOutcome> {
  const mod = moduleOfTask(task)!;
  let keywords: ConnectionKeywords;
  let delegated: Delegation | undefined;
  try {
    keywords = connectionKeywords(task, vars, env.settings.becomeMethod);
    // Controller modules (set_fact, debug) delegate too: where their facts go (delegate_facts) depends on it.
    delegated = delegation(env, run, hs, task, vars);
  } catch (err) {
    return outcomeFromError(err);
  }
  // Where the module runs: the task's host, or the delegated host with its own connection and become variables.
  const target = delegated?.host ?? hs;
  let conn: Connection | undefined;
  if (!onController) {
    try {
      conn = await env.connectionFor(target.name, keywords);
    } catch (err) {
      return withDelegation(unreachable(err), delegated);
    }
  }
  const args = { ...moduleDefaultArgs(task, vars), ...renderArgs(task, vars, mod.freeForm) };
  const refused = refusedDynamicArgs(task, mod, args);
  if (refused) return withDelegation(refused, delegated);
  // A module's secret arguments (supervisor's password, a cloud secret_key) are redacted like vault values.
  for (const name of mod.secretArgs ?? []) if (typeof args[name] === 'string') env.addSecret?.(args[name]);
  const settings = moduleSettings(env, hs, task, vars, target, conn, keywords);
  const become = becomeFor(env, task, vars, delegated?.vars ?? vars, conn);
  if (typeof become === 'string') return failed(become);
  const check = task.checkMode !== undefined ? truthy(task.checkMode, vars, task) : env.settings.check;
  const background = backgroundOf(task, vars);
  if (typeof background === 'string') return failed(background);
  try {
    const res = await invokeModule(mod, args, { ...settings, ...become, check, task: scope, ...(background ? { background } : {}) });
    // Stored raw: buildHostScope marks host facts unsafe, so they are never rendered again. As in Ansible, a
    // delegated task's facts belong to the task's host unless delegate_facts gives them to the delegated host.
    const factsHost = delegated && truthy(task.delegateFacts, vars, task) ? delegated.host : hs;
    if (res.facts) mergeFacts(factsHost.facts, res.facts);
    if (res.includedVars) Object.assign(hs.includedVars, res.includedVars);
    // add_host/group_by: as in Ansible's strategy, the inventory change (for the task's own host) decides `changed`.
    if (res.inventory && !res.failed) res.changed = await env.updateInventory(hs.name, res.inventory);
    return withDelegation(outcomeOfModule(res, check), delegated);
  } catch (err) {
    return withDelegation(outcomeFromError(err), delegated);
  }
}

/**
 * Whether and how the task becomes another user: its keywords, else the (delegated) target's variables. A string
 * is why it cannot: a become_method vncplay lacks, or su on the local connection.
 */
function becomeFor(
  env: RunEnv,
  task: TaskDef,
  vars: Record<string, unknown>,
  targetVars: Record<string, unknown>,
  conn: Connection | undefined,
): Pick<InvokeSettings, 'become' | 'becomeUser'> | string {
  const become = truthy(task.become ?? targetVars['ansible_become'], targetVars, task);
  const becomeUser = task.becomeUser ?? targetVars['ansible_become_user'];
  const becomeMethod = task.becomeMethod ?? targetVars['ansible_become_method'] ?? env.settings.becomeMethod;
  if (become && becomeMethod !== undefined) {
    const method = String(render(becomeMethod, vars, task.pos)).trim();
    if (becomeMethodNamed(method) === undefined) return `become_method '${method}' is not supported: vncplay becomes other users with sudo or su`;
    // The local connection becomes through sudo only; su there would silently be sudo.
    if (becomeMethodNamed(method) === 'su' && conn?.kind === 'local') return 'become_method su is supported over ssh only: the local connection becomes with sudo';
  }
  return { become, ...(becomeUser !== undefined ? { becomeUser: String(render(becomeUser, vars, task.pos)) } : {}) };
}

/** `async:` and `poll:` rendered (Ansible's default poll is 15 seconds); undefined for `async: 0` or none; a string when invalid. */
function backgroundOf(task: TaskDef, vars: Record<string, unknown>): Background | undefined | string {
  if (task.async === undefined) return undefined;
  const seconds = Number(render(task.async, vars, task.pos));
  const poll = task.poll === undefined ? DEFAULT_POLL_SECONDS : Number(render(task.poll, vars, task.pos));
  for (const [key, n] of [['async', seconds], ['poll', poll]] as const) {
    if (!Number.isInteger(n) || n < 0) return `${key} must be a whole number of seconds, not ${String(n)}`;
  }
  return seconds === 0 ? undefined : { seconds, poll };
}

/** Ansible's DEFAULT_POLL_INTERVAL. */
const DEFAULT_POLL_SECONDS = 15;

/** What the module sees of the run besides its arguments, become and check mode: where it runs, and the run's hooks. */
function moduleSettings(
  env: RunEnv,
  hs: HostState,
  task: TaskDef,
  vars: Record<string, unknown>,
  target: HostState,
  conn: Connection | undefined,
  keywords: ConnectionKeywords,
): Omit<InvokeSettings, 'become' | 'becomeUser' | 'check'> {
  // no_log also silences what the module logs at -v…-vvvv: it may quote the values the task hides.
  const noLog = truthy(task.noLog, vars, task);
  const environment = task.environment === undefined ? undefined : renderEnvironment(task.environment, task, vars);
  return {
    hostName: target.name,
    ...(conn ? { conn } : {}),
    diff: env.settings.diff,
    signal: env.signal,
    ...(environment ? { environment } : {}),
    vars,
    render: moduleRender(vars, task.pos),
    findFile: (rel, kind) => findControllerFile(rel, kind, task, env.playbookDir),
    log: (level, line) => env.emit({ type: 'verbose', time: now(), level, host: hs.name, message: noLog ? '(output hidden: no_log)' : env.redact(line) }),
    emit: (event) => env.emit({ ...event, time: now(), host: hs.name }),
    ...(env.ask ? { ask: env.ask } : {}),
    reconnect: (connectTimeoutMs) => env.reconnect(target.name, keywords, connectTimeoutMs),
    ...(conn?.kind === 'ssh' ? { probeNewConnection: () => env.probeNewConnection(target.name, keywords) } : {}),
  };
}

/** The task's result and status from what the module returned. */
function outcomeOfModule(res: InvokeResult, check: boolean): TaskOutcome {
  const result: Record<string, unknown> = { ...res.data, changed: res.changed };
  if (res.failed) result['failed'] = true;
  if (res.skipped) result['skipped'] = true;
  if (res.msg !== undefined) result['msg'] = res.msg;
  if (res.diff.length) result['diff'] = res.diff;
  if (check) result['check_mode'] = true;
  const status: TaskStatus = res.failed ? 'failed' : res.skipped ? 'skipped' : res.changed ? 'changed' : 'ok';
  const outcome: TaskOutcome = { status, result };
  if (res.meta) outcome.meta = res.meta;
  if (res.noLog) outcome.hidden = true;
  if (res.error) outcome.error = res.error;
  return outcome;
}

/** A delegated call: the host it runs on and that host's variables for this task (its connection and become settings). */
interface Delegation {
  host: HostState;
  vars: Record<string, unknown>;
}

/**
 * `delegate_to` rendered for this host (and loop item). The delegated host's variables are its own for this play
 * and task, as Ansible computes them: its inventory variables stand where the task host's stood.
 */
function delegation(env: RunEnv, run: PlayRun, hs: HostState, task: TaskDef, vars: Record<string, unknown>): Delegation | undefined {
  if (task.delegateTo === undefined || task.delegateTo === null) return undefined;
  const name = String(render(task.delegateTo, vars, task.pos)).trim();
  if (name === '') {
    throw new VncplayError('E_DELEGATE_TO', `delegate_to ${JSON.stringify(task.delegateTo)} rendered to an empty host name`, {
      pos: task.delegateToPos ?? task.pos,
      hint: 'name an inventory host, localhost, or an address',
    });
  }
  if (name === hs.name) return undefined;
  const host = env.delegateHost(name);
  return { host, vars: taskVars(env, run, host, task) };
}

function withDelegation(outcome: TaskOutcome, delegated: Delegation | undefined): TaskOutcome {
  return delegated ? { ...outcome, delegatedTo: delegated.host.name } : outcome;
}

/**
 * `environment:` as NAME=value pairs for the module's commands (names checked: they become argv of env(1)). The
 * layers (play, blocks, task) merge as in Ansible: the innermost wins for each variable.
 */
function renderEnvironment(layers: readonly unknown[], task: TaskDef, vars: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of layers) {
    const value = render(layer, vars, task.pos);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new VncplayError('E_ENVIRONMENT', `environment must be a mapping of variable names to values`, { pos: task.pos });
    }
    for (const [k, v] of Object.entries(value)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        throw new VncplayError('E_ENVIRONMENT', `environment: '${k}' is not a valid variable name`, { pos: task.pos });
      }
      out[k] = String(v);
    }
  }
  return out;
}

/** Module arguments rendered per host; a value that renders to `omit` drops the argument, as in Ansible. */
function renderArgs(task: TaskDef, vars: Record<string, unknown>, freeForm: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(task.args)) {
    const key = k === '_raw_params' && freeForm ? freeForm : k;
    const value = render(v, vars, task.pos);
    if (value === vars['omit'] && vars['omit'] !== undefined) continue;
    out[key] = value;
  }
  return out;
}

/**
 * The task's module_defaults for its module, rendered: its groups' entries, then its own over them (a template may
 * stand for a whole entry). Ansible renders every entry in scope for every task (get_action_args_with_defaults:
 * `templar.template(module_defaults)`), so an undefined variable in any of them fails the task.
 */
function moduleDefaultArgs(task: TaskDef, vars: Record<string, unknown>): Record<string, unknown> {
  if (!task.moduleDefaults?.length) return {};
  const rendered = new Map([...mergedModuleDefaults(task.moduleDefaults)].map(([name, entry]) => [name, render(entry, vars, task.pos)]));
  const action = task.action ?? task.module ?? '';
  const out: Record<string, unknown> = {};
  for (const entry of entriesFor(rendered, moduleDefaultsKey(action, findModule))) {
    if (entry === null) continue;
    if (typeof entry !== 'object' || Array.isArray(entry)) {
      throw new PlaybookError('E_TYPE', `module_defaults for ${action} must be a mapping of arguments, got ${JSON.stringify(entry)}`, { pos: task.pos, hint: 'write `MODULE: {name: value}` under module_defaults' });
    }
    Object.assign(out, entry);
  }
  const omit = vars['omit'];
  return Object.fromEntries(Object.entries(out).filter(([, v]) => omit === undefined || v !== omit));
}

async function findControllerFile(rel: string, kind: 'files' | 'templates' | 'vars', task: TaskDef, playbookDir: string): Promise<string> {
  if (path.isAbsolute(rel)) return rel;
  const candidates = controllerFilePaths(rel, kind, task.searchDirs, playbookDir);
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next folder
    }
  }
  throw new VncplayError('E_FILE_NOT_FOUND', `could not find '${rel}' in: ${controllerFileDirs(kind, task.searchDirs, playbookDir).join(', ')}`, {
    pos: task.pos,
    hint: `put it under ${kind}/ beside the playbook or the role`,
  });
}

export function conditionsHold(conds: unknown[] | undefined, vars: Record<string, unknown>, task: TaskDef): boolean {
  if (!conds) return true;
  return conds.every((c) => evaluateCondition(c, vars, task.pos));
}

function anyCondition(conds: unknown[], vars: Record<string, unknown>, task: TaskDef): boolean {
  return conds.some((c) => evaluateCondition(c, vars, task.pos));
}

export function truthy(value: unknown, vars: Record<string, unknown>, task: TaskDef): boolean {
  if (value === undefined || value === null) return false;
  return evaluateCondition(value, vars, task.pos);
}

/**
 * remote_user, connection and become_method of the task (inherited from its blocks and play; become_method falls
 * back to ansible.cfg's), rendered for this host. A become_method vncplay lacks is left out here: the task fails on
 * it only if it becomes (see callModule), as in Ansible.
 */
function connectionKeywords(task: TaskDef, vars: Record<string, unknown>, configuredMethod: string | undefined): ConnectionKeywords {
  const out: ConnectionKeywords = {};
  const methodValue = task.becomeMethod ?? configuredMethod;
  const method = methodValue === undefined ? undefined : becomeMethodNamed(String(render(methodValue, vars, task.pos)));
  if (method !== undefined && method !== 'sudo') out.becomeMethod = method;
  if (task.remoteUser !== undefined) out.user = String(render(task.remoteUser, vars, task.pos));
  if (task.connection !== undefined) {
    const kind = String(render(task.connection, vars, task.pos)).trim().replace(/^ansible\.builtin\./, '');
    if (kind === 'local') out.connection = 'local';
    else if (kind === 'ssh' || kind === 'smart') out.connection = 'ssh';
    else throw new VncplayError('E_CONNECTION_KEYWORD', `connection '${kind}' is not supported`, { pos: task.pos, hint: 'use ssh or local' });
  }
  return out;
}

/** `with_items: name` written bare, naming a variable: Ansible 1.x expanded it, Ansible 2.x loops over the text. */
function isBareVariableName(loop: unknown, vars: Record<string, unknown>): loop is string {
  return typeof loop === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(loop) && loop in vars;
}

function skipped(msg: string): TaskOutcome {
  return { status: 'skipped', result: { changed: false, skipped: true, skip_reason: msg } };
}

function failed(msg: string): TaskOutcome {
  return { status: 'failed', result: { changed: false, failed: true, msg } };
}

function unreachable(err: unknown): TaskOutcome {
  const msg = err instanceof VncplayError ? err.format() : String(err);
  return { status: 'unreachable', result: { changed: false, unreachable: true, msg } };
}

/** sudo refusing for want of a password is the task's failure (exit 2), as in Ansible, not an unreachable host. */
const TASK_LEVEL_CONNECTION_ERRORS = new Set(['E_BECOME_PASSWORD']);

export function outcomeFromError(err: unknown): TaskOutcome {
  // Ctrl-C arrived after the host's state was read but before any step ran: nothing changed, nothing failed.
  if (err instanceof VncplayError && err.code === 'E_INTERRUPTED') return skipped('interrupted before any change was made');
  if (err instanceof ConnectionError && !TASK_LEVEL_CONNECTION_ERRORS.has(err.code)) return { ...unreachable(err), error: taskError(err) };
  if (err instanceof ConnectionError) return { ...failed(err.format()), beforeModule: true, error: taskError(err) };
  if (err instanceof VncplayError) return { ...failed(err.format()), error: taskError(err) };
  // Not a VncplayError: a bug inside vncplay (a TypeError in a module). It keeps its stack, for -vvv and the NDJSON.
  const bug: TaskError = { code: 'E_INTERNAL' };
  if (err instanceof Error && err.stack !== undefined) bug.stack = err.stack;
  return { ...failed(err instanceof Error ? err.message : String(err)), error: bug };
}

function taskError(err: VncplayError): TaskError {
  const out: TaskError = { code: err.code };
  if (err.hint !== undefined) out.hint = err.hint;
  if (err.pos !== undefined) out.pos = err.pos;
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    // The listener goes when the timer fires: retries/until loops would otherwise pile them up on the run's signal.
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A module's facts onto the host's: `ansible_facts` merges key by key (package_facts adds `packages` next to what
 * setup gathered, as Ansible does); every other variable is replaced.
 */
export function mergeFacts(hostFacts: Record<string, unknown>, facts: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(facts)) {
    const old = hostFacts[k];
    const isDict = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    hostFacts[k] = k === 'ansible_facts' && isDict(old) && isDict(v) ? { ...old, ...v } : v;
  }
}

import path from 'node:path';
import type { RawValue, RoleScope, TaskDef } from './model.js';

/**
 * The one effective task plan: what each task inherits from the play, blocks, roles, imports and includes around
 * it, resolved in one place. The loader applies it where it expands static imports (import_tasks, import_role,
 * roles:, play keywords); the runner, --list-tasks and the undefined-variable check walk the tree it returns
 * (`planTasks`): a module task, a block, or a dynamic include whose tasks are planned when they are loaded.
 */

/**
 * Keywords a task takes from its play, blocks, role or import when it does not set them itself. `environment`
 * is not here: its layers are merged (outermost first), not replaced.
 */
export const INHERITED_KEYWORDS = [
  'become',
  'becomeUser',
  'becomeMethod',
  'remoteUser',
  'connection',
  'checkMode',
  'delegateTo',
  'delegateFacts',
  'runOnce',
  'noLog',
  'ignoreErrors',
  'anyErrorsFatal',
] as const satisfies readonly (keyof TaskDef)[];

/** What a parent (play, block, role entry, importing task) hands down besides when/tags/vars. */
export type InheritedKeywords = Partial<Pick<TaskDef, (typeof INHERITED_KEYWORDS)[number] | 'environment' | 'moduleDefaults' | 'delegateToPos'>>;

/** Everything a parent hands down to the tasks inside it. */
export interface Inherited extends InheritedKeywords {
  /** The `when` chain of the enclosing blocks and imports, outermost first: every condition must hold. */
  when: RawValue[];
  tags: string[];
  vars: Record<string, RawValue>;
  /** Variables of the include_role roles around these tasks, outermost first. */
  roleScopes?: RoleScope[];
}

/** A task Ansible adds by itself (Gathering Facts, a role's argument check): tagged `always`, with nothing else of its own. */
export function implicitTask(pos: TaskDef['pos'], name: string, searchDirs: string[], rest: Partial<TaskDef> = {}): TaskDef {
  return { pos, name, args: {}, loopVar: 'item', notify: [], tags: ['always'], vars: {}, listen: [], searchDirs, ...rest };
}

/** Nothing inherited: the top of a play's task lists, and handlers (selected by their own tags only). */
export const NOTHING_INHERITED: Inherited = { when: [], tags: [], vars: {} };

/** What every node has: the effective task (what it inherited applied) and the task as the loader made it. */
interface PlannedNode {
  task: TaskDef;
  /** The task as written (after load-time imports): its own values, where a check points at what is written. */
  source: TaskDef;
}

/** A task that runs a module (or `meta`). */
export interface PlannedTask extends PlannedNode {
  kind: 'task';
}

/**
 * A `block:` with its `rescue:` and `always:`, each already planned. `task` is the block itself with what it
 * inherited applied (its effective when chain, tags and vars), for the checks a block's own keywords need.
 */
export interface PlannedBlock extends PlannedNode {
  kind: 'block';
  /** What the block hands down to its sections. */
  inner: Inherited;
  block: PlanNode[];
  rescue?: PlanNode[];
  always?: PlanNode[];
}

/**
 * A dynamic include (`include_tasks`, `include_role`): a task of its own (its tags select it, its `when` decides,
 * it may loop), whose tasks are known only when a host reaches it. `task` is the effective include task; the
 * tasks it loads are planned with `includedTasks`/`includedRoleTasks`, under `parent` (not the include's own tags
 * or when, which select the include itself, as in Ansible).
 */
export interface PlannedInclude extends PlannedNode {
  kind: 'include';
  what: 'tasks' | 'role';
  parent: Inherited;
}

export type PlanNode = PlannedTask | PlannedBlock | PlannedInclude;

/** Plan a task list under what its parents hand down. */
export function planTasks(tasks: readonly TaskDef[], parent: Inherited): PlanNode[] {
  return tasks.map((t) => planTask(t, parent));
}

function planTask(t: TaskDef, parent: Inherited): PlanNode {
  if (t.block) {
    const inner = childScope(parent, t);
    const node: PlannedBlock = { kind: 'block', task: effectiveTask(t, parent), source: t, inner, block: planTasks(t.block, inner) };
    if (t.rescue) node.rescue = planTasks(t.rescue, inner);
    if (t.always) node.always = planTasks(t.always, inner);
    return node;
  }
  if (t.includeTasks !== undefined || t.includeRole !== undefined) {
    return { kind: 'include', what: t.includeRole !== undefined ? 'role' : 'tasks', task: effectiveTask(t, parent), source: t, parent };
  }
  return { kind: 'task', task: effectiveTask(t, parent), source: t };
}

/** A block's rescue section with `vars` (what a rescue sees of the failure, known only at run time) added. */
export function rescueWith(block: PlannedBlock, vars: Record<string, RawValue>): PlanNode[] {
  return planTasks(block.source.rescue ?? [], { ...block.inner, vars: { ...block.inner.vars, ...vars } });
}

/**
 * The tasks of an include_tasks file, planned: they inherit the include's keywords and vars (and `loopVars`, the
 * loop variable of a looped include), but not its when or tags, which decided the include itself.
 */
export function includedTasks(include: PlannedInclude, tasks: readonly TaskDef[], loopVars: Record<string, RawValue> = {}): PlanNode[] {
  return planTasks(tasks, includeScope(include, loopVars));
}

/** The tasks of an included role, planned as include_tasks' are, and seeing the role's defaults and vars. */
export function includedRoleTasks(include: PlannedInclude, tasks: readonly TaskDef[], role: RoleScope, loopVars: Record<string, RawValue> = {}): PlanNode[] {
  const scope = includeScope(include, loopVars);
  return planTasks(tasks, { ...scope, roleScopes: [...(include.parent.roleScopes ?? []), role] });
}

function includeScope(include: PlannedInclude, loopVars: Record<string, RawValue>): Inherited {
  return childScope(include.parent, { ...include.source, when: [], tags: [], vars: { ...include.source.vars, ...loopVars } });
}

/** What a block (or include) hands down: its own keywords, then what its parents handed it. */
export function childScope(parent: Inherited, block: TaskDef): Inherited {
  return {
    ...inheritKeywords(ownKeywords(block), parent),
    ...(parent.roleScopes ? { roleScopes: parent.roleScopes } : {}),
    when: [...parent.when, ...(block.when ?? [])],
    tags: [...new Set([...parent.tags, ...block.tags])],
    vars: { ...parent.vars, ...block.vars },
  };
}

/**
 * The task with what its parents hand down applied: their `when` chain before its own, their tags and vars under
 * its own, their keywords where it sets none, their environment layers before its own. Parts of `from` that are
 * absent or empty change nothing (the loader hands down only what an import or role entry sets).
 */
export function effectiveTask(task: TaskDef, from: Partial<Inherited>): TaskDef {
  const out = inheritKeywords(task, from);
  if (from.when?.length) out.when = [...from.when, ...(task.when ?? [])];
  if (from.tags?.length) out.tags = [...new Set([...from.tags, ...task.tags])];
  if (from.vars && Object.keys(from.vars).length > 0) out.vars = { ...from.vars, ...task.vars };
  if (from.roleScopes?.length) out.roleScopes = [...from.roleScopes, ...(task.roleScopes ?? [])];
  return out;
}

/** `child` with the keywords it does not set taken from `parent`, and the parent's environment layers before its own. */
export function inheritKeywords<T extends InheritedKeywords>(child: T, parent: InheritedKeywords): T {
  const out: T = { ...child };
  // An inherited delegate_to keeps the position it was written at.
  if (out.delegateTo === undefined && parent.delegateToPos !== undefined) out.delegateToPos = parent.delegateToPos;
  for (const k of INHERITED_KEYWORDS) if (out[k] === undefined && parent[k] !== undefined) out[k] = parent[k];
  if (parent.environment?.length) out.environment = [...parent.environment, ...(child.environment ?? [])];
  if (parent.moduleDefaults?.length) out.moduleDefaults = [...parent.moduleDefaults, ...(child.moduleDefaults ?? [])];
  return out;
}

/** The keywords of `task` that its children inherit (a block's, or an include's). */
function ownKeywords(task: TaskDef): InheritedKeywords {
  const out: InheritedKeywords = {};
  for (const k of INHERITED_KEYWORDS) if (task[k] !== undefined) out[k] = task[k];
  if (task.delegateToPos !== undefined) out.delegateToPos = task.delegateToPos;
  if (task.environment !== undefined) out.environment = task.environment;
  if (task.moduleDefaults !== undefined) out.moduleDefaults = task.moduleDefaults;
  return out;
}

/**
 * The tasks and includes of a plan that --list-tasks and --list-tags show, in order: blocks flattened (their
 * `block:` section only: ansible-playbook lists no rescue or always task), includes not expanded.
 */
export function* listedNodes(nodes: readonly PlanNode[]): Generator<PlannedTask | PlannedInclude> {
  for (const n of nodes) {
    if (n.kind === 'block') yield* listedNodes(n.block);
    else yield n;
  }
}

/** The folder of the role a task came from (the first of its search folders, as the loader sets them). */
export function roleDirOf(task: TaskDef): string | undefined {
  const dir = task.role !== undefined ? task.searchDirs[0] : undefined;
  return dir === undefined ? undefined : path.resolve(dir);
}

/**
 * Ansible's `ansible_search_path` (Task.get_search_path): the role's folder, then the folder of the task's own
 * file. Lookups look for relative names there (each as DIR/files/NAME, then DIR/NAME), then in the playbook's folder.
 */
export function taskSearchPath(task: TaskDef): string[] {
  const taskDir = path.resolve(path.dirname(task.pos.file));
  const roleDir = roleDirOf(task);
  return roleDir !== undefined && roleDir !== taskDir ? [roleDir, taskDir] : [taskDir];
}

/**
 * Where a task's controller file (copy's or template's `src`, include_vars' file) is looked for, in order: each
 * of its search folders as DIR/KIND/REL then DIR/REL (the role's, then the playbook's), then the playbook's folder.
 */
export function controllerFilePaths(rel: string, kind: ControllerFileKind, searchDirs: readonly string[], playbookDir: string): string[] {
  if (path.isAbsolute(rel)) return [rel];
  return [...new Set(controllerFileDirs(kind, searchDirs, playbookDir).map((d) => path.join(d, rel)))];
}

/** The folders controllerFilePaths looks in, once each, in order. */
export function controllerFileDirs(kind: ControllerFileKind, searchDirs: readonly string[], playbookDir: string): string[] {
  return [...new Set([...searchDirs.flatMap((d) => [path.join(d, kind), d]), path.join(playbookDir, kind), playbookDir])];
}

type ControllerFileKind = 'files' | 'templates' | 'vars';

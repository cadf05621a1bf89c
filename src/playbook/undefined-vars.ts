import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, visit, type Node, type Pair, type YAMLMap } from 'yaml';
import { formatExcerpt, nearest, PlaybookError, type SourcePos, type VncplayError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { UNDEFINED_FALSE_TESTS, UNDEFINED_SAFE_FILTERS, UNDEFINED_SAFE_TESTS } from './filters.js';
import { moduleOfTask } from '../modules/registry.js';
import { loadIncludedRole, loadTaskFile, type IncludeRoleArgs, type LoadedRole } from './load.js';
import { varsFileVars, type ModuleDefaults, type PlayDef, type Playbook, type RawValue, type TaskDef } from './model.js';
import { moduleDefaultsPosition } from './module-defaults.js';
import { includedRoleTasks, includedTasks, NOTHING_INHERITED, planTasks, type PlanNode } from './plan.js';
import { isTemplateString, parseTemplateTree, templateGlobalNames, type TemplateNode } from './template.js';
import { magicVariables } from './vars.js';
import { keyOf, nodeAtPath, parseYamlSource, type YamlSource } from './yaml-source.js';

/*
 * Undefined variables, found before any host is contacted (issue 7, "bad input").
 *
 * A template that reads a variable nobody defines fails at run time, on every host, after connections were made.
 * This pass reads every template of a playbook statically (nunjucks' parse tree, the same parser render() uses)
 * and reports a root name that no source can define: not -e, not the inventory (any host or group), not play /
 * vars_files / role / block / task vars, not a register or set_fact anywhere in the playbook, not a loop variable,
 * fact, magic variable or template global.
 *
 * A false positive would block a valid playbook, which is worse than the run-time error it replaces, so the pass
 * only flags what is read UNCONDITIONALLY:
 * - inside a template: not in the right operand of and/or, not in an if/else branch, for body or macro body, and
 *   not when the same template guards the name (`is defined`, `is undefined`, `| default`, `| d`, `| mandatory`);
 * - in a task: only its first `when` is always evaluated. A task that has any `when` (its own or a block's) may be
 *   skipped, and then its arguments are never rendered (`command: ip netns exec {{ drill_netns }}` under
 *   `when: fault == 'link_down'` is valid), so only its first `when` is checked; its `loop` is rendered before
 *   `when`, but Ansible raises the loop's undefined variable only when `when` holds: it is checked only on a task
 *   without `when`;
 * - play/block/task `vars:` are rendered lazily: a var's own template is checked only when an unconditional read
 *   reaches it (an unused var with an undefined reference is valid in Ansible too);
 * - `name:` is never rendered as a template by the runner, `notify:` only after a change, changed_when and
 *   failed_when may use the result's own keys bare (`rc`, `stdout`): none of them is checked;
 * - tasks that do not run are not checked: tagged `never` or left out by --tags/--skip-tags, before
 *   --start-at-task, or in a play that matches no host (its pattern, --limit);
 * - an include_tasks with a templated path may load any file, which may set any fact: no task of the playbook is
 *   checked (a literal path is loaded and checked like the including task's block);
 * - include_vars may define any name (unless it puts them under one `name:`): then no task is checked;
 * - a name the playbook asserts itself (`assert: that: x is defined`, `fail` when `x is not defined`) is left to
 *   the playbook's own message.
 * Without an inventory (`--syntax-check` with no -i) any name could come from the inventory the real run uses,
 * so only what the runner renders with -e alone (a play's hosts, serial, max_fail_percentage) is checked.
 */

/** What the known names come from, besides the playbook itself. */
export interface UndefinedCheckOptions {
  /** `-e` variables. */
  extraVars: Record<string, unknown>;
  /**
   * The inventory the run will use, with group_vars/host_vars beside the playbook already loaded
   * (loadPlaybookVars). Undefined: no inventory is known (syntax-check without -i), see the file comment.
   */
  inventory?: Inventory;
  /**
   * Whether a task with these (effective) tags runs under --tags/--skip-tags (the runner's tagsSelected). Tasks
   * that do not run are not checked: by default that is only tasks tagged `never`.
   */
  taskSelected?: (tags: readonly string[]) => boolean;
  /** --start-at-task: the tasks before it do not run, so they are not checked. */
  startAtTask?: string;
  /** Whether a play has any host to run on (its pattern and --limit); a play without hosts renders nothing. */
  playSelected?: (play: PlayDef) => boolean;
}

/** Names a template reads, split by whether they are read whenever the template is rendered. */
export interface TemplateReads {
  /** Root names read whenever the template renders (minus names bound or guarded in it), in order, unique. */
  unconditional: string[];
  /** Root names read only on some paths (and/or, if, for, macro bodies). */
  conditional: string[];
  /** Names the template guards (`is defined`, `| default` …): guarded for the whole task when in its `when`. */
  guarded: string[];
}

/**
 * The root variable names a template reads (`foo.bar[0]` → foo), from the parse tree. Names the template binds
 * itself ({% set %}, {% for %}, macro arguments) are not reads. Undefined when the text does not parse (the loader
 * reports syntax errors with positions).
 */
export function templateReads(source: string, kind: 'value' | 'expression'): TemplateReads | undefined {
  const key = `${kind}\u0000${source}`;
  if (readsCache.has(key)) return readsCache.get(key);
  const reads = parseReads(source, kind);
  // Bounded like template.ts' cache: one process checks a few playbooks, but a library user may check many.
  if (readsCache.size >= 5000) readsCache.clear();
  readsCache.set(key, reads);
  return reads;
}

/** The same strings recur (`{{ session_user }}` on every task): each is parsed once. Results are not mutated. */
const readsCache = new Map<string, TemplateReads | undefined>();

function parseReads(source: string, kind: 'value' | 'expression'): TemplateReads | undefined {
  let root: TemplateNode;
  try {
    root = parseTemplateTree(source, kind);
  } catch {
    return undefined;
  }
  const w = new ReadWalker();
  w.walk(root, false);
  const guarded = new Set([...w.guarded]);
  const keep = (names: Iterable<string>): string[] => [...new Set(names)].filter((n) => !w.bound.has(n) && !guarded.has(n));
  const unconditional = keep(w.reads.filter((r) => !r.conditional).map((r) => r.name));
  const conditional = keep(w.reads.filter((r) => r.conditional).map((r) => r.name)).filter((n) => !unconditional.includes(n));
  return { unconditional, conditional, guarded: [...guarded] };
}

/** Reads of a condition (`when:` item): a bare expression, or text with `{{ }}` (Ansible's legacy form). */
export function conditionReads(expr: unknown): TemplateReads | undefined {
  if (typeof expr !== 'string') return undefined;
  const text = expr.trim();
  if (text === '' || BOOL_WORDS.has(text.toLowerCase())) return undefined;
  return templateReads(text, isTemplateString(text) ? 'value' : 'expression');
}

const BOOL_WORDS = new Set(['yes', 'no', 'true', 'false', 'on', 'off', 'y', 'n']);

interface Read {
  name: string;
  conditional: boolean;
}

/** Walks a nunjucks tree collecting variable reads, bound names and guards. */
class ReadWalker {
  readonly reads: Read[] = [];
  readonly bound = new Set<string>();
  readonly guarded = new Set<string>();

  walk(node: unknown, conditional: boolean): void {
    if (!isNode(node)) return;
    switch (node.typename) {
      case 'Symbol':
        this.reads.push({ name: String(node.value), conditional });
        return;
      case 'Literal':
      case 'TemplateData':
        return;
      case 'And':
      case 'Or':
        this.walk(node.left, conditional);
        this.walk(node.right, true);
        return;
      case 'If':
      case 'InlineIf':
        this.walk(node.cond, conditional);
        this.walk(node.body, true);
        this.walk(node.else_, true);
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        this.bindTargets(node.name);
        // Jinja's `loop` object exists inside every for body.
        this.bound.add('loop');
        this.walk(node.arr, conditional);
        this.walk(node.body, true);
        this.walk(node.else_, true);
        return;
      case 'Macro':
      case 'Caller':
        this.bindTargets(node.name);
        this.bindSignature(node.args);
        for (const n of ['caller', 'varargs', 'kwargs']) this.bound.add(n);
        this.walk(node.body, true);
        return;
      case 'Set':
        for (const t of childList(node.targets)) {
          if (t.typename === 'Symbol') this.bound.add(String(t.value));
          else this.walk(t, conditional);
        }
        this.walk(node.value, conditional);
        this.walk(node.body, conditional);
        return;
      case 'Filter':
        this.walkFilter(node, conditional);
        return;
      case 'Is':
        this.walkIs(node, conditional);
        return;
      case 'KeywordArgs':
        // `f(name=value)`: the names are literal keyword names, only the values are read.
        for (const pair of childList(node.children)) this.walk(pair.value, conditional);
        return;
      default:
        this.walkFields(node, conditional);
    }
  }

  private walkFields(node: TemplateNode, conditional: boolean): void {
    const fields = (node as unknown as { fields?: string[] }).fields ?? [];
    for (const f of fields) {
      const v = node[f];
      if (Array.isArray(v)) for (const c of v) this.walk(c, conditional);
      else this.walk(v, conditional);
    }
  }

  /** `x | default(y)`: x (and every name inside it) is guarded; the other arguments are read. */
  private walkFilter(node: TemplateNode, conditional: boolean): void {
    const name = String((node.name as TemplateNode | undefined)?.value ?? '').replace(/^ansible\.builtin\./, '');
    const [input, ...rest] = childList((node.args as TemplateNode | undefined)?.children);
    if (UNDEFINED_SAFE_FILTERS.has(name)) this.guardAll(input);
    else this.walk(input, conditional);
    for (const a of rest) this.walk(a, conditional);
  }

  /**
   * `x is defined` guards x for the whole template; `x is none` (and the other type tests) is simply false for an
   * undefined x, so it reads nothing but guards nothing either. The test's name is never a variable.
   */
  private walkIs(node: TemplateNode, conditional: boolean): void {
    const right = node.right as TemplateNode | undefined;
    const callee = right?.typename === 'FunCall' ? (right.name as TemplateNode) : right;
    const test = testName(callee);
    if (test !== undefined && UNDEFINED_SAFE_TESTS.has(test)) this.guardAll(node.left);
    else if (test !== undefined && UNDEFINED_FALSE_TESTS.has(test) && isPlainReference(node.left)) {
      // No read: the test is false for an undefined value.
    } else this.walk(node.left, conditional);
    if (right?.typename === 'FunCall') this.walk(right.args, conditional);
  }

  private guardAll(node: unknown): void {
    const inner = new ReadWalker();
    inner.walk(node, false);
    for (const r of inner.reads) this.guarded.add(r.name);
    for (const g of inner.guarded) this.guarded.add(g);
  }

  private bindTargets(node: unknown): void {
    if (!isNode(node)) return;
    if (node.typename === 'Symbol') this.bound.add(String(node.value));
    else for (const c of childList(node.children)) this.bindTargets(c);
  }

  /** Macro arguments: plain names and `name=default` pairs (defaults are read only when the macro is called). */
  private bindSignature(node: unknown): void {
    if (!isNode(node)) return;
    for (const c of childList(node.children)) {
      if (c.typename === 'Symbol') this.bound.add(String(c.value));
      else if (c.typename === 'KeywordArgs') {
        for (const pair of childList(c.children)) {
          this.bindTargets(pair.key);
          this.walk(pair.value, true);
        }
      }
    }
  }
}

function isNode(v: unknown): v is TemplateNode {
  return typeof v === 'object' && v !== null && typeof (v as { typename?: unknown }).typename === 'string';
}

function childList(v: unknown): TemplateNode[] {
  return Array.isArray(v) ? v.filter(isNode) : [];
}

/** A name or a chain of lookups on one (`x`, `x.y`, `x['y']`). */
function isPlainReference(node: unknown): boolean {
  if (!isNode(node)) return false;
  if (node.typename === 'Symbol') return true;
  return node.typename === 'LookupVal' && isPlainReference(node.target);
}

function testName(node: TemplateNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.typename === 'Symbol') return String(node.value).replace(/^ansible\.builtin\./, '');
  if (node.typename === 'Literal') return node.value === null ? 'none' : String(node.value);
  return undefined;
}

// ───────────────────────────── names that can be defined ─────────────────────────────

/**
 * Magic variables Ansible defines that the runner may not (yet): allowed, so a playbook written for Ansible is not
 * refused here (if the runner lacks one, the run-time error still names it).
 */
const ANSIBLE_MAGIC = [
  'hostvars', 'groups', 'group_names', 'inventory_hostname', 'inventory_hostname_short', 'inventory_dir', 'inventory_file',
  'play_hosts', 'playbook_dir', 'role_name', 'role_names', 'role_path', 'omit', 'vars', 'environment', 'item', 'loop',
];

/** Names defined by the runner for every task: magic variables (taken from vars.ts), template globals, literals. */
function runnerNames(): string[] {
  const magic = magicVariables({
    inventoryHostname: 'h',
    groups: {},
    groupNames: [],
    hostvars: {},
    checkMode: false,
    diffMode: false,
    playHosts: [],
    playBatch: [],
    playName: '',
    playbookDir: '',
    rolePath: '',
    roleName: '',
  });
  return [...Object.keys(magic), ...templateGlobalNames(), ...ANSIBLE_MAGIC];
}

/** Facts (ansible_facts, ansible_eth0 …), connection variables and loop/rescue variables: any `ansible_*`. */
function isAnsibleName(name: string): boolean {
  return name.startsWith('ansible_');
}

function inventoryNames(inv: Inventory): Set<string> {
  const names = new Set<string>();
  const add = (vars: Record<string, unknown> | undefined): void => {
    for (const k of Object.keys(vars ?? {})) names.add(k);
  };
  for (const h of inv.hosts.values()) {
    add(h.vars);
    add(h.playbookVars);
  }
  for (const g of inv.groups.values()) {
    add(g.vars);
    add(g.fileVars);
    add(g.playbookVars);
  }
  return names;
}

// ───────────────────────────── the pass ─────────────────────────────

/** One task list with what its tasks see from their enclosing blocks. */
interface TaskScope {
  /** Names of enclosing block (and include) vars. */
  vars: Map<string, VarDef>;
  /** A condition of an enclosing block may skip these tasks. */
  conditional: boolean;
  /** Names guarded by an enclosing block's `when`. */
  guarded: Set<string>;
}

/** A play/block/task var as written, followed into its value when an unconditional read reaches it. */
interface VarDef {
  value: RawValue;
  label: string;
  /** The task or play that declares it (its value is looked up under `vars.NAME` there); undefined: not followed. */
  anchor?: SourcePos;
}

/**
 * A template to check and where it is written, found lazily: the YAML is read again for positions only when
 * there is an error to report, so a clean playbook costs no second parse.
 */
interface Site {
  text: string;
  label: string;
  /** The task or play that holds the template (the loader's position of its first key). */
  anchor: SourcePos;
  /** Key path under the anchor's mapping where the template is written, when known (`['vars', 'port']`). */
  under?: readonly string[];
  /** For a var's value: the template that reads the var (where to point when the value is not found). */
  readBy?: Site;
}

interface Pending {
  name: string;
  site: Site;
  candidates: readonly string[];
  hint?: string;
}

/**
 * Every undefined variable of `playbook`, as positioned PlaybookErrors (E_TEMPLATE_UNDEFINED): an empty list
 * when there is none. include_tasks files with a literal path are loaded and checked too.
 */
export async function findUndefinedVariables(playbook: Playbook, opts: UndefinedCheckOptions): Promise<VncplayError[]> {
  const checker = new Checker(playbook, opts);
  await checker.run();
  const errors = await checker.errors();
  const fileOrder = new Map<string, number>([[path.normalize(playbook.file), 0]]);
  for (const e of errors) if (e.pos && !fileOrder.has(e.pos.file)) fileOrder.set(e.pos.file, fileOrder.size);
  // The playbook first, other files in the order met, then by position, as the loader reports its errors.
  return errors.sort(
    (a, b) =>
      (fileOrder.get(a.pos?.file ?? '') ?? 0) - (fileOrder.get(b.pos?.file ?? '') ?? 0) ||
      (a.pos?.line ?? 0) - (b.pos?.line ?? 0) ||
      (a.pos?.col ?? 0) - (b.pos?.col ?? 0),
  );
}

class Checker {
  private readonly pending: Pending[] = [];
  private readonly sources = new Map<string, Promise<YamlSource | undefined>>();
  private readonly includes = new Map<string, TaskDef[] | undefined>();
  /**
   * include_tasks sites already walked, by the include task's position. Each is walked once per pass: a file that
   * includes itself (a recursion Ansible allows under a `when`) would otherwise be expanded without end.
   */
  private readonly collectedIncludes = new Set<string>();
  private readonly checkedIncludes = new Set<string>();
  private readonly base = new Set<string>(runnerNames());
  /** register and set_fact names of the whole playbook (facts outlive their play), and loop_var/index_var names. */
  private readonly facts = new Set<string>();
  private opaque = false;
  /** Set while --start-at-task's task has not been met (tasks before it do not run). */
  private skippingToStart: boolean;

  constructor(
    private readonly playbook: Playbook,
    private readonly opts: UndefinedCheckOptions,
  ) {
    for (const k of Object.keys(opts.extraVars)) this.base.add(k);
    if (opts.inventory) for (const k of inventoryNames(opts.inventory)) this.base.add(k);
    this.skippingToStart = opts.startAtTask !== undefined;
  }

  async run(): Promise<void> {
    for (const play of this.playbook.plays) await this.collectDefinitions(play);
    for (const play of this.playbook.plays) this.checkPlayKeywords(play);
    // Without an inventory any name may come from it; with an opaque include any fact may be set.
    if (!this.opts.inventory || this.opaque) return;
    for (const play of this.playbook.plays) {
      if (!this.opts.playSelected || this.opts.playSelected(play)) await this.checkPlay(play);
    }
  }

  // ----- definitions -----

  private async collectDefinitions(play: PlayDef): Promise<void> {
    for (const list of [play.preTasks, play.roleTasks, play.tasks, play.postTasks, play.handlers]) await this.collectFrom(list);
  }

  private async collectFrom(tasks: readonly TaskDef[]): Promise<void> {
    for (const t of tasks) {
      if (t.register) this.facts.add(t.register);
      if (t.module === 'set_fact') for (const k of Object.keys(t.args)) this.facts.add(k);
      for (const k of moduleOfTask(t)?.factNames ?? []) this.facts.add(k);
      // A library/ module may set any fact (its ansible_facts), and nothing says which before it runs.
      if (t.libraryFile !== undefined) this.opaque = true;
      // getent sets the fact getent_DATABASE.
      if (t.module === 'getent') {
        const db = t.args['database'];
        if (typeof db === 'string' && !isTemplateString(db)) this.facts.add(`getent_${db}`);
        else this.opaque = true;
      }
      // include_vars defines what its files hold: one known name with `name:`, else any name.
      if (t.module === 'include_vars') {
        if (typeof t.args['name'] === 'string' && !isTemplateString(t.args['name'])) this.facts.add(t.args['name']);
        else this.opaque = true;
      }
      for (const g of this.authorGuards(t)) this.facts.add(g);
      this.facts.add(t.loopVar);
      const indexVar = t.loopControl?.['index_var'];
      if (typeof indexVar === 'string') this.facts.add(indexVar);
      for (const sub of [t.block, t.rescue, t.always]) if (sub) await this.collectFrom(sub);
      if (t.includeTasks !== undefined && firstVisit(this.collectedIncludes, t)) {
        const loaded = await this.includedTasks(t);
        if (loaded) await this.collectFrom(loaded);
        else this.opaque = true;
      }
      if (t.includeRole !== undefined && firstVisit(this.collectedIncludes, t)) {
        const role = await this.includedRole(t);
        if (!role) this.opaque = true;
        else {
          // The role's defaults and vars are defined for its tasks (and, public, for the play's later ones).
          for (const k of [...Object.keys(role.scope.defaults), ...Object.keys(role.scope.vars)]) this.facts.add(k);
          await this.collectFrom([...role.tasks, ...role.handlers]);
        }
      }
    }
  }

  /**
   * Names a playbook checks itself: `assert: that: x is defined` or `fail:`/`meta: end_play` under
   * `when: x is not defined`. The author's own message (exit 2) is the better error for those, so they count as
   * defined everywhere in the playbook.
   */
  private authorGuards(t: TaskDef): string[] {
    const conditions = t.module === 'assert' ? asList(t.args['that']) : t.module === 'fail' || t.module === 'meta' ? (t.when ?? []) : [];
    return conditions.flatMap((c) => conditionReads(c)?.guarded ?? []);
  }

  /** The role of an include_role whose name and files are literal (undefined when templated or broken). */
  private async includedRole(t: TaskDef): Promise<LoadedRole | undefined> {
    const spec = t.includeRole;
    if (!spec) return undefined;
    const literal = (v: unknown): v is string | undefined => v === undefined || (typeof v === 'string' && !isTemplateString(v));
    const { name, tasksFrom, varsFrom, defaultsFrom, handlersFrom } = spec;
    if (typeof name !== 'string' || ![name, tasksFrom, varsFrom, defaultsFrom, handlersFrom].every(literal)) return undefined;
    const args: IncludeRoleArgs = { name };
    if (typeof tasksFrom === 'string') args.tasksFrom = tasksFrom;
    if (typeof varsFrom === 'string') args.varsFrom = varsFrom;
    if (typeof defaultsFrom === 'string') args.defaultsFrom = defaultsFrom;
    if (typeof handlersFrom === 'string') args.handlersFrom = handlersFrom;
    try {
      return await loadIncludedRole(t, args);
    } catch {
      // A broken role is the loader's (or the run's) error to report; what it defines is unknown here.
      return undefined;
    }
  }

  /** The tasks of an include_tasks with a literal path (undefined when templated: any file may be loaded). */
  private async includedTasks(t: TaskDef): Promise<TaskDef[] | undefined> {
    if (typeof t.includeTasks !== 'string' || isTemplateString(t.includeTasks)) return undefined;
    const key = posText(t.pos);
    if (this.includes.has(key)) return this.includes.get(key) ?? [];
    this.includes.set(key, undefined);
    let tasks: TaskDef[] | undefined;
    try {
      tasks = await loadTaskFile(t.includeTasks, { includedFrom: t, playbookDir: playbookDirOf(this.playbook) });
    } catch {
      // A broken or missing file is the loader's (or the run's) error to report; its contents are unknown here.
      tasks = undefined;
    }
    this.includes.set(key, tasks);
    return tasks;
  }

  // ----- play keywords rendered with -e only -----

  private checkPlayKeywords(play: PlayDef): void {
    // The runner renders these with -e alone (and the template globals): no inventory, play or magic variables.
    const globals = new Set(templateGlobalNames());
    const known = (n: string): boolean => Object.hasOwn(this.opts.extraVars, n) || globals.has(n) || isAnsibleName(n);
    const sites: [string, unknown][] = [
      ['hosts', play.hosts],
      ['serial', play.serial],
      ['max_fail_percentage', play.maxFailPercentageTemplate],
    ];
    for (const [key, value] of sites) {
      if (typeof value !== 'string' || !isTemplateString(value)) continue;
      const reads = templateReads(value, 'value');
      if (!reads) continue;
      const site: Site = { text: value, label: key, anchor: play.pos, under: [key] };
      for (const name of reads.unconditional) {
        if (known(name)) continue;
        const hint = `a play's \`${key}\` is rendered with -e variables only: pass -e ${name}=… or give a fallback: {{ ${name} | default(...) }}`;
        this.pending.push({ name, site, candidates: Object.keys(this.opts.extraVars), hint });
      }
    }
  }

  // ----- plays and tasks -----

  private async checkPlay(play: PlayDef): Promise<void> {
    const playVars = new Map<string, VarDef>();
    const layer = (vars: Record<string, RawValue>, label: string, anchor?: SourcePos): void => {
      for (const [k, v] of Object.entries(vars)) playVars.set(k, { value: v, label: `${label}.${k}`, ...(anchor ? { anchor } : {}) });
    };
    // Precedence, lowest first: role defaults, play vars, vars_files, role vars. Only play vars are followed into
    // their values: the others' files are not known here (and role defaults lose to any inventory value).
    layer(play.roleDefaults, 'role defaults');
    layer(play.vars, 'vars', play.pos);
    // Answered when the run starts (after this check): defined, with a value nobody knows yet.
    layer(Object.fromEntries(play.varsPrompt.map((p) => [p.name, p.default ?? ''])), 'vars_prompt');
    for (const vf of play.varsFiles) layer(varsFileVars(vf), 'vars_files');
    layer(play.roleVars, 'role vars');
    const root: TaskScope = { vars: playVars, conditional: false, guarded: new Set() };
    const playTasks = [...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks];
    await this.checkTasks(planTasks(playTasks, { ...NOTHING_INHERITED, tags: play.tags }), root);
    // The runner selects handlers by their own tags only.
    await this.checkTasks(planTasks(play.handlers, NOTHING_INHERITED), root);
  }

  private async checkTasks(nodes: readonly PlanNode[], scope: TaskScope): Promise<void> {
    for (const n of nodes) await this.checkTask(n, scope);
  }

  /**
   * One task of the plan: its effective tags select it, its own values (as written, where errors point) are
   * checked; what it inherited was checked where it is written (the block, the import).
   */
  private async checkTask(node: PlanNode, scope: TaskScope): Promise<void> {
    const t = node.source;
    const vars = new Map(scope.vars);
    for (const [k, v] of Object.entries(t.vars)) vars.set(k, { value: v, label: `vars.${k}`, anchor: t.pos });
    const guarded = new Set(scope.guarded);
    const when = t.when ?? [];
    for (const c of when) for (const g of conditionReads(c)?.guarded ?? []) guarded.add(g);
    if (t.module === 'assert') for (const c of asList(t.args['that'])) for (const g of conditionReads(c)?.guarded ?? []) guarded.add(g);
    const local = new Set<string>([t.loopVar]);
    const indexVar = t.loopControl?.['index_var'];
    if (typeof indexVar === 'string') local.add(indexVar);
    const ctx: CheckContext = { vars, guarded, local, task: t };
    // An include is selected by its own tags (as the runner does); they do not pass to the tasks it loads.
    if (node.kind === 'include' && !this.tagsSelected(node.task.tags)) return;
    if (node.kind === 'task' && !this.runs(t, node.task.tags)) return;

    if (scope.conditional) return this.descend(node, { vars, conditional: true, guarded });
    // A task that ignores its errors (its own ignore_errors or a block's) goes on past an undefined variable: Ansible
    // fails it and runs the next task, and so does the runner. Nothing of it is refused before the run.
    if (node.kind === 'task' && node.task.ignoreErrors === true) return;
    // The loop is rendered before `when`, but its undefined variable fails the task only when `when` holds
    // (Ansible's TaskExecutor keeps the error aside until the task would run): checked here only without a `when`.
    // Only the first `when` item is always evaluated (a list is an AND).
    // with_first_found skips the names that use an undefined variable (`{{ ansible_distribution }}.yml`): by design.
    if (t.loop !== undefined && t.loopWith !== 'first_found' && when.length === 0) this.checkValue(t.loop, t.loopWith !== undefined ? `with_${t.loopWith}` : 'loop', ctx);
    if (when.length > 0) {
      this.checkCondition(when[0], 'when', ctx);
      return this.descend(node, { vars, conditional: true, guarded });
    }
    if (t.includeTasks !== undefined) this.checkValue(t.includeTasks, 'include_tasks', ctx);
    if (t.includeRole !== undefined) this.checkValue(t.args, 'include_role', ctx);
    if (t.dynamicModule !== undefined) this.checkValue(t.dynamicModule.name, 'action', ctx);
    if (t.module !== undefined || t.dynamicModule !== undefined) {
      this.checkArgs(t, ctx);
      if (t.module !== 'meta') this.checkModuleDefaults(node.task.moduleDefaults ?? [], ctx);
    }
    if (t.loopLabel !== undefined) this.checkValue(t.loopLabel, 'loop_control.label', ctx);
    if (t.until?.length) this.checkCondition(t.until[0], 'until', ctx);
    for (const layer of t.environment ?? []) this.checkValue(layer, 'environment', ctx);
    if (t.delegateTo !== undefined) this.checkValue(t.delegateTo, 'delegate_to', ctx);
    if (t.becomeUser !== undefined) this.checkValue(t.becomeUser, 'become_user', ctx);
    if (t.remoteUser !== undefined) this.checkValue(t.remoteUser, 'remote_user', ctx);
    if (t.connection !== undefined) this.checkValue(t.connection, 'connection', ctx);
    if (t.async !== undefined) this.checkValue(t.async, 'async', ctx);
    if (t.poll !== undefined) this.checkValue(t.poll, 'poll', ctx);
    return this.descend(node, { vars, conditional: false, guarded });
  }

  /** Whether a task (not a block or include) runs at all: its tags are selected and --start-at-task is past. */
  private runs(t: TaskDef, tags: readonly string[]): boolean {
    if (!this.tagsSelected(tags)) return false;
    if (this.skippingToStart) {
      if (t.name !== this.opts.startAtTask) return false;
      this.skippingToStart = false;
    }
    return true;
  }

  /** --tags/--skip-tags select a task with these (effective) tags; without them, all but `never`. */
  private tagsSelected(tags: readonly string[]): boolean {
    if (this.opts.taskSelected) return this.opts.taskSelected(tags);
    return !tags.includes('never') || tags.includes('always');
  }

  /** Into a block's tasks (rescue/always too) or an include's file or role, with the block's vars and conditions. */
  private async descend(node: PlanNode, scope: TaskScope): Promise<void> {
    if (node.kind === 'block') {
      for (const sub of [node.block, node.rescue, node.always]) if (sub) await this.checkTasks(sub, scope);
      return;
    }
    if (node.kind !== 'include' || !firstVisit(this.checkedIncludes, node.source)) return;
    if (node.what === 'tasks') {
      const loaded = await this.includedTasks(node.source);
      if (loaded) await this.checkTasks(includedTasks(node, loaded), scope);
    } else {
      const role = await this.includedRole(node.source);
      if (!role) return;
      // The role's tasks see its defaults and vars; their values are not followed (as for the play's roles).
      const vars = new Map(scope.vars);
      for (const [k, v] of Object.entries(role.scope.defaults)) if (!vars.has(k)) vars.set(k, { value: v, label: `role defaults.${k}` });
      for (const [k, v] of Object.entries(role.scope.vars)) vars.set(k, { value: v, label: `role vars.${k}` });
      await this.checkTasks(includedRoleTasks(node, role.tasks, role.scope), { ...scope, vars });
    }
  }

  private checkArgs(t: TaskDef, ctx: CheckContext): void {
    for (const [k, v] of Object.entries(t.args)) {
      if (t.module === 'assert' && k === 'that') {
        asList(v).forEach((x) => this.checkCondition(x, 'that', ctx));
        continue;
      }
      this.checkValue(v, k, ctx);
    }
  }

  private checkValue(value: unknown, label: string, ctx: CheckContext, anchor = ctx.task.pos): void {
    forEachTemplate(value, label, (text, where) => this.checkSite(text, 'value', where, ctx, anchor));
  }

  /**
   * Every module_defaults entry around a task that runs a module, whichever module it is for: Ansible renders them
   * all for each such task (get_action_args_with_defaults). Reported where the entry is written.
   */
  private checkModuleDefaults(layers: readonly ModuleDefaults[], ctx: CheckContext): void {
    for (const layer of layers) {
      const anchor = moduleDefaultsPosition(layer) ?? ctx.task.pos;
      for (const [name, entry] of Object.entries(layer)) this.checkValue(entry, `module_defaults.${name}`, ctx, anchor);
    }
  }

  private checkCondition(expr: unknown, label: string, ctx: CheckContext): void {
    if (typeof expr !== 'string') return;
    const text = expr.trim();
    if (text === '' || BOOL_WORDS.has(text.toLowerCase())) return;
    this.checkSite(expr, isTemplateString(text) ? 'value' : 'expression', label, ctx);
  }

  private checkSite(text: string, kind: 'value' | 'expression', label: string, ctx: CheckContext, anchor = ctx.task.pos): void {
    const reads = kind === 'value' ? templateReads(text, 'value') : templateReads(text.trim(), 'expression');
    if (!reads) return;
    this.checkReads(reads.unconditional, { text, label, anchor }, ctx, new Set());
  }

  /** Each read name must be defined; a play/block/task var that is a template is followed into its value. */
  private checkReads(names: readonly string[], site: Site, ctx: CheckContext, following: Set<string>): void {
    for (const name of names) {
      if (ctx.guarded.has(name)) continue;
      const def = ctx.vars.get(name);
      if (def) {
        // -e and facts (register, set_fact) replace the var's value on the hosts where they are set.
        const overridden = Object.hasOwn(this.opts.extraVars, name) || this.facts.has(name);
        if (!overridden && !following.has(name)) this.followVar(name, def, site, ctx, following);
        continue;
      }
      if (this.base.has(name) || this.facts.has(name) || ctx.local.has(name) || isAnsibleName(name)) continue;
      this.pending.push({ name, site, candidates: [...this.base, ...this.facts, ...ctx.vars.keys(), ...ctx.local] });
    }
  }

  /** A var's value is rendered in the reading task's scope, when it is read. */
  private followVar(name: string, def: VarDef, readBy: Site, ctx: CheckContext, following: Set<string>): void {
    const anchor = def.anchor;
    if (!anchor) return;
    const next = new Set(following).add(name);
    forEachTemplate(def.value, def.label, (text, label) => {
      const reads = templateReads(text, 'value');
      if (reads) this.checkReads(reads.unconditional, { text, label, anchor, under: ['vars', name], readBy }, ctx, next);
    });
  }

  // ----- reporting: positions are looked up only now -----

  async errors(): Promise<VncplayError[]> {
    const out: VncplayError[] = [];
    const seen = new Set<string>();
    for (const p of this.pending) {
      const at = await this.locate(p.site);
      const key = `${posText(at.pos)}:${p.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // One- and two-letter names are near everything; a suggestion there would be noise (as template.ts does).
      const near = p.name.length < 3 ? undefined : nearest(p.name, p.candidates.filter((c) => c !== p.name));
      const hint = near
        ? `did you mean '${near}'?`
        : (p.hint ?? `define '${p.name}' in vars, group_vars, host_vars or -e, or guard it: {{ ${p.name} | default(...) }} / when: ${p.name} is defined`);
      const usedAt = p.site.readBy ? ` (the var is used at ${posText((await this.locate(p.site.readBy)).pos)})` : '';
      out.push(
        new PlaybookError('E_TEMPLATE_UNDEFINED', `\`${at.label}\`: undefined variable '${p.name}'${usedAt}`, {
          pos: at.pos,
          ...(at.excerpt !== undefined ? { excerpt: at.excerpt } : {}),
          hint,
        }),
      );
    }
    return out;
  }

  /** Where a site's template is written: the scalar that holds it, else the task (or the template that reads it). */
  private async locate(site: Site): Promise<{ pos: SourcePos; excerpt?: string; label: string }> {
    const src = await this.source(site.anchor.file);
    const root = src ? nodeAt(src, site.anchor) : undefined;
    const scalar = root ? findScalar(root, site.text, site.under ?? []) : undefined;
    if (scalar && src) {
      const pos = src.posOf(scalar);
      return { pos, excerpt: formatExcerpt(src.text, pos.line, pos.col), label: site.label };
    }
    // A var handed down by a role or import is not written in the task: point at the template that reads it.
    if (site.readBy) return { ...(await this.locate(site.readBy)), label: `${site.label} (from a role or import)` };
    // Not written in the task itself: a `when` handed down by import_tasks/import_role, reported at the task.
    const label = site.label === 'when' ? 'when (inherited from an import)' : site.label;
    const pos = site.anchor;
    return { pos, ...(src ? { excerpt: formatExcerpt(src.text, pos.line, pos.col) } : {}), label };
  }

  private source(file: string): Promise<YamlSource | undefined> {
    let p = this.sources.get(file);
    if (!p) {
      p = readFile(file, 'utf8').then(
        // A vault-encrypted file gives no positions: decrypting it here could print its plaintext in an excerpt.
        (text) => (/^\s*\$ANSIBLE_VAULT;/.test(text) ? undefined : parseYamlSource(file, text).source),
        () => undefined,
      );
      this.sources.set(file, p);
    }
    return p;
  }
}

interface CheckContext {
  vars: Map<string, VarDef>;
  guarded: Set<string>;
  /** The task's loop_var and index_var. */
  local: Set<string>;
  task: TaskDef;
}

function posText(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** True the first time `task` is seen by `visited` (keyed by its position), and records it. */
function firstVisit(visited: Set<string>, task: TaskDef): boolean {
  const key = posText(task.pos);
  if (visited.has(key)) return false;
  visited.add(key);
  return true;
}

/** As the runner computes it (RunEnv.playbookDir): include_tasks paths are tried there. */
function playbookDirOf(pb: Playbook): string {
  return path.dirname(path.resolve(pb.file));
}

/** Every template string inside `value` (deep), with a label naming where it sits (`env.PATH`, `argv[1]`). */
function forEachTemplate(value: unknown, label: string, f: (text: string, label: string) => void): void {
  if (typeof value === 'string') {
    if (isTemplateString(value)) f(value, label);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => forEachTemplate(v, `${label}[${i}]`, f));
  } else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) forEachTemplate(v, `${label}.${k}`, f);
  }
}

// ───────────────────────────── positions ─────────────────────────────

/** Per file: each mapping by the offset it starts at and the offset of its first key (built once, by one walk). */
const mapsByOffset = new WeakMap<YamlSource, Map<number, YAMLMap>>();

/** The YAML mapping that starts at `pos` (a task's or play's first key, as the loader records it). */
function nodeAt(src: YamlSource, pos: SourcePos): YAMLMap | undefined {
  const start = src.lines.lineStarts[pos.line - 1];
  if (start === undefined) return undefined;
  let maps = mapsByOffset.get(src);
  if (!maps) {
    const index = new Map<number, YAMLMap>();
    visit(src.doc, {
      Map(_k, map) {
        const first = (map.items[0] as Pair<Node, unknown> | undefined)?.key;
        for (const at of [map.range?.[0], first?.range?.[0]]) if (at !== undefined && !index.has(at)) index.set(at, map);
      },
    });
    mapsByOffset.set(src, (maps = index));
  }
  return maps.get(start + pos.col - 1);
}

/** Keys never searched for a task's templates: other tasks (block/rescue/always) and the unrendered `name`. */
const NESTED_TASK_KEYS = new Set(['block', 'rescue', 'always', 'name']);

/**
 * The scalar under `root` that holds `text` (exactly, else as a part: `msg="{{ x }}"` in a free-form line),
 * optionally under the key path `under`. Undefined when it is not written there (inherited from an import).
 */
function findScalar(root: unknown, text: string, under: readonly string[] = []): Node | undefined {
  const start = under.length ? nodeAtPath(root, under) : { node: root, found: true };
  if (!start.found) return undefined;
  let partial: Node | undefined;
  const search = (n: unknown): Node | undefined => {
    if (isScalar(n)) {
      if (n.value === text) return n;
      if (partial === undefined && typeof n.value === 'string' && n.value.includes(text.trim())) partial = n;
      return undefined;
    }
    if (isMap(n)) {
      for (const pair of n.items as Pair<unknown, unknown>[]) {
        if (n === root && NESTED_TASK_KEYS.has(keyOf(pair))) continue;
        const hit = search(pair.value);
        if (hit) return hit;
      }
    } else if (isSeq(n)) {
      for (const item of n.items) {
        const hit = search(item);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return search(start.node) ?? partial;
}

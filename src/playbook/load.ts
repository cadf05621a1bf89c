import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { YAMLMap, type Pair } from 'yaml';
import { ErrorList, formatExcerpt, PlaybookError, VaultError, VncplayError as VncplayErrorClass, type SourcePos, type VncplayError } from '../errors.js';
import { decryptFileText, recordSecret } from '../vault/session.js';
import { isVaultText, VAULT_HEADER } from '../vault/format.js';
import { decryptSource } from '../modules/copy.js';
import { moduleNameProblem, type ModuleNameProblem } from '../modules/ansible-names.js';
import { CollectionModuleSearch } from '../modules/library/collections.js';
import { libraryModule } from '../modules/library/module.js';
import { defaultLibrary, defaultModuleUtils, ModuleSearchPath } from '../modules/library/search-path.js';
import { captureSpec, checkCapturedArgs } from '../modules/library/argspec.js';
import { allModules, payloadRootsOf } from '../modules/registry.js';
import type { AnyModule, ControllerFile } from '../modules/types.js';
import { coerceToSchemaType, parseKeyValue, splitArgs } from './free-form.js';
import { Unsafe } from './filters.js';
import { assignOwn } from './own-keys.js';
import { suggest } from './suggest.js';
import { PerHostVarsFile, type HostOrder, type ModuleDefaults, type IncludeRole, type RoleScope, type RoleSearch, type PlayDef, type Playbook, type RawValue, type TaskDef, type VarsPrompt } from './model.js';
import { controllerFilePaths, effectiveTask, implicitTask, type Inherited as PlanInherited, type InheritedKeywords } from './plan.js';
import {
  collectionPrefixes,
  createModuleLookup,
  importKeys,
  importPlaybookKeys,
  importPlaybookProperties,
  includeKeys,
  includeRoleKeys,
  legacyIncludeKeys,
  playKeywordProperties,
  roleKeys,
  roleEntryProperties,
  taskKeywordProperties,
  type ModuleLookup,
} from './schema.js';
import { registerCollectionRoots, registerPluginFolders } from './python-plugins.js';
import { roleArgumentsTaskName } from './role-argument-spec.js';
import { GROUP_PREFIX, moduleDefaultsFor, moduleDefaultsKey, noteModuleDefaultsPosition } from './module-defaults.js';
import { resolveActionGroup } from '../modules/action-groups.js';
import { checkKeywords, checkModuleArgs, describeValue, type KeywordFragment, type SchemaIssue } from './validate.js';
import { isMap, isScalar, isSeq, keyOf, nodeAtPath, pairsOf, parseYamlSource, readSourceText, type readYamlSource, type YamlSource } from './yaml-source.js';
import { unsupportedPlayKeys, unsupportedTaskKeys } from './unsupported-keywords.js';

/**
 * Playbook loading: YAML (with positions) → validated PlayDef/TaskDef trees. Every problem in every file the
 * playbook references is collected and thrown once, as an ErrorList of positioned PlaybookErrors; nothing is
 * half-loaded. import_tasks, import_playbook, roles and vars_files are resolved here; include_tasks is left
 * for the runner, which calls loadTaskFile at run time.
 */

export interface LoadOptions {
  /** `-e` variables: used to resolve `{{ var }}` in vars_files paths. */
  extraVars?: Record<string, unknown>;
  /** Modules to accept instead of the registry's (tests, embedding). */
  modules?: readonly AnyModule[];
  /** ansible.cfg's roles_path: folders searched for roles after the playbook's roles/. */
  rolesPath?: readonly string[];
  /** ansible.cfg's collections_path: folders searched for collection roles and modules after the playbook's collections/. */
  collectionsPath?: readonly string[];
  /**
   * ansible.cfg's collections_scan_sys_path (ANSIBLE_COLLECTIONS_SCAN_SYS_PATH): whether the controller Python's
   * sys.path (Debian's dist-packages/ansible_collections) is searched for collection modules after collections_path.
   * Default true, as Ansible's.
   */
  collectionsScanSysPath?: boolean;
  /** ansible.cfg's `library` (ANSIBLE_LIBRARY): module files looked for after the playbook's and roles' library/. */
  library?: readonly string[];
  /** ansible.cfg's `module_utils` (ANSIBLE_MODULE_UTILS): after the playbook's and roles' module_utils/. */
  moduleUtils?: readonly string[];
}

export interface TaskFileContext {
  /** Folder of the playbook (Playbook.file's folder): the second place relative paths are tried. */
  playbookDir: string;
  /** File that holds the include_tasks: its folder is tried first. */
  fromFile?: string;
  /** The include_tasks task itself (better than fromFile): its file's folder is tried first, its role and searchDirs pass on. */
  includedFrom?: TaskDef;
  modules?: readonly AnyModule[];
}

export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<Playbook> {
  const moduleSearch = new ModuleSearchPath({ library: opts.library ?? defaultLibrary(), moduleUtils: opts.moduleUtils ?? defaultModuleUtils() });
  const collectionsPath = opts.collectionsPath ?? [];
  const collectionModules = new CollectionModuleSearch({ collectionsPath, scanSysPath: opts.collectionsScanSysPath ?? true });
  const loader = new Loader(opts.modules, opts.extraVars ?? {}, { rolesPath: opts.rolesPath ?? [], collectionsPath, moduleSearch, collectionModules });
  const plays = await loader.playbookFile(path.normalize(file), undefined, new Set());
  loader.throwIfErrors();
  return { file, plays, warnings: loader.warningLines(), notes: unique(loader.notes.map(positionedLine)) };
}

/** Load a task file (for include_tasks at run time) with the same validation as at load. */
export async function loadTaskFile(file: string, ctx: TaskFileContext): Promise<TaskDef[]> {
  const loader = new Loader(ctx.modules, {}, ctx.includedFrom?.roleSearch);
  const from = ctx.includedFrom;
  const including = from?.pos.file ?? ctx.fromFile;
  const fileRole = roleOfFile(ctx.fromFile);
  const roleDir = from ? from.roleDir : fileRole?.dir;
  const bases = taskFileBases(including, roleDir, ctx.playbookDir);
  const found = await firstExisting(candidatePaths(file, bases));
  if (!found) {
    const where = from?.pos;
    const excerpt = where ? await readFile(where.file, 'utf8').then((t) => formatExcerpt(t, where.line, where.col), () => undefined) : undefined;
    throw new ErrorList([
      new PlaybookError('E_MISSING_FILE', `task file \`${file}\` not found`, {
        ...(where ? { pos: where } : {}),
        ...(excerpt ? { excerpt } : {}),
        hint: `looked in: ${candidatePaths(file, bases).join(', ')}`,
      }),
    ]);
  }
  // Without the including task, a file inside roles/NAME/tasks/ still belongs to that role (files/, templates/).
  const roleName = from ? from.role : fileRole?.name;
  const scope: Scope = {
    playbookDir: ctx.playbookDir,
    searchDirs: from?.searchDirs ?? (roleDir ? [roleDir, ctx.playbookDir] : [ctx.playbookDir]),
    handler: false,
    dynamic: true,
    ...(roleName ? { roleName } : {}),
    ...(roleDir ? { roleDir } : {}),
    ...(from?.collections ? { collections: from.collections } : {}),
    ...(from?.moduleDefaults ? { moduleDefaults: from.moduleDefaults } : {}),
  };
  const tasks = await loader.taskFile(found, scope, new Set());
  loader.throwIfErrors();
  return tasks;
}

/** An include_role's arguments, rendered for one host. */
export interface IncludeRoleArgs {
  name: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
}

/** The role an include_role names (for one host, its arguments rendered), loaded and checked as at load time. */
export async function loadIncludedRole(task: TaskDef, args: IncludeRoleArgs, modules?: readonly AnyModule[]): Promise<LoadedRole> {
  const spec = task.includeRole;
  if (!spec) throw new Error(`loadIncludedRole: the task at ${task.pos.file}:${task.pos.line} is not an include_role`);
  const loader = new Loader(modules, {}, task.roleSearch);
  const files: RoleFiles = {
    ...(args.tasksFrom !== undefined ? { tasks: args.tasksFrom } : {}),
    ...(args.handlersFrom !== undefined ? { handlers: args.handlersFrom } : {}),
    ...(args.defaultsFrom !== undefined ? { defaults: args.defaultsFrom } : {}),
    ...(args.varsFrom !== undefined ? { vars: args.varsFrom } : {}),
  };
  const role = await loader.roleAtTask(task, args.name, files, {
    playbookDir: spec.playbookDir,
    ...(task.collections ? { collections: task.collections } : {}),
    ...(task.moduleDefaults ? { moduleDefaults: task.moduleDefaults } : {}),
  });
  loader.throwIfErrors();
  if (!role) throw new PlaybookError('E_ROLE_NOT_FOUND', `role \`${args.name}\` could not be loaded`, { pos: task.pos });
  return role;
}

/**
 * Where a relative task file (include_tasks, import_tasks) is looked for, as Ansible does: in a role, its tasks/
 * first (also from its handlers), then the including file's folder, the role's folder; then the playbook's folder.
 */
function taskFileBases(includingFile: string | undefined, roleDir: string | undefined, playbookDir: string): string[] {
  const including = includingFile ? [path.dirname(includingFile)] : [];
  return unique(roleDir ? [path.join(roleDir, 'tasks'), ...including, roleDir, playbookDir] : [...including, playbookDir]);
}

/** `…/roles/NAME/tasks/x.yml` → the role NAME and its folder. */
function roleOfFile(file: string | undefined): { name: string; dir: string } | undefined {
  if (!file) return undefined;
  const m = /^(.*[\\/])?roles[\\/]([^\\/]+)[\\/](tasks|handlers)[\\/]/.exec(file);
  return m ? { name: m[2]!, dir: path.join(m[1] ?? '', 'roles', m[2]!) } : undefined;
}

// ---------- internals ----------

interface Scope {
  playbookDir: string;
  searchDirs: string[];
  handler: boolean;
  roleName?: string;
  /** The role's folder, for tasks of a role: includes look in its tasks/ (Ansible's search path). */
  roleDir?: string;
  /** The play's `collections:`, for short names of collection roles. */
  collections?: readonly string[];
  /** Inside a file reached only by a conditional or templated include_tasks: its problems are warnings. */
  soft?: boolean;
  /** Inside a file an include_tasks loads (when it runs): an old `include:` here is dynamic too, as in Ansible. */
  dynamic?: boolean;
  /** Where import_role puts role defaults/vars/handlers (the play's, or a stand-in for include_tasks files). */
  sink?: RoleSink;
  /** The `module_defaults:` layers around these tasks (play, blocks, imports), for the load-time argument check. */
  moduleDefaults?: ModuleDefaults[];
  /** Inside a block, import or role with a `when:` or a loop: these tasks may never run (see mayNotRun). */
  mayNotRun?: boolean;
}

/** The play-level places a role fills besides its tasks. */
interface RoleSink {
  defaults: Record<string, RawValue>;
  vars: Record<string, RawValue>;
  handlers: TaskDef[];
  /** Roles already added (dir + parameters), for Ansible's run-once-per-play rule. */
  seen: Set<string>;
  /** Every literal `notify:` name with its node, checked against the play's handlers once they are all known. */
  notifies: { src: YamlSource; node: unknown; name: string }[];
  /** Set when an include_role names its role with a template: its handlers cannot be known before the run. */
  unknownHandlers?: boolean;
}

/** What include_role loads at run time. */
export interface LoadedRole {
  tasks: TaskDef[];
  handlers: TaskDef[];
  scope: RoleScope;
}

/** Alternative role files of import_role (tasks_from …). */
interface RoleFiles {
  tasks?: string;
  handlers?: string;
  defaults?: string;
  vars?: string;
}

const sinks = new WeakMap<PlayDef, RoleSink>();
function playSink(play: PlayDef): RoleSink {
  let s = sinks.get(play);
  if (!s) {
    s = { defaults: play.roleDefaults, vars: play.roleVars, handlers: play.handlers, seen: new Set(), notifies: [] };
    sinks.set(play, s);
  }
  return s;
}

const taskKeywordNames = new Set(Object.keys(taskKeywordProperties()));
const playKeywordNames = new Set(Object.keys(playKeywordProperties()));
const importPlaybookNames = new Set(Object.keys(importPlaybookProperties()));
const roleEntryNames = new Set(Object.keys(roleEntryProperties()));
const actionKeywords = new Set<string>([...includeKeys, ...legacyIncludeKeys, ...importKeys, ...roleKeys, 'action', 'local_action']);
// Keywords whose values are not checked as `{{ }}` templates with the others: conditions are bare expressions
// (checkConditions), block/rescue/always hold tasks checked one by one, and module arguments (args, action,
// local_action) are checked with the module's other arguments.
const notPlainTemplateKeywords = new Set(['when', 'changed_when', 'failed_when', 'until', 'block', 'rescue', 'always', 'args', 'action', 'local_action']);

type TemplateModule = typeof import('./template.js');
let templateModule: Promise<TemplateModule> | undefined;
let conditionalModule: Promise<typeof import('./conditional.js')> | undefined;
const conditionKeys = ['when', 'changed_when', 'failed_when', 'until'] as const;
const yamlExts = ['.yml', '.yaml'];
/** Code of a warning about a deprecated form that still works (`include:`). */
const DEPRECATED = 'W_DEPRECATED';
/**
 * Code of a warning about what Ansible refuses only when the task runs (a removed module parameter or value, a
 * controller file missing at load time): --syntax-check passes it, so the run starts, and the task fails there.
 */
const RUN_TIME = 'W_RUN_TIME';
/** What each kind of warning adds to its message: why it does not stop the run. */
const warningNotes: Readonly<Record<string, string>> = {
  [DEPRECATED]: '',
  [RUN_TIME]: ' (Ansible checks this only when the task runs: the playbook loads, and the task fails on a host that runs it)',
};
const SOFT_INCLUDE_NOTE = ' (only a conditional or templated include_tasks reaches this file: a host that runs it fails there)';

/** Keywords an import or a role hands down to each of its tasks when the task does not set them itself. */
/** What a role entry or import hands down to the tasks it expands to. */
type Inherited = Partial<PlanInherited>;

class Loader {
  readonly errors: VncplayError[] = [];
  readonly lookup: ModuleLookup;
  private readonly fileOrder = new Map<string, number>();
  /**
   * include_tasks files already checked at load (a file included from several places is checked once), and whether
   * their errors counted as errors ('hard') or warnings ('soft'; checked again where an include needs it hard).
   */
  private readonly checkedIncludes = new Map<string, 'soft' | 'hard'>();
  /** Problems in files only conditional or templated includes reach (see checkIncludedFile). */
  readonly warnings: VncplayError[] = [];
  /** What is left to the run (a module chosen by a template), shown at -v. */
  readonly notes: VncplayError[] = [];
  /** Files that were vault-encrypted: values read from their vars are run secrets. */
  private readonly encryptedFiles = new Set<string>();

  /** Where roles are found, and module files: one search path shared by every load of the run (include_role too). */
  private readonly search: RoleSearch & { moduleSearch: ModuleSearchPath };

  constructor(
    modules: readonly AnyModule[] | undefined,
    private readonly extraVars: Record<string, unknown>,
    search: RoleSearch = { rolesPath: [], collectionsPath: [] },
  ) {
    this.lookup = createModuleLookup(modules ?? allModules());
    this.search = { ...search, moduleSearch: search.moduleSearch ?? new ModuleSearchPath() };
  }

  /**
   * The module a task key selects, as Ansible's module loader finds it: a short name (or `ansible.legacy.NAME`,
   * `ansible.builtin.NAME`) in a library/ folder known so far comes first, shadowing a builtin of the same name; then
   * vncplay's modules; then the module file of the controller's installed collections, for a module vncplay lacks.
   */
  private findModule(key: string): { module: AnyModule; libraryFile?: string } | undefined {
    const libraryFile = key.includes('.') && !/^ansible\.(legacy|builtin)\./.test(key) ? undefined : this.search.moduleSearch.find(key);
    if (libraryFile !== undefined) {
      const name = key.replace(/^ansible\.(legacy|builtin)\./, '');
      return { module: libraryModule(libraryFile, name, () => payloadRootsOf(this.search)), libraryFile };
    }
    const module = this.lookup.find(key);
    if (module) return { module };
    const installed = this.search.collectionModules?.find(key);
    if (installed === undefined || 'problem' in installed) return undefined;
    return { module: libraryModule(installed.file, key, () => payloadRootsOf(this.search)), libraryFile: installed.file };
  }

  /** Why a key that selects no module is not one: the installed collections' reason first, then Ansible's names. */
  private moduleProblem(key: string): ModuleNameProblem | undefined {
    const installed = this.search.collectionModules?.find(key);
    return installed !== undefined && 'problem' in installed ? installed.problem : moduleNameProblem(key);
  }

  throwIfErrors(): void {
    if (this.errors.length === 0) return;
    const order = (f: string | undefined): number => this.fileOrder.get(f ?? '') ?? Number.MAX_SAFE_INTEGER;
    const sorted = this.errors
      .map((e, i) => ({ e, i }))
      .sort(
        (a, b) =>
          order(a.e.pos?.file) - order(b.e.pos?.file) ||
          (a.e.pos?.line ?? 0) - (b.e.pos?.line ?? 0) ||
          (a.e.pos?.col ?? 0) - (b.e.pos?.col ?? 0) ||
          a.i - b.i,
      )
      .map((x) => x.e);
    // A file imported from two places would report its errors twice; once is enough.
    const seen = new Set<string>();
    throw new ErrorList(sorted.filter((e) => !seen.has(e.format()) && seen.add(e.format())));
  }

  /** Each warning once, in file order, as one line: where, what, and why it does not stop the run. */
  warningLines(): string[] {
    return unique(this.warnings.map((w) => `${positionedLine(w)}${warningNotes[w.code] ?? SOFT_INCLUDE_NOTE}`));
  }

  /** Read a YAML file; its syntax errors are recorded. Undefined when it cannot be walked. */
  private async read(file: string): Promise<YamlSource | undefined> {
    if (!this.fileOrder.has(file)) this.fileOrder.set(file, this.fileOrder.size);
    let parsed: Awaited<ReturnType<typeof readYamlSource>>;
    try {
      const raw = await readSourceText(file);
      // A vault-encrypted file (playbook, tasks, vars) is decrypted with the command line's passwords.
      const { text, encrypted } = decryptFileText(raw, file);
      parsed = parseYamlSource(file, text);
      if (encrypted) {
        this.encryptedFiles.add(file);
        // Excerpts of a decrypted file would print its plaintext: keep only position, message and hint.
        parsed.errors = parsed.errors.map((e) => new PlaybookError(e.code, e.message, { ...(e.pos ? { pos: e.pos } : {}), ...(e.hint ? { hint: e.hint } : {}) }));
      }
    } catch (err) {
      if (err instanceof VaultError || err instanceof PlaybookError) {
        this.errors.push(err);
        return undefined;
      }
      const code = (err as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT';
      this.errors.push(
        new PlaybookError(missing ? 'E_MISSING_FILE' : 'E_READ', missing ? `\`${file}\` not found` : `cannot read \`${file}\` (${code ?? String(err)})`, {
          hint: missing ? `check the path (relative to ${process.cwd()})` : 'check that it is a readable file',
          cause: err,
        }),
      );
      return undefined;
    }
    const { source, errors, usable } = parsed;
    this.errors.push(...errors);
    return usable ? source : undefined;
  }

  private issues(src: YamlSource, base: unknown, issues: SchemaIssue[], fallback?: unknown): void {
    for (const i of issues) {
      const at = nodeAtPath(base, i.path);
      const node = at.found ? (i.onKey ? at.keyNode : at.node) : (fallback ?? at.node);
      this.errors.push(src.error(i.code, i.message, node, i.hint));
    }
  }

  private async checkKeywords(src: YamlSource, node: unknown, fragment: KeywordFragment, data: Record<string, unknown>, owner: string): Promise<void> {
    this.issues(src, node, await checkKeywords(fragment, data, this.lookup, owner));
  }

  // ----- playbooks -----

  async playbookFile(file: string, via: { src: YamlSource; node: unknown } | undefined, stack: Set<string>): Promise<PlayDef[]> {
    const abs = path.resolve(file);
    if (stack.has(abs)) {
      if (via) this.errors.push(via.src.error('E_IMPORT_CYCLE', `\`${file}\` imports itself (directly or through other playbooks)`, via.node, 'remove the circular import_playbook'));
      return [];
    }
    const src = await this.read(file);
    if (!src) return [];
    registerPluginFolders(path.dirname(abs));
    this.search.moduleSearch.addPluginFolders(path.dirname(abs));
    this.search.collectionModules?.addPlaybookDir(path.dirname(abs));
    registerCollectionRoots(this.collectionRoots(path.dirname(abs)));
    const root = src.root;
    if (root === null || (isScalar(root) && root.value === null)) {
      this.errors.push(src.error('E_PLAYBOOK_SHAPE', 'the playbook is empty: expected a list of plays', 0, 'start with `- hosts: all` and a `tasks:` list'));
      return [];
    }
    if (!isSeq(root)) {
      this.errors.push(
        src.error(
          'E_PLAYBOOK_SHAPE',
          `a playbook must be a list of plays, got ${isMap(root) ? 'a mapping' : 'a scalar'}`,
          root,
          'start each play with a dash: `- hosts: all`',
        ),
      );
      return [];
    }
    const inner = new Set(stack).add(abs);
    const plays: PlayDef[] = [];
    for (const item of root.items) {
      const legacy = pairsOf(item).find((p) => (legacyIncludeKeys as readonly string[]).includes(keyOf(p)));
      if (legacy && !pairsOf(item).some((p) => keyOf(p) === 'hosts')) {
        // Ansible 2.14 has no playbook includes any more: it says "'include' is not a valid attribute for a Play".
        this.errors.push(src.error('E_PLAY_INCLUDE', '`include` of a playbook is not supported (ansible-playbook 2.14 refuses it too)', legacy.key, `write \`- import_playbook: ${String(src.toJS(legacy.value))}\``));
        continue;
      }
      const importPair = pairsOf(item).find((p) => (importPlaybookKeys as readonly string[]).includes(keyOf(p)));
      if (importPair) plays.push(...(await this.importPlaybook(src, item, importPair, inner)));
      else {
        const play = await this.play(src, item);
        if (play) plays.push(play);
      }
    }
    return plays;
  }

  private async importPlaybook(src: YamlSource, node: unknown, pair: Pair<unknown, unknown>, stack: Set<string>): Promise<PlayDef[]> {
    const kw = this.keywordPairs(src, node, importPlaybookNames, 'import_playbook entry', () => 'an import_playbook entry takes only name, tags, vars and when');
    await this.checkKeywords(src, node, 'importPlaybookKeywords', kw.values, 'import_playbook');
    const target = kw.values[keyOf(pair)];
    if (typeof target !== 'string') return [];
    const file = await this.resolveFile(src, pair.value, target, [path.dirname(src.file)], 'playbook');
    if (!file) return [];
    const plays = await this.playbookFile(file, { src, node: pair.value }, stack);
    await this.checkConditions(src, node, kw.values);
    const tags = toTags(kw.values.tags);
    const vars = asRecord(kw.values.vars);
    const when = toConditions(kw.values.when);
    for (const p of plays) {
      p.tags = unique([...tags, ...p.tags]);
      p.vars = { ...vars, ...p.vars };
      // As in Ansible, the condition goes onto every task of the imported plays (handlers run only when notified).
      if (when) for (const k of ['preTasks', 'roleTasks', 'tasks', 'postTasks'] as const) p[k] = p[k].map((t) => effectiveTask(t, { when }));
    }
    return plays;
  }

  /** Split a mapping into known keyword values and report unknown keys (with a nearest-name hint). */
  private keywordPairs(
    src: YamlSource,
    node: unknown,
    known: Set<string>,
    what: string,
    extraHint: (key: string) => string | undefined,
    unsupported: Record<string, string> = {},
  ): { values: Record<string, unknown>; pairs: Map<string, Pair<unknown, unknown>> } {
    const values: Record<string, unknown> = {};
    const pairs = new Map<string, Pair<unknown, unknown>>();
    for (const p of pairsOf(node)) {
      const k = keyOf(p);
      if (known.has(k)) {
        if (k === 'vars') p.value = mergedVarsList(p.value);
        values[k] = src.keywordJS(p.value);
        pairs.set(k, p);
        continue;
      }
      if (unsupported[k]) {
        this.errors.push(src.error('E_UNSUPPORTED_KEY', `\`${k}\` is an Ansible ${what} keyword that vncplay does not support`, p.key, unsupported[k]));
        continue;
      }
      const near = suggest(k, known);
      const hint = near ? `did you mean \`${near}\`?` : (extraHint(k) ?? `valid keys: ${[...known].join(', ')}`);
      this.errors.push(src.error('E_UNKNOWN_KEY', `unknown ${what} key \`${k}\``, p.key, hint));
    }
    return { values, pairs };
  }

  private async play(src: YamlSource, node: unknown): Promise<PlayDef | undefined> {
    if (!isMap(node)) {
      this.errors.push(src.error('E_PLAY_SHAPE', `expected a play (a mapping with \`hosts:\`), got ${describeValue(src.toJS(node))}`, node, 'a play looks like `- hosts: all` followed by `tasks:`'));
      return undefined;
    }
    const playbookDir = path.dirname(src.file);
    const kw = this.keywordPairs(src, node, playKeywordNames, 'play', (k) =>
      this.lookup.find(k) || taskKeywordNames.has(k) ? `\`${k}\` belongs to a task: put it under \`tasks:\`` : undefined,
      unsupportedPlayKeys,
    );
    const v = kw.values;
    await this.checkKeywords(src, node, 'playKeywords', v, 'play');
    if (v.hosts === undefined) {
      this.errors.push(src.error('E_MISSING_HOSTS', 'play has no `hosts`: every play names the hosts it runs on', node, 'add `hosts: all` (or a group or host pattern)'));
    }
    const hosts = Array.isArray(v.hosts) ? v.hosts.map(String).join(':') : String(v.hosts ?? '');
    const play: PlayDef = {
      pos: src.posOf(node),
      name: typeof v.name === 'string' ? v.name : hosts,
      hosts,
      vars: asRecord(v.vars),
      varsFiles: [],
      varsPrompt: toVarsPrompts(v.vars_prompt),
      roleDefaults: {},
      roleVars: {},
      strategy: v.strategy === 'free' ? 'free' : 'linear',
      order: isHostOrder(v.order) ? v.order : 'inventory',
      taskKeywords: {},
      preTasks: [],
      roleTasks: [],
      tasks: [],
      postTasks: [],
      handlers: [],
      tags: toTags(v.tags),
    };
    if (typeof v.gather_facts === 'boolean') play.gatherFacts = v.gather_facts;
    if (v.become !== undefined) play.become = v.become;
    if (v.become_user !== undefined) play.becomeUser = v.become_user;
    if (v.serial !== undefined) play.serial = v.serial;
    if (typeof v.max_fail_percentage === 'number') play.maxFailPercentage = v.max_fail_percentage;
    else if (typeof v.max_fail_percentage === 'string') play.maxFailPercentageTemplate = v.max_fail_percentage;

    const collections = toStrings(v.collections);
    const pairVal = (k: string): unknown => kw.pairs.get(k)?.value;
    const moduleDefaults = v.module_defaults !== undefined ? this.moduleDefaultsLayers(src, pairVal('module_defaults')) : undefined;
    const scope: Scope = { playbookDir, searchDirs: [playbookDir], handler: false, sink: playSink(play), ...(collections.length ? { collections } : {}), ...(moduleDefaults ? { moduleDefaults } : {}) };
    await this.checkTemplates(src, pairVal('vars'), play.vars, new Set(), pairVal('vars'));
    if (v.vars_files !== undefined) play.varsFiles = await this.varsFiles(src, pairVal('vars_files'), play.vars);
    if (v.roles !== undefined) await this.roles(src, pairVal('roles'), play, { playbookDir, collections, ...(moduleDefaults ? { moduleDefaults } : {}) });
    play.preTasks = await this.taskList(src, pairVal('pre_tasks'), scope, new Set());
    play.tasks = await this.taskList(src, pairVal('tasks'), scope, new Set());
    play.postTasks = await this.taskList(src, pairVal('post_tasks'), scope, new Set());
    play.handlers.push(...(await this.taskList(src, pairVal('handlers'), { ...scope, handler: true }, new Set())));
    this.checkNotifies(playSink(play), play.handlers);
    // Play-level task keywords apply to every task that does not set its own, as in Ansible.
    const playLevel: InheritedKeywords = {
      ...(v.environment !== undefined ? { environment: [v.environment] } : {}),
      remoteUser: v.remote_user,
      connection: v.connection,
      becomeMethod: v.become_method,
      noLog: v.no_log,
      checkMode: v.check_mode,
      ignoreErrors: v.ignore_errors,
      anyErrorsFatal: v.any_errors_fatal,
      ...(moduleDefaults ? { moduleDefaults } : {}),
    };
    for (const k of ['preTasks', 'roleTasks', 'tasks', 'postTasks', 'handlers'] as const) {
      play[k] = play[k].map((t) => effectiveTask(t, playLevel));
    }
    play.taskKeywords = playLevel;
    return play;
  }

  /** A notify naming no handler (nor listen topic) of the play fails at load, with the nearest name. */
  private checkNotifies(sink: RoleSink, handlers: TaskDef[]): void {
    const known = new Set<string>();
    for (const h of handlers) {
      for (const n of [h.name, ...h.listen]) {
        if (n === undefined) continue;
        known.add(n);
        if (h.role) known.add(`${h.role} : ${n}`);
      }
    }
    // A templated handler name (`restart {{ svc }}`) could answer to anything: then nothing can be ruled out here.
    if (sink.unknownHandlers || [...known].some((n) => /\{\{|\{%/.test(n))) return;
    for (const ref of sink.notifies) {
      if (known.has(ref.name) || /\{\{|\{%/.test(ref.name)) continue;
      const near = suggest(ref.name, known);
      const hint = near
        ? `did you mean \`${near}\`?`
        : known.size > 0
          ? `handlers of this play: ${[...known].filter((n) => !n.includes(' : ')).join(', ')}`
          : 'this play has no handlers: add them under `handlers:` (or in a role\'s handlers/main.yml)';
      this.errors.push(ref.src.error('E_UNKNOWN_HANDLER', `\`notify\` names \`${ref.name}\`, but no handler of this play has that name or listens to it`, ref.node, hint));
    }
  }

  // ----- vars_files -----

  private async varsFiles(src: YamlSource, node: unknown, playVars: Record<string, unknown>): Promise<PlayDef['varsFiles']> {
    const entries = isSeq(node) ? node.items : [node];
    const out: PlayDef['varsFiles'] = [];
    const dir = path.dirname(src.file);
    for (const entry of entries) {
      // A nested list means "the first of these that exists", as in Ansible.
      const options = (isSeq(entry) ? entry.items : [entry]).filter((n) => isScalar(n) && typeof n.value === 'string');
      const raws = options.map((opt) => String((opt as { value: unknown }).value));
      const names = raws.map((raw) => this.substitute(raw, playVars)).filter((n): n is string => n !== undefined);
      if (names.length < raws.length) {
        // It needs a host's variables or facts (`vars/{{ ansible_os_family }}.yml`): read for each host at run time.
        out.push(new PerHostVarsFile(raws, dir, src.posOf(entry), await this.varsOfCandidates(raws, dir)));
        continue;
      }
      if (names.length === 0) continue;
      const found = await firstExisting(names.flatMap((n) => candidatePaths(n, [dir])));
      if (!found) {
        await this.missing(src, entry, names[0]!, [dir], 'vars file');
        continue;
      }
      const vsrc = await this.read(found);
      if (!vsrc) continue;
      const root = vsrc.root;
      if (root === null || (isScalar(root) && root.value === null)) out.push({});
      else if (!isMap(root)) this.errors.push(vsrc.error('E_VARS_SHAPE', 'a vars file must be a mapping of variable names to values', root, 'write `name: value` lines'));
      else {
        const data = asRecord(vsrc.toJS(root));
        if (this.encryptedFiles.has(found)) recordSecret(data);
        await this.checkTemplates(vsrc, root, data, new Set(), root);
        out.push(data);
      }
    }
    return out;
  }

  /**
   * The variables of every file a per-host vars_files entry could name (each YAML file of the path's folder whose
   * name fits the literal parts), for the load-time checks: a variable one of them defines may be defined.
   */
  private async varsOfCandidates(raws: readonly string[], dir: string): Promise<Record<string, RawValue>> {
    const known: Record<string, RawValue> = {};
    for (const raw of raws) {
      const folder = path.dirname(raw);
      if (/\{\{|\{%/.test(folder)) continue;
      const pattern = templatedNamePattern(path.basename(raw));
      const base = path.isAbsolute(folder) ? folder : path.join(dir, folder);
      for (const name of (await readdir(base).catch(() => [] as string[])).sort()) {
        if (!pattern.test(name) || !yamlExts.includes(path.extname(name))) continue;
        const vsrc = await this.read(path.join(base, name));
        const data = vsrc?.root && isMap(vsrc.root) ? asRecord(vsrc.toJS(vsrc.root)) : {};
        for (const [k, v] of Object.entries(data)) if (!(k in known)) known[k] = v;
      }
    }
    return known;
  }

  /** `{{ name }}` with a plain variable from -e or play vars; undefined when anything else is templated. */
  private substitute(raw: string, playVars: Record<string, unknown>): string | undefined {
    const out = raw.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (m, name: string) => {
      const v = name in this.extraVars ? this.extraVars[name] : playVars[name];
      return typeof v === 'string' || typeof v === 'number' ? String(v) : m;
    });
    return /\{\{|\{%/.test(out) ? undefined : out;
  }

  // ----- file resolution -----

  private async resolveFile(src: YamlSource, node: unknown, rel: string, bases: string[], what: string): Promise<string | undefined> {
    if (/\{\{|\{%/.test(rel)) {
      this.errors.push(src.error('E_STATIC_TEMPLATE', `the ${what} path \`${rel}\` is a template, but imports are resolved before any variable exists`, node, what === 'task file' ? 'use include_tasks, which is resolved at run time' : 'write the path literally'));
      return undefined;
    }
    const found = await firstExisting(candidatePaths(rel, bases));
    if (!found) await this.missing(src, node, rel, bases, what);
    return found;
  }

  private async missing(src: YamlSource, node: unknown, rel: string, bases: string[], what: string): Promise<void> {
    const tried = candidatePaths(rel, bases);
    let near: string | undefined;
    const dir = path.dirname(tried[0]!);
    try {
      const siblings = await readdir(dir);
      near = suggest(path.basename(rel), siblings);
    } catch {
      // the folder itself is missing; the list of tried paths says enough
    }
    const hint = near ? `did you mean \`${path.join(path.dirname(rel), near)}\`? (looked for ${tried.join(', ')})` : `looked for: ${tried.join(', ')} (paths are relative to the file that names them)`;
    this.errors.push(src.error('E_MISSING_FILE', `${what} \`${rel}\` not found`, node, hint));
  }

  // ----- roles -----

  private async roles(src: YamlSource, node: unknown, play: PlayDef, where: RoleWhere): Promise<void> {
    if (!isSeq(node)) return; // the keyword check already reported a non-list
    for (const entry of node.items) await this.role(src, entry, play, where);
  }

  private async role(src: YamlSource, entry: unknown, play: PlayDef, where: RoleWhere): Promise<void> {
    let name: unknown;
    let nameNode: unknown = entry;
    const keywords: Record<string, unknown> = {};
    const params: Record<string, unknown> = {};
    if (isScalar(entry)) name = entry.value;
    else if (isMap(entry)) {
      for (const p of pairsOf(entry)) {
        const k = keyOf(p);
        if (k === 'role' || (k === 'name' && name === undefined)) {
          name = src.toJS(p.value);
          nameNode = p.value;
        } else if (roleEntryNames.has(k)) keywords[k] = src.keywordJS(p.value);
        else params[k] = src.toJS(p.value); // Ansible: any other key is a role parameter
      }
      await this.checkKeywords(src, entry, 'roleEntry', keywords, 'role');
    }
    if (typeof name !== 'string' || name === '') {
      this.errors.push(src.error('E_ROLE_SHAPE', 'a role entry needs a name: `- myrole` or `- role: myrole`', entry, 'write the role name as a string'));
      return;
    }
    const inherited: Inherited = {
      when: toConditions(keywords.when),
      tags: toTags(keywords.tags),
      vars: { ...asRecord(keywords.vars), ...params },
      become: keywords.become,
      becomeUser: keywords.become_user,
    };
    const sink = playSink(play);
    const tasks = await this.roleBody(src, nameNode, name, { where, chain: [], sink, inherited, dedupe: true, params });
    play.roleTasks.push(...tasks);
  }

  /**
   * A role's tasks (after its meta dependencies'), with its defaults, vars and handlers put into `sink`.
   * `dedupe`: like Ansible's `roles:`, a role with the same parameters runs once per play.
   */
  private async roleBody(
    src: YamlSource,
    nameNode: unknown,
    name: string,
    o: { where: RoleWhere; chain: string[]; sink: RoleSink; inherited: Inherited; dedupe: boolean; files?: RoleFiles; params?: Record<string, unknown> },
  ): Promise<TaskDef[]> {
    const found = await this.findRole(src, nameNode, name, o.where);
    if (!found) return [];
    const roleDir = found.dir;
    // A role's filter_plugins/ and test_plugins/ serve the whole run, as Ansible adds them when it loads the role.
    registerPluginFolders(roleDir);
    if (o.chain.includes(roleDir)) {
      this.errors.push(src.error('E_ROLE_CYCLE', `role \`${name}\` depends on itself (${[...o.chain, roleDir].join(' → ')})`, nameNode, 'remove the circular dependency in meta/main.yml'));
      return [];
    }
    const identity = `${path.resolve(roleDir)}|${JSON.stringify(o.inherited.vars ?? {})}`;
    if (o.dedupe && o.sink.seen.has(identity)) return [];
    o.sink.seen.add(identity);
    const roleName = found.name;
    const files = o.files ?? {};
    const out: TaskDef[] = [];

    // meta/main.yml dependencies run before the role itself, with the role's tags and conditions.
    const meta = await this.roleYaml(roleDir, 'meta', 'main');
    const deps = meta ? pairsOf(meta.root).find((p) => keyOf(p) === 'dependencies') : undefined;
    if (meta && deps && isSeq(deps.value)) {
      for (const d of deps.value.items) {
        const depName = isScalar(d) ? d.value : src.toJS(nodeAtPath(d, ['role']).node ?? nodeAtPath(d, ['name']).node);
        const depParams = isMap(d) ? asRecord(meta.toJS(d)) : {};
        delete depParams.role;
        delete depParams.name;
        if (typeof depName !== 'string') continue;
        const depTasks = await this.roleBody(meta, isMap(d) ? nodeAtPath(d, ['role']).node : d, depName, {
          ...o,
          where: { ...o.where, basedir: path.dirname(roleDir) },
          chain: [...o.chain, roleDir],
          inherited: { ...o.inherited, vars: depParams },
          dedupe: true,
          files: {},
          params: depParams,
        });
        out.push(...depTasks.map((t) => effectiveTask(t, { when: o.inherited.when, tags: o.inherited.tags })));
      }
    }
    // A legacy role's library/ and module_utils/ serve the whole run from here on (after its dependencies'), as in
    // Ansible; a collection role's modules are its collection's.
    if (!/^\w+\.\w+\.\w+$/.test(roleName)) this.search.moduleSearch.addPluginFolders(roleDir);
    for (const [sub, target] of [['defaults', o.sink.defaults], ['vars', o.sink.vars]] as const) {
      const s = await this.roleYaml(roleDir, sub, files[sub] ?? 'main');
      if (!s || s.root === null || (isScalar(s.root) && s.root.value === null)) continue;
      if (!isMap(s.root)) {
        this.errors.push(s.error('E_VARS_SHAPE', `role ${sub} must be a mapping of variable names to values`, s.root, 'write `name: value` lines'));
        continue;
      }
      const data = asRecord(s.toJS(s.root));
      if (this.encryptedFiles.has(s.file)) recordSecret(data);
      await this.checkTemplates(s, s.root, data, new Set(), s.root);
      assignOwn(target, data);
    }

    const scope: Scope = {
      playbookDir: o.where.playbookDir,
      // Base folders, most specific first: the runner's findFile tries DIR/files|templates/REL, then DIR/REL.
      searchDirs: [roleDir, o.where.playbookDir],
      handler: false,
      roleName,
      roleDir,
      sink: o.sink,
      ...(o.where.collections ? { collections: o.where.collections } : {}),
      ...(o.where.moduleDefaults ? { moduleDefaults: o.where.moduleDefaults } : {}),
      ...(o.where.mayNotRun === true || (o.inherited.when?.length ?? 0) > 0 ? { mayNotRun: true } : {}),
    };
    const argumentsTask = await this.roleArgumentsTask(meta, { ...scope, roleName, roleDir }, path.basename(files.tasks ?? 'main'), o.params ?? {});
    if (argumentsTask) out.push(effectiveTask(argumentsTask, o.inherited));
    const tasksSrc = await this.roleYaml(roleDir, 'tasks', files.tasks ?? 'main', nameNode, src);
    if (tasksSrc) {
      const tasks = await this.taskList(tasksSrc, tasksSrc.root, scope, new Set([path.resolve(tasksSrc.file)]), 'task file');
      out.push(...tasks.map((t) => effectiveTask(t, o.inherited)));
    }
    const handlersSrc = await this.roleYaml(roleDir, 'handlers', files.handlers ?? 'main');
    if (handlersSrc) {
      const hs = await this.taskList(handlersSrc, handlersSrc.root, { ...scope, handler: true }, new Set([path.resolve(handlersSrc.file)]), 'handler file');
      o.sink.handlers.push(...hs.map((t) => effectiveTask(t, { vars: o.inherited.vars })));
    }
    return out;
  }

  /**
   * The task Ansible puts before a role's own tasks when the role's argument spec has its entry point
   * (Role._get_role_argspecs, _prepend_validation_task): meta/argument_specs.yml, else meta/main.yml's
   * `argument_specs`; tagged `always`. A spec that is not a mapping is no spec, as Ansible reads it.
   */
  private async roleArgumentsTask(meta: YamlSource | undefined, scope: Scope & { roleName: string; roleDir: string }, entryPoint: string, params: Record<string, unknown>): Promise<TaskDef | undefined> {
    const { roleName, roleDir } = scope;
    const own = await this.roleYaml(roleDir, 'meta', 'argument_specs');
    const specs = own ?? meta;
    if (!specs || !isMap(specs.root)) return undefined;
    const entry = nodeAtPath(specs.root, ['argument_specs', entryPoint]);
    const written = entry.found ? specs.toJS(entry.node) : undefined;
    if (!isRecord(written)) return undefined;
    return implicitTask(specs.posOf(entry.keyNode ?? entry.node), roleArgumentsTaskName(entryPoint, written.short_description), scope.searchDirs, {
      action: 'validate_argument_spec',
      role: roleName,
      roleDir,
      ...(scope.collections ? { collections: scope.collections } : {}),
      roleArguments: { role: roleName, roleDir, entryPoint, options: isRecord(written.options) ? written.options : {}, params },
    });
  }

  /**
   * Ansible's search (RoleDefinition._load_role_path): a collection role first (NS.COLL.ROLE, or a short name in
   * one of the play's `collections:`), in collections/ beside the playbook then collections_path; then roles/
   * beside the playbook, roles_path, the depending role's folder (meta dependencies), the playbook's own folder, the
   * name as a path; vncplay also keeps ./roles (the current folder) last. A name may be a sub-path (`dns/bind`).
   */
  private async findRole(src: YamlSource, node: unknown, name: string, where: RoleWhere): Promise<FoundRole | undefined> {
    const tried: string[] = [];
    for (const { collection, role } of collectionRoleRefs(name, where.collections)) {
      const [ns, coll] = collection.split('.') as [string, string];
      for (const base of this.collectionRoots(where.playbookDir)) {
        const dir = path.join(base, 'ansible_collections', ns, coll, 'roles', role);
        tried.push(dir);
        if (await isDir(dir)) return { dir, name: `${collection}.${role}` };
      }
    }
    const searchDirs = unique([path.join(where.playbookDir, 'roles'), ...this.search.rolesPath, ...(where.basedir ? [where.basedir] : []), where.playbookDir]);
    for (const d of searchDirs) {
      const dir = path.join(d, name);
      tried.push(dir);
      if (await isDir(dir)) return { dir, name };
    }
    // Found by its path alone: Ansible names the role after its last folder.
    for (const dir of [name, path.join('roles', name)]) {
      tried.push(dir);
      if (await isDir(dir)) return { dir, name: path.basename(name) };
    }
    const known: string[] = [];
    for (const dir of unique([path.join(where.playbookDir, 'roles'), ...this.search.rolesPath, 'roles'])) known.push(...(await roleNamesUnder(dir)));
    const near = suggest(name, known);
    const looked = unique(tried).join(', ');
    this.errors.push(
      src.error(
        'E_ROLE_NOT_FOUND',
        `role \`${name}\` not found`,
        node,
        near
          ? `did you mean \`${near}\`? (looked in ${looked})`
          : `looked in: ${looked}; a role is a folder roles/NAME (NAME may be a sub-path such as dns/bind), or NS.COLL.ROLE from a collection`,
      ),
    );
    return undefined;
  }

  /** Folders that hold ansible_collections/: collections/ beside the playbook, then collections_path. */
  private collectionRoots(playbookDir: string): string[] {
    // A collections_path entry may name the ansible_collections folder itself, as Ansible accepts.
    const roots = this.search.collectionsPath.map((p) => (path.basename(p) === 'ansible_collections' ? path.dirname(p) : p));
    return unique([path.join(playbookDir, 'collections'), ...roots]);
  }

  /** roles/X/SUB/NAME.yml (or .yaml); a file named explicitly (tasks_from …) must exist. */
  private async roleYaml(roleDir: string, sub: string, name: string, node?: unknown, src?: YamlSource): Promise<YamlSource | undefined> {
    const tries = yamlExts.map((e) => path.join(roleDir, sub, name.endsWith(e) ? name : `${name}${e}`));
    const found = await firstExisting(tries);
    if (!found && name !== 'main' && src) {
      this.errors.push(src.error('E_MISSING_FILE', `role file \`${sub}/${name}\` not found in ${roleDir}`, node, `looked for: ${tries.join(', ')}`));
    }
    return found ? this.read(found) : undefined;
  }

  // ----- tasks -----

  async taskFile(file: string, scope: Scope, stack: Set<string>): Promise<TaskDef[]> {
    const src = await this.read(file);
    if (!src) return [];
    return this.taskList(src, src.root, scope, new Set(stack).add(path.resolve(file)), 'task file');
  }

  private async taskList(src: YamlSource, node: unknown, scope: Scope, stack: Set<string>, what = 'task list'): Promise<TaskDef[]> {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.errors.push(src.error('E_TASKS_SHAPE', `a ${what} must be a list of tasks, got ${describeValue(src.toJS(node))}`, node, 'start each task with a dash: `- name: …`'));
      return [];
    }
    const out: TaskDef[] = [];
    for (const item of node.items) out.push(...(await this.task(src, item, scope, stack)));
    return out;
  }

  private async task(src: YamlSource, node: unknown, scope: Scope, stack: Set<string>): Promise<TaskDef[]> {
    if (!isMap(node)) {
      this.errors.push(src.error('E_TASK_SHAPE', `expected a task (a mapping with one module key), got ${describeValue(src.toJS(node))}`, node, 'a task looks like `- name: …` with a module key such as `command: …` on the next line'));
      return [];
    }
    const values: Record<string, unknown> = {};
    const pairs = new Map<string, Pair<unknown, unknown>>();
    const actions: { key: string; pair: Pair<unknown, unknown>; module?: AnyModule; libraryFile?: string }[] = [];
    const unknown: Pair<unknown, unknown>[] = [];
    const loops: Pair<unknown, unknown>[] = [];
    for (const p of pairsOf(node)) {
      const k = keyOf(p);
      if (k.startsWith('with_')) {
        loops.push(p);
        continue;
      }
      if (taskKeywordNames.has(k)) {
        values[k] = src.keywordJS(p.value);
        pairs.set(k, p);
        if (k === 'block' || actionKeywords.has(k)) actions.push({ key: k, pair: p });
        continue;
      }
      const found = this.findModule(k);
      if (found) actions.push({ key: k, pair: p, module: found.module, ...(found.libraryFile !== undefined ? { libraryFile: found.libraryFile } : {}) });
      else unknown.push(p);
    }
    this.reportUnknownTaskKeys(src, node, unknown, actions.length === 0);
    if (actions.length > 1) {
      const [first, second] = actions as [(typeof actions)[0], (typeof actions)[0]];
      this.errors.push(
        src.error(
          'E_TWO_MODULES',
          `a task runs exactly one module, but this one has \`${first.key}\` and \`${second.key}\``,
          second.pair.key,
          'split it into two tasks, each with its own `- name:`',
        ),
      );
    }
    if (actions.length === 0 && unknown.length === 0) {
      this.errors.push(
        src.error('E_NO_MODULE', 'task has no module: expected one module key such as `command:` or `debug:`', node, `known modules: ${this.lookup.names().sort().join(', ') || '(none registered)'}`),
      );
    }
    for (const k of ['rescue', 'always']) {
      if (pairs.has(k) && !pairs.has('block')) this.errors.push(src.error('E_UNKNOWN_KEY', `\`${k}\` belongs to a block, but this task has no \`block\``, pairs.get(k)!.key, 'put the tasks under `block:` and this list beside it'));
    }
    if (pairs.has('listen') && !scope.handler) this.errors.push(src.error('E_UNKNOWN_KEY', '`listen` only applies to handlers', pairs.get('listen')!.key, 'move this task under `handlers:`, or remove `listen`'));
    const loopWith = await this.legacyLoop(src, node, loops, pairs.has('loop'));
    await this.checkKeywords(src, node, 'taskKeywords', values, 'task');
    await this.checkTemplates(src, node, values, notPlainTemplateKeywords);
    await this.checkConditions(src, node, values);

    const t = this.baseTask(src, node, values, scope);
    if (loopWith) {
      t.loop = src.keywordJS(loopWith.pair.value);
      t.loopWith = loopWith.name;
      t.loopPos = src.posOf(loopWith.pair.value);
    } else if (pairs.has('loop')) t.loopPos = src.posOf(pairs.get('loop')!.value);
    const notifyPair = pairs.get('notify');
    if (scope.sink && notifyPair) {
      const items = isSeq(notifyPair.value) ? notifyPair.value.items : [notifyPair.value];
      t.notify.forEach((name, i) => scope.sink!.notifies.push({ src, node: items[i] ?? notifyPair.value, name }));
    }
    const action = actions[0];
    if (pairs.has('async')) this.checkAsync(src, pairs.get('async')!, action?.module);
    if (!action) return [t];
    t.action = action.key;
    if (action.key === 'action' || action.key === 'local_action') {
      return this.oldStyleAction(src, action.pair, values[action.key], t, pairs.get('args'), scope);
    }
    if (action.module) {
      t.module = action.module.name;
      if (action.libraryFile !== undefined) {
        t.libraryFile = action.libraryFile;
        t.roleSearch = this.search;
      }
      const { args, parsed } = await this.moduleArgs(src, action.module, action.pair, pairs.get('args'), {
        defaults: this.defaultsAt(scope, t, action.key),
        ...(action.libraryFile !== undefined ? { library: { file: action.libraryFile, mayNotRun: scope.mayNotRun === true || mayNotRun(t) } } : {}),
      });
      t.args = args;
      await this.checkTemplates(src, action.pair.value, t.args, new Set(), action.pair.value);
      if (t.module === 'assert') await this.checkAssertions(src, t.args['that'], action.pair.value, pairs.get('args'));
      await this.checkControllerFiles(src, action.module, parsed, t, action.pair, scope);
      const refused = pairs.has('async') ? action.module.asyncCommand?.(parsed) : undefined;
      if (typeof refused === 'string') this.errors.push(src.error('E_ASYNC_MODULE', `${action.module.name}: ${refused}`, pairs.get('async')!.key, 'drop async: for this task, or move the check into a task of its own'));
      return [t];
    }
    if (action.key === 'block') {
      const loopPair = loopWith?.pair ?? pairs.get('loop');
      if (loopPair) {
        this.errors.push(src.error('E_BLOCK_LOOP', `\`${keyOf(loopPair)}\` is not valid on a block: a block runs its tasks once (Ansible refuses it too)`, loopPair.key, 'put the loop on the tasks inside the block, or move them to a file and loop over `include_tasks`'));
      }
      const inner = withModuleDefaults(scope, t);
      t.block = await this.taskList(src, action.pair.value, inner, stack, 'block');
      if (pairs.has('rescue')) t.rescue = await this.taskList(src, pairs.get('rescue')!.value, inner, stack, 'rescue list');
      if (pairs.has('always')) t.always = await this.taskList(src, pairs.get('always')!.value, inner, stack, 'always list');
      return [t];
    }
    const spec = values[action.key];
    if ((roleKeys as readonly string[]).includes(action.key)) return this.importRole(src, action.pair, spec, t, scope);
    const fileValue = isRecord(spec) ? spec.file : spec;
    if ((legacyIncludeKeys as readonly string[]).includes(action.key)) return this.legacyInclude(src, action.pair, spec, t, scope, stack);
    if ((includeKeys as readonly string[]).includes(action.key)) {
      t.includeTasks = fileValue;
      t.roleSearch = this.search;
      t.args = isRecord(spec) ? spec : { file: spec };
      if (typeof fileValue === 'string') await this.checkIncludedFile(src, action.pair, fileValue, t, withModuleDefaults(scope, t), stack);
      return [t];
    }
    return this.importTasks(src, action.pair, fileValue, t, scope, stack);
  }

  /**
   * `with_<lookup>:` — the legacy loop over a lookup's results. The lookup must be one vncplay has (its value is
   * checked like any template); a task loops once, so two loop keywords are refused.
   */
  private async legacyLoop(src: YamlSource, taskNode: unknown, loops: Pair<unknown, unknown>[], hasLoop: boolean): Promise<{ name: string; pair: Pair<unknown, unknown> } | undefined> {
    if (loops.length === 0) return undefined;
    templateModule ??= import('./template.js');
    const { isKnownLookup, lookupNames } = await templateModule;
    let chosen: { name: string; pair: Pair<unknown, unknown> } | undefined;
    for (const p of loops) {
      const k = keyOf(p);
      const name = k.slice('with_'.length);
      if (!isKnownLookup(name)) {
        const near = suggest(name, lookupNames());
        this.errors.push(
          src.error('E_UNKNOWN_LOOKUP', `\`${k}\`: vncplay has no lookup named \`${name}\``, p.key, near ? `did you mean \`with_${near}\`?` : `with_<lookup> loops over a lookup's results; known lookups: ${lookupNames().join(', ')}`),
        );
        continue;
      }
      if (hasLoop || chosen) {
        this.errors.push(src.error('E_LOOP_TWICE', `a task loops once: use either \`${chosen ? `with_${chosen.name}` : 'loop'}\` or \`${k}\`, not both`, p.key, '`loop` is the current form'));
        continue;
      }
      chosen = { name, pair: p };
      await this.checkTemplates(src, taskNode, { [k]: src.keywordJS(p.value) }, new Set());
    }
    return chosen;
  }

  /**
   * The old `include: file.yml a=1`, as Ansible 2.14 does it (with its deprecation warning): the key=value pairs are
   * variables of the included tasks; it is static (import_tasks) when the path is not a template, it does not loop
   * and it is not itself inside a dynamically included file; otherwise it is an include_tasks.
   */
  private async legacyInclude(src: YamlSource, pair: Pair<unknown, unknown>, spec: unknown, t: TaskDef, scope: Scope, stack: Set<string>): Promise<TaskDef[]> {
    if (typeof spec !== 'string') {
      this.errors.push(src.error('E_ARGS_SHAPE', '`include` takes a file name (with optional key=value variables)', pair.value ?? pair.key, 'write `include: file.yml`, or better `import_tasks: file.yml`'));
      return [];
    }
    const [file, ...rest] = splitArgs(spec.trim());
    const vars: Record<string, RawValue> = {};
    for (const tok of rest) {
      const kv = parseKeyValue(tok);
      if (kv) vars[kv[0]] = kv[1];
      else this.errors.push(src.error('E_FREE_FORM', `\`include\` takes a file name and key=value variables, and \`${tok}\` is not a key=value pair`, pair.value, 'write the variables as `name=value`, or under `vars:`'));
    }
    if (file === undefined) {
      this.errors.push(src.error('E_ARGS_SHAPE', '`include` needs a file name', pair.value ?? pair.key, 'write `include: file.yml`'));
      return [];
    }
    t.vars = { ...vars, ...t.vars };
    const dynamic = /\{\{|\{%/.test(file) || t.loop !== undefined || scope.dynamic === true;
    this.warnings.push(
      src.error(DEPRECATED, `"include" is deprecated, use include_tasks/import_tasks instead (this one works as ${dynamic ? 'include_tasks' : 'import_tasks'}, as in Ansible 2.14)`, pair.key),
    );
    if (!dynamic) return this.importTasks(src, pair, file, t, scope, stack);
    t.includeTasks = file;
    t.roleSearch = this.search;
    t.args = { file };
    await this.checkIncludedFile(src, pair, file, t, scope, stack);
    return [t];
  }

  /**
   * An include_tasks file is loaded at run time, but checked now: nothing runs until every file is valid. A file
   * reached only under a `when:` or through a templated path (`setup-{{ ansible_os_family }}.yml`: every file the
   * template could name is checked) may be meant for other hosts — a role's setup-Archlinux.yml on Debian hosts —
   * so its problems are warnings now, and fail the include on a host that reaches it.
   */
  private async checkIncludedFile(src: YamlSource, pair: Pair<unknown, unknown>, fileValue: string, t: TaskDef, scope: Scope, stack: Set<string>): Promise<void> {
    const templated = /\{\{|\{%/.test(fileValue);
    const soft = scope.soft === true || templated || (t.when?.length ?? 0) > 0;
    const bases = taskFileBases(src.file, scope.roleDir, scope.playbookDir);
    const check = async (): Promise<void> => {
      let files: string[];
      if (templated) files = await filesMatchingTemplate(fileValue, bases);
      else {
        const valueNode = isMap(pair.value) ? nodeAtPath(pair.value, ['file']).node : pair.value;
        const file = await this.resolveFile(src, valueNode, fileValue, bases, 'task file');
        files = file ? [file] : [];
      }
      for (const file of files) {
        const key = `${path.resolve(file)}|${scope.roleName ?? ''}`;
        const checked = this.checkedIncludes.get(key);
        if (stack.has(path.resolve(file)) || checked === 'hard' || (checked === 'soft' && soft)) continue;
        this.checkedIncludes.set(key, soft ? 'soft' : 'hard');
        await this.taskFile(file, { ...scope, soft, dynamic: true }, stack);
      }
    };
    if (soft) await this.asWarnings(check);
    else await check();
  }

  /** Runs a check whose errors are only warnings (see checkIncludedFile). */
  private async asWarnings(check: () => Promise<void>): Promise<void> {
    const before = this.errors.length;
    try {
      await check();
    } finally {
      this.warnings.push(...this.errors.splice(before));
    }
  }

  /** `async:` runs a module in the background: only one that says how (command, shell), with arguments it can run so. */
  private checkAsync(src: YamlSource, pair: Pair<unknown, unknown>, mod: AnyModule | undefined): void {
    const supported = this.lookup.all().filter((m) => m.asyncCommand).map((m) => m.name).join(', ');
    if (!mod?.asyncCommand) {
      const what = mod ? `the ${mod.name} module` : 'a task without a module (block, include, import)';
      this.errors.push(src.error('E_ASYNC_MODULE', `\`async\` cannot run ${what} in the background`, pair.key, `async works with ${supported}; remove async: and poll: here`));
    }
  }

  private reportUnknownTaskKeys(src: YamlSource, node: unknown, unknown: Pair<unknown, unknown>[], noAction: boolean): void {
    const candidates = [...taskKeywordNames, ...this.lookup.names()];
    for (const p of unknown) {
      const k = keyOf(p);
      if (playKeywordNames.has(k)) {
        this.errors.push(src.error('E_UNKNOWN_KEY', `\`${k}\` is a play keyword, but this is a task`, p.key, 'a task file (import_tasks, roles/*/tasks) holds tasks only; a playbook is brought in with `- import_playbook: file.yml` at the top level'));
        continue;
      }
      const unsupported = unsupportedTaskKeys[k];
      if (unsupported) {
        this.errors.push(src.error('E_UNSUPPORTED_KEY', `\`${k}\` is an Ansible task keyword that vncplay does not support`, p.key, unsupported));
        continue;
      }
      const asModule = noAction && unknown.length === 1;
      const ansibleName = this.moduleProblem(k);
      if (ansibleName) {
        this.errors.push(src.error(ansibleName.code, ansibleName.message, p.key, ansibleName.hint));
        continue;
      }
      // `ansible.builtin.servce`: compare the short name, suggest with the prefix the user wrote.
      const prefix = collectionPrefixes.find((cp) => k.startsWith(cp)) ?? '';
      const shortNear = suggest(k.slice(prefix.length), prefix ? this.lookup.names() : candidates);
      const near = shortNear === undefined ? undefined : `${prefix}${shortNear}`;
      const message = asModule
        ? `unknown module \`${k}\`: no module or task keyword has this name`
        : `unknown task keyword \`${k}\`: not a task keyword or a module`;
      const hint = near
        ? `did you mean \`${near}\`?`
        : asModule ? `known modules: ${this.lookup.names().sort().join(', ') || '(none registered)'}` : 'see the task keywords in schemas/playbook.schema.json';
      this.errors.push(src.error(asModule ? 'E_UNKNOWN_MODULE' : 'E_UNKNOWN_KEY', message, p.key, hint));
    }
    void node;
  }

  private baseTask(src: YamlSource, node: unknown, v: Record<string, unknown>, scope: Scope): TaskDef {
    const t: TaskDef = {
      pos: src.posOf(node),
      args: {},
      loopVar: 'item',
      notify: toStrings(v.notify),
      tags: toTags(v.tags),
      vars: asRecord(v.vars),
      listen: toStrings(v.listen),
      searchDirs: scope.searchDirs,
    };
    if (typeof v.name === 'string') t.name = v.name;
    if (scope.roleName) t.role = scope.roleName;
    if (scope.roleDir) t.roleDir = scope.roleDir;
    if (scope.collections) t.collections = scope.collections;
    const set = <K extends keyof TaskDef>(k: K, value: TaskDef[K] | undefined): void => {
      if (value !== undefined) t[k] = value;
    };
    set('when', toConditions(v.when));
    set('loop', v.loop);
    const lc = asRecord(v.loop_control);
    if (typeof lc.loop_var === 'string') t.loopVar = lc.loop_var;
    if (typeof lc.label === 'string') t.loopLabel = lc.label;
    if (v.loop_control !== undefined) t.loopControl = lc;
    if (typeof v.register === 'string') t.register = v.register;
    set('changedWhen', toConditions(v.changed_when));
    set('failedWhen', toConditions(v.failed_when));
    set('until', toConditions(v.until));
    set('ignoreErrors', v.ignore_errors);
    set('anyErrorsFatal', v.any_errors_fatal);
    set('retries', v.retries);
    set('delay', v.delay);
    set('become', v.become);
    set('becomeUser', v.become_user);
    set('becomeMethod', v.become_method);
    set('remoteUser', v.remote_user);
    set('connection', v.connection);
    set('checkMode', v.check_mode);
    set('delegateTo', v.delegate_to);
    if (v.delegate_to !== undefined) t.delegateToPos = src.posOf(nodeAtPath(node, ['delegate_to']).node);
    set('delegateFacts', v.delegate_facts);
    set('async', v.async);
    set('poll', v.poll);
    set('runOnce', v.run_once);
    set('noLog', v.no_log);
    if (v.environment !== undefined) t.environment = [v.environment];
    if (v.module_defaults !== undefined) t.moduleDefaults = this.moduleDefaultsLayers(src, nodeAtPath(node, ['module_defaults']).node);
    return t;
  }

  private async importTasks(src: YamlSource, pair: Pair<unknown, unknown>, fileValue: unknown, importer: TaskDef, scope: Scope, stack: Set<string>): Promise<TaskDef[]> {
    if (typeof fileValue !== 'string') return []; // the keyword check reported it
    if (importer.loop !== undefined) {
      this.errors.push(src.error('E_IMPORT_LOOP', '`import_tasks` cannot loop: it is expanded once, at load time', pair.key, 'use `include_tasks` to loop over a task file'));
    }
    const valueNode = isMap(pair.value) ? nodeAtPath(pair.value, ['file']).node : pair.value;
    const file = await this.resolveFile(src, valueNode, fileValue, taskFileBases(src.file, scope.roleDir, scope.playbookDir), 'task file');
    if (!file) return [];
    if (stack.has(path.resolve(file))) {
      this.errors.push(src.error('E_IMPORT_CYCLE', `\`${fileValue}\` imports itself (directly or through other task files)`, valueNode, 'remove the circular import_tasks'));
      return [];
    }
    const tasks = await this.taskFile(file, withModuleDefaults(scope, importer), stack);
    return tasks.map((t) => effectiveTask(t, importer));
  }

  /** Ansible's older `action: module args` / `local_action:` forms (string, or a mapping with `module:`). */
  private async oldStyleAction(src: YamlSource, pair: Pair<unknown, unknown>, spec: unknown, t: TaskDef, argsPair: Pair<unknown, unknown> | undefined, scope: Scope): Promise<TaskDef[]> {
    let name: unknown;
    let raw: unknown;
    if (typeof spec === 'string') {
      // A templated name may hold spaces (`{{ pkg_mgr }} name=x`): it runs to its closing braces.
      const m = /^\s*(\{\{[\s\S]*?\}\}\S*|\S+)\s*([\s\S]*)$/.exec(spec);
      name = m?.[1];
      raw = m?.[2] ? m[2] : null;
    } else if (isRecord(spec)) {
      const { module, ...rest } = spec;
      name = module;
      raw = rest;
    }
    if (typeof name === 'string' && /\{\{|\{%/.test(name)) return this.dynamicAction(src, pair, name, raw, t, argsPair);
    if (typeof name !== 'string') {
      this.errors.push(src.error('E_ARGS_SHAPE', `\`${keyOf(pair)}\` needs a module: \`${keyOf(pair)}: MODULE args\` or a mapping with \`module:\``, pair.value ?? pair.key, 'e.g. `local_action: command ls`'));
      return [];
    }
    const found = this.findModule(name);
    if (!found) {
      const ansibleName = this.moduleProblem(name);
      if (ansibleName) {
        this.errors.push(src.error(ansibleName.code, ansibleName.message, pair.value, ansibleName.hint));
        return [];
      }
      const near = suggest(name, this.lookup.names());
      this.errors.push(src.error('E_UNKNOWN_MODULE', `unknown module \`${name}\``, pair.value, near ? `did you mean \`${near}\`?` : `known modules: ${this.lookup.names().sort().join(', ')}`));
      return [];
    }
    const m = found.module;
    t.module = m.name;
    t.action = name;
    if (found.libraryFile !== undefined) {
      t.libraryFile = found.libraryFile;
      t.roleSearch = this.search;
    }
    t.args = (await this.moduleArgs(src, m, pair, argsPair, { raw, defaults: this.defaultsAt(scope, t, name), ...(found.libraryFile !== undefined ? { library: { file: found.libraryFile, mayNotRun: scope.mayNotRun === true || mayNotRun(t) } } : {}) })).args;
    await this.checkTemplates(src, pair.value, t.args, new Set(), pair.value);
    if (keyOf(pair) === 'local_action' && t.delegateTo === undefined) t.delegateTo = 'localhost';
    return [t];
  }

  /**
   * `action: "{{ packager }} pkg=git"`: the module is chosen for each host when the task runs, as Ansible templates
   * `action` then. Without the module only key=value arguments can be read (Ansible refuses free-form text here as
   * "extra params"); their templates and the name's are checked now, the arguments by the module's spec at run time.
   */
  private async dynamicAction(src: YamlSource, pair: Pair<unknown, unknown>, name: string, raw: unknown, t: TaskDef, argsPair: Pair<unknown, unknown> | undefined): Promise<TaskDef[]> {
    const nameNode = isMap(pair.value) ? nodeAtPath(pair.value, ['module']).node : pair.value;
    let args: Record<string, unknown> = {};
    if (typeof raw === 'string') {
      for (const tok of splitArgs(raw)) {
        const kv = parseKeyValue(tok);
        if (kv) args[kv[0]] = kv[1];
        else {
          this.errors.push(
            src.error('E_FREE_FORM', `the module \`${name}\` is chosen when the task runs, so its arguments must be key=value pairs, and \`${tok}\` is not one`, pair.value, 'ansible-playbook refuses this too ("has extra params"): name a free-form module (command, shell) literally'),
          );
        }
      }
    } else if (isRecord(raw)) args = raw;
    const extra = argsPair ? src.toJS(argsPair.value) : undefined;
    if (isRecord(extra)) args = { ...extra, ...args };
    t.action = name;
    t.args = args;
    t.dynamicModule = { name, pos: src.posOf(nameNode) };
    // The name may render to a module of the installed collections, found through this run's search.
    t.roleSearch = this.search;
    await this.checkTemplates(src, pair.value, { module: name, ...args }, new Set(), pair.value);
    this.notes.push(src.error('N_RUN_TIME_MODULE', `the module \`${name}\` is chosen for each host when the task runs: its name and arguments are checked then`, nameNode));
    if (keyOf(pair) === 'local_action' && t.delegateTo === undefined) t.delegateTo = 'localhost';
    return [t];
  }

  /** import_role, expanded at load (a templated name or a loop is refused), or include_role, loaded when reached. */
  private async importRole(src: YamlSource, pair: Pair<unknown, unknown>, spec: unknown, importer: TaskDef, scope: Scope): Promise<TaskDef[]> {
    if (!isRecord(spec) || typeof spec.name !== 'string') return []; // the keyword check reported it
    if ((includeRoleKeys as readonly string[]).includes(keyOf(pair))) {
      if (scope.handler) {
        this.errors.push(src.error('E_HANDLER_INCLUDE_ROLE', "using 'include_role' as a handler is not supported (ansible-playbook refuses it too)", pair.key, 'make the handler an include_tasks of a task file, or import_role the role in the handlers'));
        return [];
      }
      return this.includeRole(src, pair, spec, importer, scope);
    }
    const nameNode = nodeAtPath(pair.value, ['name']).node;
    if (/\{\{|\{%/.test(spec.name)) {
      this.errors.push(src.error('E_STATIC_TEMPLATE', `the role name \`${spec.name}\` is a template, but import_role is expanded before any variable exists`, nameNode, 'use include_role, which is loaded when it is reached'));
      return [];
    }
    if (importer.loop !== undefined) {
      this.errors.push(src.error('E_IMPORT_LOOP', `\`${keyOf(pair)}\` cannot loop: roles are expanded once, at load time`, pair.key, 'use include_role to loop over a role'));
    }
    const own: RoleSink = { defaults: {}, vars: {}, handlers: [], seen: new Set(), notifies: [] };
    const sink = scope.sink ?? own;
    const tasks = await this.roleBody(src, nameNode, spec.name, { where: roleWhere(withModuleDefaults(scope, importer)), chain: [], sink, inherited: importer, dedupe: false, files: roleFiles(spec) });
    if (scope.sink) return tasks;
    // Loaded through include_tasks at run time: no play to hold the role's variables, so each task gets them.
    if (own.handlers.length > 0) {
      this.errors.push(src.error('E_ROLE_HANDLERS', `role \`${spec.name}\` has handlers, which a task file loaded at run time cannot add`, pair.key, 'import the role from the play (roles:, or import_role in the play\'s own tasks), or use include_role'));
    }
    return tasks.map((t) => ({ ...t, vars: { ...own.defaults, ...own.vars, ...t.vars } }));
  }

  /**
   * include_role is a task of its own, run when reached on each host, as in Ansible: its name and files may be
   * templates, it may loop. A role named literally is checked now (problems are warnings under a `when:`, as for
   * include_tasks) and its handlers join the play's, so `notify` can name them.
   */
  private async includeRole(src: YamlSource, pair: Pair<unknown, unknown>, spec: Record<string, unknown>, t: TaskDef, scope: Scope): Promise<TaskDef[]> {
    const opt = <K extends keyof IncludeRole>(k: K, v: unknown): Partial<IncludeRole> => (v === undefined ? {} : { [k]: v });
    t.includeRole = {
      name: spec.name,
      ...opt('tasksFrom', spec.tasks_from),
      ...opt('varsFrom', spec.vars_from),
      ...opt('defaultsFrom', spec.defaults_from),
      ...opt('handlersFrom', spec.handlers_from),
      ...opt('public', spec.public),
      playbookDir: scope.playbookDir,
    };
    t.roleSearch = this.search;
    t.args = spec;
    const named = [spec.name, spec.tasks_from, spec.vars_from, spec.defaults_from, spec.handlers_from];
    if (named.some((v) => v !== undefined && (typeof v !== 'string' || /\{\{|\{%/.test(v)))) {
      // Its handlers are known only when it runs: any notify may name one of them.
      if (scope.sink) scope.sink.unknownHandlers = true;
      return [t];
    }
    const check = async (): Promise<void> => {
      const role = await this.roleForInclude(src, nodeAtPath(pair.value, ['name']).node, spec.name as string, roleFiles(spec), roleWhere(withModuleDefaults(scope, t)));
      if (!role || !scope.sink) return;
      const known = new Set(scope.sink.handlers.map((h) => posKey(h.pos)));
      scope.sink.handlers.push(...role.handlers.filter((h) => !known.has(posKey(h.pos))));
    };
    if (scope.soft === true || (t.when?.length ?? 0) > 0) await this.asWarnings(check);
    else await check();
    return [t];
  }

  /** roleForInclude for a task loaded earlier: problems point at the task. */
  async roleAtTask(task: TaskDef, name: string, files: RoleFiles, where: RoleWhere): Promise<LoadedRole | undefined> {
    const src = await this.read(task.pos.file);
    if (!src) return undefined;
    const at = (src.lines.lineStarts[task.pos.line - 1] ?? 0) + task.pos.col - 1;
    return this.roleForInclude(src, at, name, files, where);
  }

  /** A role as include_role loads it: its tasks and handlers, with its defaults and vars beside them (not in the play). */
  async roleForInclude(src: YamlSource, nameNode: unknown, name: string, files: RoleFiles, where: RoleWhere): Promise<LoadedRole | undefined> {
    const sink: RoleSink = { defaults: {}, vars: {}, handlers: [], seen: new Set(), notifies: [] };
    const before = this.errors.length;
    const tasks = await this.roleBody(src, nameNode, name, { where, chain: [], sink, inherited: { tags: [], vars: {} }, dedupe: false, files });
    if (this.errors.length > before) return undefined;
    const scope: RoleScope = { defaults: sink.defaults, vars: sink.vars };
    // A handler of the role sees the role's variables wherever it is notified from.
    const handlers = sink.handlers.map((h) => ({ ...h, roleScopes: [...(h.roleScopes ?? []), scope] }));
    return { tasks, handlers, scope };
  }

  /**
   * Syntax of every `{{ }}`/`{% %}` string (unclosed braces, unknown filters) is checked now, so a typo in a
   * template fails before any host is touched. The template engine loads only when a template is present.
   */
  private async checkTemplates(src: YamlSource, base: unknown, values: Record<string, unknown>, skip: Set<string>, fallback?: unknown, label = ''): Promise<void> {
    for (const [k, v] of Object.entries(values)) {
      if (skip.has(k) || !containsTemplate(v)) continue;
      const at = nodeAtPath(base, [k]);
      // Into mappings and lists written in this file, so the error lands on the very value (vars: {a: …}).
      if (at.found && (isMap(at.node) || isSeq(at.node)) && typeof v === 'object' && v !== null) {
        const entries = Array.isArray(v) ? Object.fromEntries(v.map((x, i) => [String(i), x])) : (v as Record<string, unknown>);
        await this.checkTemplates(src, at.node, entries, new Set(), at.node, `${label}${k}${Array.isArray(v) ? '' : '.'}`);
        continue;
      }
      templateModule ??= import('./template.js');
      const { checkTemplateSyntax } = await templateModule;
      try {
        checkTemplateSyntax(v);
      } catch (err) {
        if (!(err instanceof VncplayErrorClass)) throw err;
        const message = err.message.replace(/ in \S+:\d+:\d+$/, '');
        const name = /^\d+$/.test(k) && label ? `\`${label}[${k}]\`` : `\`${label}${k}\``;
        this.errors.push(src.error(err.code, `${name}: ${message}`, at.found ? at.node : (fallback ?? base), err.hint ?? templateHint(err.code)));
      }
    }
  }

  /** when/changed_when/failed_when/until: bare Jinja2 expressions, each list item checked at its own line. */
  private async checkConditions(src: YamlSource, taskNode: unknown, values: Record<string, unknown>): Promise<void> {
    for (const k of conditionKeys) {
      const v = values[k];
      if (v === undefined || v === null) continue;
      conditionalModule ??= import('./conditional.js');
      const { checkConditionSyntax } = await conditionalModule;
      const items = Array.isArray(v) ? v : [v];
      items.forEach((expr, i) => {
        try {
          checkConditionSyntax(expr);
        } catch (err) {
          if (!(err instanceof VncplayErrorClass)) throw err;
          const at = nodeAtPath(taskNode, Array.isArray(v) ? [k, i] : [k]);
          const message = err.message.replace(/ in \S+:\d+:\d+$/, '');
          this.errors.push(src.error(err.code, `\`${k}\`: ${message}`, at.node, err.hint ?? 'a condition is a Jinja2 expression without {{ }}, e.g. `when: result.rc == 0 and x is defined`'));
        }
      });
    }
  }

  /** assert's `that:` holds conditions like `when:`: each item checked at load time, at its own line. */
  private async checkAssertions(src: YamlSource, that: unknown, moduleValue: unknown, argsPair: Pair<unknown, unknown> | undefined): Promise<void> {
    if (that === undefined || that === null) return;
    conditionalModule ??= import('./conditional.js');
    const { checkConditionSyntax } = await conditionalModule;
    const items = Array.isArray(that) ? that : [that];
    items.forEach((expr, i) => {
      try {
        checkConditionSyntax(expr);
      } catch (err) {
        if (!(err instanceof VncplayErrorClass)) throw err;
        const at = this.argNode(moduleValue, argsPair, Array.isArray(that) ? ['that', i] : ['that'], false, src) ?? moduleValue;
        const message = err.message.replace(/ in \S+:\d+:\d+$/, '');
        const label = Array.isArray(that) ? `that[${i}]` : 'that';
        this.errors.push(src.error(err.code, `assert \`${label}\`: ${message}`, at, err.hint ?? 'an assertion is a Jinja2 expression without {{ }}, as in `when:`, e.g. `that: result.rc == 0`'));
      }
    });
  }

  /**
   * The controller files a module reads (copy/template `src`, its controllerFiles hook): a literal path that exists
   * nowhere the runner will look is a warning now (a failure of the task if still missing when it runs), a template
   * file's own syntax is checked (errors point into the .j2 file), and a vault file must open with the run's passwords.
   */
  private async checkControllerFiles(src: YamlSource, m: AnyModule, parsed: Record<string, unknown>, t: TaskDef, pair: Pair<unknown, unknown>, scope: Scope): Promise<void> {
    for (const file of m.controllerFiles?.(parsed) ?? []) await this.checkControllerFile(src, m, file, parsed[file.param], t, pair, scope);
  }

  private async checkControllerFile(src: YamlSource, m: AnyModule, file: ControllerFile, rel: unknown, t: TaskDef, pair: Pair<unknown, unknown>, scope: Scope): Promise<void> {
    if (typeof rel !== 'string' || rel === '' || containsTemplate(rel)) return;
    const { kind } = file;
    const dirs = controllerFilePaths(rel, kind, t.searchDirs, scope.playbookDir);
    const node = this.argNode(pair.value, undefined, [file.param], false, src) ?? pair.key;
    let found: string | undefined;
    for (const d of dirs) {
      if ((await isDir(d)) || (await firstExisting([d]))) {
        found = d;
        break;
      }
    }
    if (!found) {
      // An earlier task (or whatever runs before the play) may still make it: Ansible looks only when the task runs.
      this.warnings.push(src.error(RUN_TIME, `${m.name} ${file.param} \`${rel}\` is not on the controller yet (looked for: ${dirs.join(', ')})`, node));
      return;
    }
    if (file.decrypt && !(await isDir(found))) await this.checkVaultSource(src, found, node);
    if (kind !== 'templates' || (await isDir(found))) return;
    const text = await readFile(found, 'utf8').catch(() => undefined);
    if (text === undefined || !/\{\{|\{%|\{#/.test(text)) return;
    templateModule ??= import('./template.js');
    const { checkTemplateSyntax } = await templateModule;
    try {
      checkTemplateSyntax(text);
    } catch (err) {
      if (!(err instanceof VncplayErrorClass)) throw err;
      // Point into the template file itself when the engine says where.
      const at = /template line (\d+), column (\d+)/.exec(err.message);
      const pos = at ? { file: found, line: Number(at[1]), col: Number(at[2]) } : undefined;
      const message = err.message.replace(/ in template "[\s\S]*"$/, '').replace(/ in \S+:\d+:\d+$/, '');
      this.errors.push(
        pos
          ? new PlaybookError(err.code, `template ${found}: ${message}`, { pos, excerpt: formatExcerpt(text, pos.line, pos.col), hint: err.hint ?? templateHint(err.code) })
          : src.error(err.code, `template ${found}: ${message}`, node, err.hint ?? templateHint(err.code)),
      );
    }
  }

  /**
   * A vault-encrypted file a module decrypts (copy: decrypt defaults to true) must open with the command line's
   * vault passwords: no password, or a wrong one, is an error now (exit 4) rather than a failed task on every host.
   */
  private async checkVaultSource(src: YamlSource, found: string, node: unknown): Promise<void> {
    if (!(await startsWithVaultHeader(found))) return;
    try {
      decryptSource(await readFile(found), found, { decrypt: true });
    } catch (err) {
      if (!(err instanceof VncplayErrorClass)) throw err;
      this.errors.push(src.error(err.code, `copy ${err.message}`, node, err.hint ?? 'check --vault-password-file / --vault-id / --ask-vault-pass'));
    }
  }

  // ----- module arguments -----

  /** The module_defaults entries a task with this action gets (its groups', then its own), from the layers around it and its own. */
  private defaultsAt(scope: Scope, t: TaskDef, action: string): RawValue[] {
    return moduleDefaultsFor([...(scope.moduleDefaults ?? []), ...(t.moduleDefaults ?? [])], moduleDefaultsKey(action, (n) => this.lookup.find(n)));
  }

  /**
   * A `module_defaults:` value as layers keyed by moduleDefaultsKey (a list is several layers, in order), an action
   * group by `group/` and its FQCN. A name that is no module, or no group, is refused at its key, as Ansible
   * refuses it.
   */
  private moduleDefaultsLayers(src: YamlSource, node: unknown): ModuleDefaults[] {
    const layers: ModuleDefaults[] = [];
    for (const item of isSeq(node) ? node.items : [node]) {
      if (!isMap(item)) {
        this.errors.push(src.error('E_TYPE', `module_defaults must map module names to their default arguments, got ${describeValue(src.toJS(item))}`, item ?? node, 'e.g. `module_defaults: {ansible.builtin.file: {owner: vnc}}`'));
        continue;
      }
      const layer: ModuleDefaults = {};
      for (const p of pairsOf(item)) {
        const name = keyOf(p);
        if (name.startsWith(GROUP_PREFIX)) {
          const group = resolveActionGroup(name.slice(GROUP_PREFIX.length));
          if (group.actions === undefined) {
            this.errors.push(src.error('E_UNKNOWN_GROUP', `Error loading module_defaults: could not resolve the module_defaults group ${group.fqcn}`, p.key, "name an action group of an installed collection (its meta/runtime.yml's action_groups), e.g. `group/amazon.aws.aws`"));
            continue;
          }
          layer[`${GROUP_PREFIX}${group.fqcn}`] = src.toJS(p.value);
          continue;
        }
        const key = moduleDefaultsKey(name, (n) => this.lookup.find(n));
        if (key === undefined) {
          const near = suggest(name, this.lookup.names());
          // Ansible's words: a short name is looked for as ansible.legacy.NAME.
          const asAnsible = name.split('.').length < 3 ? `ansible.legacy.${name}` : name;
          this.errors.push(src.error('E_UNKNOWN_MODULE', `Could not resolve action ${asAnsible} in module_defaults`, p.key, near ? `did you mean \`${near}\`?` : 'name a module, as a task would'));
          continue;
        }
        layer[key] = src.toJS(p.value);
      }
      noteModuleDefaultsPosition(layer, src.posOf(item));
      layers.push(layer);
    }
    return layers;
  }

  private async moduleArgs(
    src: YamlSource,
    m: AnyModule,
    pair: Pair<unknown, unknown>,
    argsPair: Pair<unknown, unknown> | undefined,
    o: { raw?: unknown; defaults?: RawValue[]; library?: { file: string; mayNotRun: boolean } } = {},
  ): Promise<{ args: Record<string, RawValue>; parsed: Record<string, unknown> }> {
    const value = pair.value;
    let args: Record<string, unknown> = {};
    const raw = 'raw' in o ? o.raw : src.toJS(value);
    if (raw === null || raw === undefined) args = {};
    else if (raw instanceof Unsafe && typeof raw.value === 'string') {
      // `command: !unsafe 'echo {{ x }}'`: key=value options are still lifted out; every string stays unsafe.
      args = Object.fromEntries(Object.entries(this.freeForm(src, m, raw.value, value)).map(([k, v]) => [k, typeof v === 'string' ? new Unsafe(v) : v]));
    }
    else if (isRecord(raw)) args = raw;
    else if (typeof raw === 'string') {
      const before = this.errors.length;
      args = this.freeForm(src, m, raw, value);
      // Unparsable key=value text: checking what little was parsed would only repeat the same mistake.
      if (this.errors.length > before) return { args, parsed: {} };
    }
    else if ((typeof raw === 'number' || typeof raw === 'boolean') && m.freeForm) args = { [m.freeForm]: src.literal(value) };
    else {
      this.errors.push(src.error('E_ARGS_SHAPE', `arguments of \`${m.name}\` must be a mapping${m.freeForm ? ' or a string' : ''}, got ${describeValue(raw)}`, value, `write them as \`${m.name}:\` followed by indented \`name: value\` lines`));
      return { args: {}, parsed: {} };
    }
    const extra = argsPair ? src.toJS(argsPair.value) : undefined;
    if (isRecord(extra)) args = { ...extra, ...args };

    const props = m.schema.properties;
    // YAML 1.1 (PyYAML, so Ansible) reads `mode: 0644` as the octal number 420: exactly the bits its author wrote,
    // so it becomes the string "0644" here. A decimal `mode: 644` is refused below (Ansible would set 01204).
    for (const k of ['mode', 'directory_mode']) {
      const n = args[k];
      if (typeof n === 'number' && k in props && isBitPatternLiteral(src.literal(this.argNode(value, argsPair, [k])))) args[k] = `0${n.toString(8)}`;
    }
    const skip = new Set<string>();
    if (typeof args.mode === 'number' && 'mode' in props) {
      skip.add('mode');
      const at = this.argNode(value, argsPair, ['mode']) ?? value;
      this.errors.push(src.error('E_MODE_INTEGER', `\`mode\` must be a quoted string such as "0644", not the number ${src.literal(at) || String(args.mode)}`, at, modeHint(src.literal(at), args.mode)));
    }
    // module_defaults fill in what the task leaves out (a required parameter too); a templated entry waits for the run.
    // (Without defaults the check converts `args` itself, in place: the task keeps `port: 22`, not "22".)
    const defaults = o.defaults ?? [];
    const withDefaults = defaults.length > 0 && defaults.every(isRecord) ? { ...Object.assign({}, ...defaults), ...args } : args;
    const { issues: all, parsed } = o.library !== undefined ? await this.checkLibraryArgs(src, m, o.library, withDefaults, pair.key) : checkModuleArgs(m, withDefaults);
    const issues = all.filter((i) => !skip.has(String(i.path[0])));
    for (const i of issues) {
      const at = this.argNode(value, argsPair, i.path, i.onKey, src);
      if (i.runTimeOnly) this.warnings.push(src.error(RUN_TIME, `${i.message}: ${i.hint ?? ''}`, at ?? pair.key));
      else this.errors.push(src.error(i.code, i.message, at ?? pair.key, i.hint));
    }
    return { args, parsed };
  }

  /**
   * A module file's arguments (a collection's module, a library/ file) checked by the argument spec its AnsibleModule
   * declares, read on the controller (modules/library/argspec.ts); the arguments are passed on as written. A module
   * whose spec cannot be read checks its arguments itself when it runs, as under Ansible: said at -v. A task that may
   * never run (its own `when:` or loop) only gets warnings: the spec is the installed collection's, and a role written
   * for a newer one (a parameter added since) runs under Ansible as long as the task is skipped or loops over nothing.
   */
  private async checkLibraryArgs(src: YamlSource, m: AnyModule, library: { file: string; mayNotRun: boolean }, args: Record<string, unknown>, at: unknown): Promise<{ issues: SchemaIssue[]; parsed: Record<string, unknown> }> {
    const captured = await captureSpec(library.file, payloadRootsOf(this.search));
    if ('reason' in captured) {
      this.notes.push(src.error('N_MODULE_ARGS_AT_RUN', `the arguments of \`${m.name}\` are checked when it runs: its argument spec could not be read from ${library.file} (${captured.reason})`, at));
      return { issues: [], parsed: args };
    }
    const issues = checkCapturedArgs(m.name, captured.spec, args);
    return { issues: library.mayNotRun ? issues.map((i) => ({ ...i, runTimeOnly: true as const })) : issues, parsed: args };
  }

  /** The YAML node of an argument, in the module's mapping or in `args:`; undefined when it came from a string. */
  private argNode(value: unknown, argsPair: Pair<unknown, unknown> | undefined, p: (string | number)[], onKey = false, src?: YamlSource): unknown {
    for (const base of [value, argsPair?.value]) {
      if (!isMap(base)) continue;
      const at = nodeAtPath(base, p);
      if (at.found) return onKey ? at.keyNode : at.node;
    }
    if (isMap(value)) return nodeAtPath(value, p).node;
    if (!isScalar(value)) return undefined;
    // key=value text: point at `key=` (or just after it) inside the string, when it is written there plainly.
    const key = p[0];
    const start = value.range?.[0];
    if (src && typeof key === 'string' && start !== undefined) {
      const m = new RegExp(`(^|\\s)${key.replace(/\W/g, '')}=`).exec(src.literal(value));
      if (m) return start + m.index + m[1]!.length + (onKey ? 0 : key.length + 1);
    }
    return value;
  }

  private freeForm(src: YamlSource, m: AnyModule, text: string, node: unknown): Record<string, unknown> {
    const props = m.schema.properties;
    const tokens = splitArgs(text);
    const args: Record<string, unknown> = {};
    if (m.freeForm) {
      // Like Ansible's command: key=value for the module's own options is lifted out; the rest is the command.
      // The lifted pairs are cut out of the text itself, so the command keeps its own spacing and newlines.
      let rest = text;
      let cursor = 0;
      for (const tok of tokens) {
        const at = rest.indexOf(tok, cursor);
        const kv = parseKeyValue(tok);
        if (kv && kv[0] !== m.freeForm && kv[0] in props && at >= 0) {
          args[kv[0]] = coerceToSchemaType(kv[1], props[kv[0]]);
          const end = at + tok.length + (/[ \t]/.test(rest[at + tok.length] ?? '') ? 1 : 0);
          rest = rest.slice(0, at) + rest.slice(end);
          cursor = at;
        } else if (at >= 0) cursor = at + tok.length;
      }
      if (rest.trim() !== '') args[m.freeForm] = rest.trim();
      return args;
    }
    for (const tok of tokens) {
      const kv = parseKeyValue(tok);
      if (!kv) {
        this.errors.push(
          src.error('E_FREE_FORM', `\`${m.name}\` takes no free-form text, and \`${tok}\` is not a key=value pair`, node, `write the arguments as a mapping under \`${m.name}:\`, e.g. \`${Object.keys(props)[0] ?? 'name'}: …\``),
        );
        continue;
      }
      args[kv[0]] = coerceToSchemaType(kv[1], props[kv[0]]);
    }
    return args;
  }
}

// ---------- helpers ----------

/** `file:line:col: message`, one line. */
function positionedLine(e: VncplayError): string {
  return `${e.pos ? `${e.pos.file}:${e.pos.line}:${e.pos.col}: ` : ''}${e.message}`;
}

/** tasks_from, handlers_from, defaults_from, vars_from of an import_role/include_role, when written as text. */
function roleFiles(spec: Record<string, unknown>): RoleFiles {
  const files: RoleFiles = {};
  for (const k of ['tasks', 'handlers', 'defaults', 'vars'] as const) {
    const f = spec[`${k}_from`];
    if (typeof f === 'string') files[k] = f;
  }
  return files;
}

function posKey(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** A task that may never run on any host: a `when:` or a loop (which may be over nothing) of its own; see Scope.mayNotRun for those around it. */
function mayNotRun(t: TaskDef): boolean {
  return (t.when?.length ?? 0) > 0 || t.loop !== undefined;
}

function roleWhere(scope: Scope): RoleWhere {
  return {
    playbookDir: scope.playbookDir,
    ...(scope.collections ? { collections: scope.collections } : {}),
    ...(scope.moduleDefaults ? { moduleDefaults: scope.moduleDefaults } : {}),
    ...(scope.mayNotRun ? { mayNotRun: true } : {}),
  };
}

/** The scope of tasks inside `t` (a block's, an import's): its module_defaults layers after the outer ones, and whether they may not run. */
function withModuleDefaults(scope: Scope, t: TaskDef): Scope {
  const inner = t.moduleDefaults ? { ...scope, moduleDefaults: [...(scope.moduleDefaults ?? []), ...t.moduleDefaults] } : scope;
  return mayNotRun(t) && inner.mayNotRun !== true ? { ...inner, mayNotRun: true } : inner;
}

/**
 * Files a templated task file path could name: its folder part must be literal; each `{{ }}` in the file name
 * stands for any text (`setup-{{ ansible_os_family }}.yml` → setup-*.yml), in the first base folder that has any
 * (a role's tasks/ before the playbook's folder, whose own files are not meant).
 */
const TEMPLATE_PART = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/** The file names a templated name could render to: its literal parts in order, anything between them. */
function templatedNamePattern(name: string): RegExp {
  return new RegExp(`^${name.split(TEMPLATE_PART).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

async function filesMatchingTemplate(rel: string, bases: string[]): Promise<string[]> {
  const dir = path.dirname(rel);
  if (/\{\{|\{%/.test(dir)) return [];
  // `{{ file }}` or `{{ name }}.yml` could be any file at all (playbooks, vars files): nothing to check.
  if (path.basename(rel).replace(TEMPLATE_PART, '').replace(/\.ya?ml$/, '') === '') return [];
  const pattern = templatedNamePattern(path.basename(rel));
  for (const base of path.isAbsolute(dir) ? [dir] : bases.map((b) => path.join(b, dir))) {
    const found: string[] = [];
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const file = path.join(base, name);
      if (pattern.test(name) && yamlExts.includes(path.extname(name)) && (await firstExisting([file]))) found.push(file);
    }
    if (found.length > 0) return found;
  }
  return [];
}

/** Where a role name is looked up from. */
interface RoleWhere {
  playbookDir: string;
  /** The play's `collections:`: short role names are tried in each, in order. */
  collections?: readonly string[];
  /** The folder of the role whose meta/main.yml names this one (Ansible's role_basedir). */
  basedir?: string;
  /** The `module_defaults:` layers around the role entry or import, for the load-time argument check. */
  moduleDefaults?: ModuleDefaults[];
  /** The role entry or import sits inside a block, import or role that may not run. */
  mayNotRun?: boolean;
}

interface FoundRole {
  dir: string;
  /** The name Ansible shows before each task: as written, NS.COLL.ROLE for a collection role. */
  name: string;
}

/** `ns.coll.role` names its own collection; a short name is tried in each of the play's collections. */
function collectionRoleRefs(name: string, collections: readonly string[] = []): { collection: string; role: string }[] {
  const fq = /^(\w+\.\w+)\.(\w+)$/.exec(name);
  if (fq) return [{ collection: fq[1]!, role: fq[2]! }];
  if (!/^\w+$/.test(name)) return [];
  return collections.filter((c) => /^\w+\.\w+$/.test(c)).map((collection) => ({ collection, role: name }));
}

/** Role names under a roles folder, one level of sub-folders deep (`dns/bind`), for "did you mean". */
async function roleNamesUnder(dir: string): Promise<string[]> {
  const names: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    names.push(e.name);
    const subs = await readdir(path.join(dir, e.name), { withFileTypes: true }).catch(() => []);
    for (const sub of subs) if (sub.isDirectory() && !roleSubfolders.has(sub.name)) names.push(`${e.name}/${sub.name}`);
  }
  return names;
}

const roleSubfolders = new Set(['tasks', 'handlers', 'defaults', 'vars', 'meta', 'files', 'templates', 'library', 'module_utils', 'lookup_plugins', 'filter_plugins', 'tests']);

function templateHint(code: string): string {
  if (/FILTER/.test(code)) return 'check the filter name for a typo; only filters vncplay implements can be used';
  if (/TEST/.test(code)) return 'check the test name (after `is`) for a typo';
  return 'fix the template: every {{ needs }} and every {% if %}/{% for %} its {% end… %}';
}

/** An integer written in octal (YAML 1.1's `0644`), hex or binary: the bits themselves, never a decimal number. */
function isBitPatternLiteral(literal: string): boolean {
  return /^0(?:[0-7_]+|x[0-9a-fA-F_]+|b[01_]+)$/.test(literal);
}

function modeHint(literal: string, value: unknown): string {
  const n = Number(value);
  const quoted = literal.startsWith('0') ? literal : `0${literal}`;
  return `YAML reads ${literal} as the decimal number ${n}, which is 0${n.toString(8)} in octal, not the permissions you meant. Write mode: "${quoted}" (or symbolic, e.g. "u=rw,go=r")`;
}

function candidatePaths(rel: string, bases: (string | undefined)[]): string[] {
  if (path.isAbsolute(rel)) return [rel];
  return unique(bases.filter((b): b is string => b !== undefined).map((b) => path.join(b, rel)));
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      // not there; try the next
    }
  }
  return undefined;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function isHostOrder(v: unknown): v is HostOrder {
  return v === 'inventory' || v === 'reverse_inventory' || v === 'sorted' || v === 'reverse_sorted' || v === 'shuffle';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Record<string, RawValue> {
  return isRecord(v) ? v : {};
}

function toConditions(v: unknown): RawValue[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v : [v];
}

function toStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Tags: a list, or Ansible's comma-separated string form. */
function toTags(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Reads only the first bytes: copy sources may be large, and only vault files need a closer look. */
async function startsWithVaultHeader(file: string): Promise<boolean> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(VAULT_HEADER.length + 1);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return isVaultText(head.subarray(0, bytesRead).toString('latin1'));
  } finally {
    await fh.close();
  }
}

function containsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return /\{\{|\{%/.test(v);
  if (Array.isArray(v)) return v.some(containsTemplate);
  if (isRecord(v)) return Object.values(v).some(containsTemplate);
  return false;
}

/**
 * `vars:` written as a list of mappings (older playbooks do) is one mapping, later entries winning, as Ansible's
 * _load_vars merges it. The merged node keeps each pair's own position for later errors.
 */
function mergedVarsList(value: unknown): unknown {
  if (!isSeq(value) || value.items.length === 0 || !value.items.every(isMap)) return value;
  const merged = new YAMLMap<unknown, unknown>();
  merged.range = value.range;
  const latest = new Map<string, Pair<unknown, unknown>>();
  for (const item of value.items as YAMLMap<unknown, unknown>[]) for (const p of item.items) latest.set(keyOf(p), p);
  merged.items = [...latest.values()];
  return merged;
}

/** Ansible's booleans in a vars_prompt entry (checked by the schema: a boolean or a YAML 1.1 word). */
const promptFlag = (v: unknown, fallback: boolean): boolean => (v === undefined ? fallback : typeof v === 'boolean' ? v : /^(y|yes|true|on|1)$/i.test(String(v)));

/** `vars_prompt` entries, already checked against the play schema. */
function toVarsPrompts(value: unknown): VarsPrompt[] {
  if (!Array.isArray(value)) return [];
  return value.map((raw: Record<string, unknown>) => ({
    name: String(raw.name),
    prompt: typeof raw.prompt === 'string' ? raw.prompt : String(raw.name),
    ...(raw.default !== undefined && raw.default !== null ? { default: String(raw.default) } : {}),
    private: promptFlag(raw.private, true),
    confirm: promptFlag(raw.confirm, false),
    ...(typeof raw.encrypt === 'string' ? { encrypt: raw.encrypt as VarsPrompt['encrypt'] } : {}),
    saltSize: typeof raw.salt_size === 'number' ? raw.salt_size : 8,
    ...(typeof raw.salt === 'string' ? { salt: raw.salt } : {}),
    unsafe: promptFlag(raw.unsafe, false),
  }));
}

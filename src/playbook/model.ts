import type { SourcePos } from '../errors.js';
import type { CollectionModuleSearch } from '../modules/library/collections.js';
import type { ModuleSearchPath } from '../modules/library/search-path.js';
import type { InheritedKeywords } from './plan.js';

/** A `{{ }}`-bearing value stays as written here; the runner renders it per host at run time. */
export type RawValue = unknown;

export interface TaskDef {
  /** file:line:col of the task's first key, for errors and --list-tasks. */
  pos: SourcePos;
  name?: string;
  /** Canonical module name (aliases and ansible.builtin.X resolved); absent for block and include tasks, and while `dynamicModule` is unresolved. */
  module?: string;
  /**
   * The module file a library/ folder has for `module` (found as Ansible does, before its builtins), or the installed
   * collection's module file for a module vncplay lacks: run on the host as a file, as Ansible runs it.
   */
  libraryFile?: string;
  /**
   * `action: "{{ packager }} name=git"`: the module's name is a template, rendered for each host when the task runs
   * (as Ansible templates `action`), then looked up and its arguments checked by that module's spec.
   */
  dynamicModule?: DynamicModule;
  /** The action key as written (`ansible.builtin.debug`, `include_role`): what --list-tasks shows for an unnamed task. */
  action?: string;
  /** Module arguments as written: a free-form string goes under the module's `freeForm` key (command: ls → {cmd: "ls"}), key=value strings are split. */
  args: Record<string, RawValue>;
  when?: RawValue[];
  loop?: RawValue;
  loopVar: string;
  loopLabel?: string;
  /** The whole `loop_control` mapping as written (index_var, pause, extended … beside loop_var/label). */
  loopControl?: Record<string, RawValue>;
  /**
   * The lookup of a legacy `with_<lookup>:` loop as written after `with_` (`items`, `dict`, `community.general.flattened`):
   * the loop's items are what the lookup returns for the terms in `loop`.
   */
  loopWith?: string;
  /** file:line:col of the loop's value (`loop:` or `with_<lookup>:`), where its errors point. */
  loopPos?: SourcePos;
  register?: string;
  notify: string[];
  changedWhen?: RawValue[];
  failedWhen?: RawValue[];
  ignoreErrors?: RawValue;
  retries?: RawValue;
  delay?: RawValue;
  until?: RawValue[];
  tags: string[];
  become?: RawValue;
  becomeUser?: RawValue;
  becomeMethod?: RawValue;
  /** `remote_user`: the login user where the host's variables set none. */
  remoteUser?: RawValue;
  /** `connection`: ssh or local where the host's variables set none. */
  connection?: RawValue;
  checkMode?: RawValue;
  /** `delegate_to`: run the module on this host (an inventory host, or an address reached by name). */
  delegateTo?: RawValue;
  /** Where `delegate_to` is written (the block's value when inherited), for the pre-flight check of a literal name. */
  delegateToPos?: SourcePos;
  /** `delegate_facts`: facts the delegated task gathers go to the delegated host, not to the task's host. */
  delegateFacts?: RawValue;
  runOnce?: RawValue;
  /** `async`: run in the background on the host, killed after this many seconds (0: in the foreground). */
  async?: RawValue;
  /** `any_errors_fatal`: this task failing on a host (not rescued, not ignored) ends the play for every host of the batch. */
  anyErrorsFatal?: RawValue;
  /** `poll`: with async, check the job every this many seconds (Ansible's default 15); 0: do not wait for it. */
  poll?: RawValue;
  noLog?: RawValue;
  /**
   * `environment:` for the module's commands, as written, outermost first (play, blocks, imports, the task's own):
   * Ansible merges the layers, the innermost winning for each variable.
   */
  environment?: RawValue[];
  /**
   * `module_defaults:` layers, outermost first (play, blocks, imports, the task's own), each keyed by the module's
   * FQCN as Ansible resolves it (`moduleDefaultsKey`): a later layer's entry for a module replaces an earlier one's,
   * and the task's own arguments win over the entry (Ansible's get_action_args_with_defaults).
   */
  moduleDefaults?: ModuleDefaults[];
  vars: Record<string, RawValue>;
  block?: TaskDef[];
  rescue?: TaskDef[];
  always?: TaskDef[];
  /** `include_tasks` is resolved at run time (its file may be templated); `import_tasks` is expanded at load. */
  includeTasks?: RawValue;
  /** `include_role`, loaded when reached on each host (its name and files may be templates); `import_role` is expanded at load. */
  includeRole?: IncludeRole;
  /** The implicit first task of a role whose entry point has an argument spec: it checks the role's arguments (role-argument-spec.ts). */
  roleArguments?: RoleArgumentCheck;
  /** Defaults and vars of the dynamically included roles this task runs inside (set by the runner), innermost last. */
  roleScopes?: RoleScope[];
  /** Handler topics this handler also listens to (`listen:`). */
  listen: string[];
  /**
   * Base folders that relative `src` paths of copy/template resolve against, most specific first: [roleDir,
   * playbookDir] for role tasks, [playbookDir] otherwise. Each DIR is tried as DIR/files|templates/REL, then DIR/REL.
   */
  searchDirs: string[];
  /** Set when the task came from a role; its defaults/vars are in the play's role scope. */
  role?: string;
  /** The folder of that role: relative include_tasks paths look in its tasks/ first, as Ansible does. */
  roleDir?: string;
  /** The play's `collections:`, for short names of collection roles in include_role. */
  collections?: readonly string[];
  /** For include_tasks and include_role: where roles named in what they load at run time are looked for. */
  roleSearch?: RoleSearch;
}

/** One `module_defaults:` mapping: the module's key (moduleDefaultsKey) → its default arguments as written (a mapping, or a template of one). */
export type ModuleDefaults = Record<string, RawValue>;

/** A module named by a template, chosen for each host when the task runs. */
export interface DynamicModule {
  /** The name as written (`{{ packager }}`). */
  name: string;
  /** Where it is written (the `action:` value or its `module:`): the run's errors about the module or its arguments point here. */
  pos: SourcePos;
}

/** What a role's argument-spec task checks: the entry point's options, and the role's parameters as written. */
export interface RoleArgumentCheck {
  role: string;
  roleDir: string;
  /** `main`, or the name of the `tasks_from` file. */
  entryPoint: string;
  /** The entry point's `options:` as written in the spec. */
  options: Record<string, unknown>;
  /** The role's parameters (`- role: x` with `user: bob`): a name the spec lacks fails the check, as in Ansible. */
  params: Record<string, RawValue>;
}

/** An include_role's arguments as written (any of them may be a template), and where its role is looked for. */
export interface IncludeRole {
  name: RawValue;
  tasksFrom?: RawValue;
  varsFrom?: RawValue;
  defaultsFrom?: RawValue;
  handlersFrom?: RawValue;
  /** Whether the role's defaults and vars stay visible to the play's later tasks (Ansible's default: no). */
  public?: RawValue;
  /** The playbook's folder as the loader saw it (relative stays relative, so messages name files as the user does). */
  playbookDir: string;
}

/** A role's variables: defaults (below inventory) and vars (above play vars), as Ansible ranks them. */
export interface RoleScope {
  defaults: Record<string, RawValue>;
  vars: Record<string, RawValue>;
}

/** Where roles are looked for besides the playbook's roles/ and collections/ (ansible.cfg, ANSIBLE_*). */
export interface RoleSearch {
  rolesPath: readonly string[];
  /** Folders holding ansible_collections/NS/COLL. */
  collectionsPath: readonly string[];
  /**
   * Where module files (library/) and their module_utils/ are found: the playbook's and every loaded role's folders
   * join it for the whole run, as in Ansible; shared by the loads a run makes at run time (include_role).
   */
  moduleSearch?: ModuleSearchPath;
  /** Where modules vncplay lacks are found in the controller's installed collections (shared like moduleSearch). */
  collectionModules?: CollectionModuleSearch;
}

/** One `vars_prompt` entry, as Ansible takes it. */
export interface VarsPrompt {
  name: string;
  prompt: string;
  default?: string;
  private: boolean;
  confirm: boolean;
  encrypt?: 'sha512_crypt' | 'sha256_crypt' | 'md5_crypt';
  saltSize: number;
  salt?: string;
  unsafe: boolean;
}

export type HostOrder = 'inventory' | 'reverse_inventory' | 'sorted' | 'reverse_sorted' | 'shuffle';

/** ansible.cfg's `gathering`: when a play gathers facts (Ansible's DEFAULT_GATHERING). */
export type Gathering = 'implicit' | 'explicit' | 'smart';

export interface PlayDef {
  pos: SourcePos;
  name: string;
  hosts: string;
  vars: Record<string, RawValue>;
  /**
   * vars_files already read and parsed (a missing file is a load error), or, for a path that needs a host's
   * variables, what the run reads for each host.
   */
  varsFiles: (Record<string, RawValue> | PerHostVarsFile)[];
  /** `vars_prompt`: asked for when the run starts (src/cli/vars-prompt.ts), the answers become play vars. */
  varsPrompt: VarsPrompt[];
  /** Role defaults, lowest precedence of all play-level variables. */
  roleDefaults: Record<string, RawValue>;
  /** Role vars/main.yml, above play vars as in Ansible. */
  roleVars: Record<string, RawValue>;
  become?: RawValue;
  becomeUser?: RawValue;
  /** `order`: how the play's hosts are ordered before batching. */
  order: HostOrder;
  /** Task keywords set on the play (remote_user, environment, no_log …): its tasks, and its fact gathering, inherit them. */
  taskKeywords: InheritedKeywords;
  /** `gather_facts` as written; unset, the `gathering` setting decides (RunSettings.gathering). */
  gatherFacts?: boolean;
  serial?: RawValue;
  maxFailPercentage?: number;
  /** max_fail_percentage written as a template ("{{ x }}"): rendered by the runner, like serial. */
  maxFailPercentageTemplate?: string;
  strategy: 'linear' | 'free';
  /** pre_tasks, role tasks, tasks, post_tasks in Ansible's order, each tagged with its section. */
  preTasks: TaskDef[];
  roleTasks: TaskDef[];
  tasks: TaskDef[];
  postTasks: TaskDef[];
  handlers: TaskDef[];
  tags: string[];
}

export interface Playbook {
  file: string;
  plays: PlayDef[];
  /**
   * What the user should know but that does not stop the run, one line each: problems in files only a conditional
   * or templated include reaches, deprecated forms (`include:`).
   */
  warnings: string[];
  /** What the user may want to know at -v: what the loader could not check and leaves to the run (a module chosen by a template). */
  notes: string[];
}

/**
 * A vars_files entry whose path needs a host's variables or facts (`vars/{{ ansible_os_family }}.yml`, or a list of
 * such paths: the first that exists). Ansible templates it for each host when it builds the host's variables;
 * vncplay too (buildHostScope in vars.ts).
 */
export class PerHostVarsFile {
  constructor(
    /** The paths as written, tried in order. */
    readonly options: readonly string[],
    /** The folder relative paths are read from (the playbook's). */
    readonly dir: string,
    /** The entry, for errors at run time. */
    readonly pos: SourcePos,
    /** Every variable of every file the paths could name, for the load-time checks (undefined variables, secrets). */
    readonly knownVars: Record<string, RawValue>,
  ) {}
}

/** What a vars_files entry defines, as far as load-time checks can know: a per-host entry's variables from every file it could name. */
export function varsFileVars(entry: Record<string, RawValue> | PerHostVarsFile): Record<string, RawValue> {
  return entry instanceof PerHostVarsFile ? entry.knownVars : entry;
}

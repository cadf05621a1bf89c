import { readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where Ansible finds a module that is a file rather than part of a collection (its PluginLoader for modules and
 * module_utils): first the `library/` and `module_utils/` folders of the playbook's folder and of each legacy role, in
 * the order the run loads them (add_all_plugin_dirs, which adds them for the WHOLE run, not only for the role's
 * tasks), then the configured folders (ansible.cfg `library`/`module_utils`, ANSIBLE_LIBRARY/ANSIBLE_MODULE_UTILS),
 * each with its sub-folders one and two levels deep. Ansible's own modules come after all of them, so a short name
 * found here shadows a builtin of the same name (`ansible.builtin.NAME` still selects the builtin).
 */
export class ModuleSearchPath {
  private readonly added: { library: string[]; moduleUtils: string[] } = { library: [], moduleUtils: [] };
  /** The configured folders with their sub-folders, and each library folder's file names: read once per run. */
  private expanded?: { library: string[]; moduleUtils: string[] };
  private readonly listings = new Map<string, string[]>();

  constructor(private readonly configured: { library: readonly string[]; moduleUtils: readonly string[] } = { library: defaultLibrary(), moduleUtils: defaultModuleUtils() }) {}

  /** A playbook's or a legacy role's folder: its library/ and module_utils/ join the search path for the rest of the run. */
  addPluginFolders(baseDir: string): void {
    for (const [kind, sub] of [['library', 'library'], ['moduleUtils', 'module_utils']] as const) {
      const dir = existingDir(path.join(baseDir, sub));
      if (dir !== undefined && !this.added[kind].includes(dir)) this.added[kind].push(dir);
    }
  }

  /**
   * The module file a task key names (`NAME`, `ansible.legacy.NAME`, `ansible.builtin.NAME`), the first one in search
   * order. Ansible's builtins resolve through the same search (measured: a role's library/ping.py answers
   * `ansible.builtin.ping`), except the actions that run no module of their own name (debug, set_fact, template …).
   */
  find(key: string): string | undefined {
    const name = key.replace(/^ansible\.(legacy|builtin)\./, '');
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) || ACTION_ONLY.has(name)) return undefined;
    for (const dir of this.folders('library')) {
      const file = this.moduleFileIn(dir, name);
      if (file !== undefined) return file;
    }
    return undefined;
  }

  /** `NAME` or `NAME.ext` in `dir` (any extension but the ignored ones; sorted, where Ansible takes the folder's order). */
  private moduleFileIn(dir: string, name: string): string | undefined {
    let entries = this.listings.get(dir);
    if (entries === undefined) {
      entries = moduleFiles(dir);
      this.listings.set(dir, entries);
    }
    const entry = entries.find((e) => e === name || path.parse(e).name === name);
    return entry === undefined ? undefined : path.join(dir, entry);
  }

  /** Folders whose contents are `ansible.module_utils.*`, searched before the controller's own ansible-core. */
  moduleUtilsFolders(): string[] {
    return this.folders('moduleUtils');
  }

  private folders(kind: 'library' | 'moduleUtils'): string[] {
    this.expanded ??= { library: this.configured.library.flatMap(withSubfolders), moduleUtils: this.configured.moduleUtils.flatMap(withSubfolders) };
    return [...this.added[kind], ...this.expanded[kind]];
  }
}

/**
 * Ansible 2.14's action plugins that never run a module named like them: a library/ file cannot take their place, and
 * ansible-core's module file of that name (documentation only) is not what Ansible runs.
 */
export const ACTION_ONLY: ReadonlySet<string> = new Set(['add_host', 'assert', 'debug', 'fail', 'group_by', 'include_vars', 'meta', 'pause', 'raw', 'script', 'set_fact', 'set_stats', 'shell', 'template', 'validate_argument_spec']);

/** Ansible's DEFAULT_MODULE_PATH: ~/.ansible/plugins/modules, /usr/share/ansible/plugins/modules. */
export function defaultLibrary(): string[] {
  return [path.join(os.homedir(), '.ansible', 'plugins', 'modules'), '/usr/share/ansible/plugins/modules'];
}

/** Ansible's DEFAULT_MODULE_UTILS_PATH. */
export function defaultModuleUtils(): string[] {
  return [path.join(os.homedir(), '.ansible', 'plugins', 'module_utils'), '/usr/share/ansible/plugins/module_utils'];
}

/** Extensions Ansible never takes for a module file (MODULE_IGNORE_EXTS: REJECT_EXTS + documentation YAML and INI). */
const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.yaml', '.yml', '.ini'];

/** The files of a library folder that can be modules, sorted (Ansible takes the folder's order). */
function moduleFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.filter((e) => e !== '__init__.py' && !IGNORED_EXTENSIONS.some((ext) => e.endsWith(ext)) && isFile(path.join(dir, e)));
}

/** A configured folder's sub-folders (one and two levels deep, as Ansible globs them) before the folder itself. */
function withSubfolders(configured: string): string[] {
  const dir = existingDir(configured);
  if (dir === undefined) return [];
  const level1 = subfolders(dir);
  return [...level1, ...level1.flatMap(subfolders), dir];
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

/** The real path of a folder that exists (Ansible's add_directory resolves links), else undefined. */
export function existingDir(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? realpathSync(dir) : undefined;
  } catch {
    return undefined;
  }
}

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

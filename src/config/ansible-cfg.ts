import { access, constants, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatExcerpt, UsageError, type SourcePos } from '../errors.js';
import type { Gathering } from '../playbook/model.js';
import { iniValue, parseIni, type IniFile } from './ini.js';

/**
 * ansible.cfg, found and read as ansible-core 2.14 does (config/manager.py): the first readable file of
 * $ANSIBLE_CONFIG (a folder means its ansible.cfg), ./ansible.cfg (skipped when the current folder is world-writable),
 * ~/.ansible.cfg, /etc/ansible/ansible.cfg. An ANSIBLE_* environment variable beats the file; the command line beats
 * both (the caller applies it). Only the settings below are read; any other key is ignored, as Ansible ignores keys
 * it has no use for.
 */
export interface AnsibleConfig {
  /** The file that was read; undefined when none was found. */
  file?: string;
  /** Things the user should know (a world-writable current folder whose ansible.cfg was skipped). */
  warnings: string[];
  inventory?: string[];
  rolesPath?: string[];
  /** Where collection roles (NS.COLL.ROLE) are looked for: each folder holds ansible_collections/NS/COLL. */
  collectionsPath?: string[];
  /** Whether the controller Python's sys.path is searched for collections too (collections_scan_sys_path). */
  collectionsScanSysPath?: boolean;
  /** Folders of module files (`library`), after the playbook's and roles' library/. */
  library?: string[];
  /** Folders of module_utils files, after the playbook's and roles' module_utils/. */
  moduleUtils?: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  forks?: number;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  becomeAskPass?: boolean;
  hostKeyChecking?: boolean;
  /** Connection timeout in seconds. */
  timeout?: number;
  vaultPasswordFile?: string;
  /** Whether to write PLAYBOOK.retry after a failed run (Ansible's default: false). */
  retryFilesEnabled?: boolean;
  gathering?: Gathering;
  /** vncplay's own: keep connections between runs (the persistent-connection daemon). Default true. */
  persist?: boolean;
}


type SettingType = 'string' | 'boolean' | 'integer' | 'path' | 'pathlist' | 'pathspec' | 'gathering';
type Field = Exclude<keyof AnsibleConfig, 'file' | 'warnings'>;

interface Setting {
  field: Field;
  /** [section, key] entries; when several are set, the last one listed wins (as config/manager.py loops). */
  ini: [string, string][];
  /** Environment variables; the last one set wins. */
  env: string[];
  type: SettingType;
  /** Smallest value an integer setting may take. */
  minimum?: number;
}

/** Each setting as ansible-core's config/base.yml (and the ssh connection plugin, for its options) declares it. */
export const ANSIBLE_CFG_SETTINGS: readonly Setting[] = [
  { field: 'inventory', ini: [['defaults', 'inventory']], env: ['ANSIBLE_INVENTORY'], type: 'pathlist' },
  { field: 'rolesPath', ini: [['defaults', 'roles_path']], env: ['ANSIBLE_ROLES_PATH'], type: 'pathspec' },
  {
    field: 'collectionsPath',
    ini: [['defaults', 'collections_paths'], ['defaults', 'collections_path']],
    env: ['ANSIBLE_COLLECTIONS_PATHS', 'ANSIBLE_COLLECTIONS_PATH'],
    type: 'pathspec',
  },
  { field: 'collectionsScanSysPath', ini: [['defaults', 'collections_scan_sys_path']], env: ['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'], type: 'boolean' },
  { field: 'library', ini: [['defaults', 'library']], env: ['ANSIBLE_LIBRARY'], type: 'pathspec' },
  { field: 'moduleUtils', ini: [['defaults', 'module_utils']], env: ['ANSIBLE_MODULE_UTILS'], type: 'pathspec' },
  { field: 'remoteUser', ini: [['defaults', 'remote_user']], env: ['ANSIBLE_REMOTE_USER'], type: 'string' },
  { field: 'privateKeyFile', ini: [['defaults', 'private_key_file']], env: ['ANSIBLE_PRIVATE_KEY_FILE'], type: 'path' },
  { field: 'forks', ini: [['defaults', 'forks']], env: ['ANSIBLE_FORKS'], type: 'integer', minimum: 1 },
  { field: 'become', ini: [['privilege_escalation', 'become']], env: ['ANSIBLE_BECOME'], type: 'boolean' },
  { field: 'becomeUser', ini: [['privilege_escalation', 'become_user']], env: ['ANSIBLE_BECOME_USER'], type: 'string' },
  { field: 'becomeMethod', ini: [['privilege_escalation', 'become_method']], env: ['ANSIBLE_BECOME_METHOD'], type: 'string' },
  { field: 'becomeAskPass', ini: [['privilege_escalation', 'become_ask_pass']], env: ['ANSIBLE_BECOME_ASK_PASS'], type: 'boolean' },
  {
    field: 'hostKeyChecking',
    ini: [['defaults', 'host_key_checking'], ['ssh_connection', 'host_key_checking']],
    env: ['ANSIBLE_HOST_KEY_CHECKING', 'ANSIBLE_SSH_HOST_KEY_CHECKING'],
    type: 'boolean',
  },
  {
    field: 'timeout',
    ini: [['defaults', 'timeout'], ['ssh_connection', 'timeout']],
    env: ['ANSIBLE_TIMEOUT', 'ANSIBLE_SSH_TIMEOUT'],
    type: 'integer',
  },
  { field: 'vaultPasswordFile', ini: [['defaults', 'vault_password_file']], env: ['ANSIBLE_VAULT_PASSWORD_FILE'], type: 'path' },
  { field: 'retryFilesEnabled', ini: [['defaults', 'retry_files_enabled']], env: ['ANSIBLE_RETRY_FILES_ENABLED'], type: 'boolean' },
  { field: 'gathering', ini: [['defaults', 'gathering']], env: ['ANSIBLE_GATHERING'], type: 'gathering' },
  // Not Ansible's: its ControlPersist lives in ssh_args, which vncplay (no ssh binary) does not read.
  { field: 'persist', ini: [['vncplay', 'persist']], env: ['VNCPLAY_PERSIST'], type: 'boolean' },
];

export interface ConfigSources {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The home folder for ~/.ansible.cfg and `~` in paths. */
  home?: string;
}

export async function loadAnsibleConfig(sources: ConfigSources): Promise<AnsibleConfig> {
  const home = sources.home ?? os.homedir();
  const warnings: string[] = [];
  const file = await findConfigFile(sources, home, warnings);
  const ini = file ? parseIni(file, await readFile(file, 'utf8')) : undefined;
  const config: AnsibleConfig = { warnings, ...(file ? { file } : {}) };
  const ctx: ResolveContext = { env: sources.env, home, cwd: sources.cwd };
  for (const setting of ANSIBLE_CFG_SETTINGS) {
    const value = settingValue(setting, ini, ctx);
    if (value !== undefined) (config as unknown as Record<Field, unknown>)[setting.field] = value;
  }
  return config;
}

/** The first readable candidate, in Ansible's order. */
async function findConfigFile(sources: ConfigSources, home: string, warnings: string[]): Promise<string | undefined> {
  const candidates: string[] = [];
  const fromEnv = sources.env['ANSIBLE_CONFIG'];
  if (fromEnv !== undefined) {
    const p = resolvePath(fromEnv, sources.cwd, { env: sources.env, home, cwd: sources.cwd });
    candidates.push((await isDirectory(p)) ? path.join(p, 'ansible.cfg') : p);
  }
  const cwdCfg = path.join(sources.cwd, 'ansible.cfg');
  // A world-writable folder could hold anyone's ansible.cfg (a shared /tmp): Ansible refuses to read it.
  if (await isWorldWritable(sources.cwd)) {
    if (await isReadable(cwdCfg)) {
      warnings.push(`Ansible is being run in a world writable directory (${sources.cwd}), ignoring it as an ansible.cfg source.`);
    }
  } else candidates.push(cwdCfg);
  candidates.push(path.join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  for (const c of candidates) if (await isReadable(c)) return c;
  return undefined;
}

interface ResolveContext {
  env: NodeJS.ProcessEnv;
  home: string;
  cwd: string;
}

/** The environment's value if one of the setting's variables is set, else the file's, converted to the setting's type. */
function settingValue(setting: Setting, ini: IniFile | undefined, ctx: ResolveContext): unknown {
  let found: { raw: string; base: string; origin: string; pos?: SourcePos } | undefined;
  for (const name of setting.env) {
    const raw = ctx.env[name];
    if (raw !== undefined) found = { raw, base: ctx.cwd, origin: `environment variable ${name}` };
  }
  if (!found && ini) {
    for (const [section, key] of setting.ini) {
      const entry = iniValue(ini, section, key);
      if (entry) found = { raw: entry.value, base: path.dirname(ini.file), origin: `[${section}] ${key}`, pos: entry.pos };
    }
  }
  if (!found) return undefined;
  const bad = (expected: string, hint: string): UsageError =>
    new UsageError('E_CONFIG_VALUE', `${found.origin}: ${expected}, got '${found.raw}'`, {
      ...(found.pos ? { pos: found.pos, ...(ini ? { excerpt: formatExcerpt(ini.text, found.pos.line, found.pos.col) } : {}) } : {}),
      hint,
    });
  const { raw, base } = found;
  switch (setting.type) {
    case 'string':
      return unquote(raw);
    case 'boolean':
      // Ansible's boolean(value, strict=False): these words are true, anything else is false.
      return ['y', 'yes', 'on', '1', 'true', 't'].includes(raw.trim().toLowerCase());
    case 'integer': {
      // Python's int(): surrounding spaces, a sign and digit-separating underscores are allowed.
      if (!/^\s*[-+]?\d+(?:_\d+)*\s*$/.test(raw)) throw bad('expected a whole number', 'write digits only, e.g. forks = 20');
      const n = Number(raw.replace(/_/g, ''));
      if (setting.minimum !== undefined && n < setting.minimum) throw bad(`expected a whole number of at least ${setting.minimum}`, `write ${setting.ini[0]![1]} = ${setting.minimum} or more`);
      return n;
    }
    case 'gathering': {
      const v = unquote(raw).trim();
      if (v !== 'implicit' && v !== 'explicit' && v !== 'smart') throw bad('expected implicit, explicit or smart', 'implicit gathers facts unless a play says gather_facts: false');
      return v;
    }
    case 'path':
      return resolvePath(raw, base, ctx);
    case 'pathlist':
      return splitPaths(raw, ',', base, ctx);
    case 'pathspec':
      return splitPaths(raw, ':', base, ctx);
  }
}

function splitPaths(raw: string, separator: string, base: string, ctx: ResolveContext): string[] {
  return raw
    .split(separator)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => resolvePath(p, base, ctx));
}

/**
 * Ansible's resolve_path: `{{CWD}}` is the current folder, $VARS and ~ are expanded, and a relative path is taken
 * from `base` (the cfg file's folder for a file setting, the current folder for an environment variable).
 */
export function resolvePath(value: string, base: string, ctx: ResolveContext): string {
  const expanded = expandUser(expandVars(value.split('{{CWD}}').join(ctx.cwd), ctx.env), ctx.home);
  return path.resolve(base, expanded);
}

/** Python's os.path.expandvars: $NAME and ${NAME} of set variables; anything else stays as written. */
function expandVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([^}]+)\})/g, (m, bare: string | undefined, braced: string | undefined) => env[bare ?? braced ?? ''] ?? m);
}

function expandUser(value: string, home: string): string {
  return value === '~' || value.startsWith('~/') ? home + value.slice(1) : value;
}

/** Ansible's unquote: one pair of matching surrounding quotes is removed. */
function unquote(value: string): string {
  return value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0] ? value.slice(1, -1) : value;
}

async function isReadable(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isWorldWritable(dir: string): Promise<boolean> {
  try {
    return ((await stat(dir)).mode & 0o002) !== 0;
  } catch {
    return false;
  }
}

import os from 'node:os';
import path from 'node:path';
import type { AnsibleConfig } from '../config/ansible-cfg.js';
import type { Gathering } from '../playbook/model.js';
import type { ConnectionDefaults } from '../inventory/index.js';
import type { CliOptions } from './args.js';

/** What the run uses when neither the command line nor ansible.cfg says. */
const DEFAULT_FORKS = 50;

/** Ansible's DEFAULT_ROLES_PATH when nothing sets roles_path (ANSIBLE_HOME is ~/.ansible). */
function defaultRolesPath(): string[] {
  return [path.join(os.homedir(), '.ansible', 'roles'), '/usr/share/ansible/roles', '/etc/ansible/roles'];
}

/** Ansible's COLLECTIONS_PATHS when nothing sets collections_path. */
function defaultCollectionsPath(): string[] {
  return [path.join(os.homedir(), '.ansible', 'collections'), '/usr/share/ansible/collections'];
}

/** The settings of one command: a command-line flag wins, then ANSIBLE_* / ansible.cfg (already merged), then vncplay's default. */
export interface EffectiveSettings {
  inventory: string[];
  forks: number;
  become: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  askBecomePass: boolean;
  vaultPasswordFiles: string[];
  gathering: Gathering;
  rolesPath: string[];
  /** Folders holding ansible_collections/NS/COLL (collection roles), after the playbook's own collections/. */
  collectionsPath: string[];
  /** Whether Python's sys.path is searched for collection modules after collectionsPath (Ansible's default: true). */
  collectionsScanSysPath: boolean;
  /** Folders of module files and of module_utils, after the playbook's and roles' own (undefined: Ansible's defaults). */
  library?: string[];
  moduleUtils?: string[];
  /** Used where the inventory does not say (inventory variables win, as in Ansible). */
  connectionDefaults: ConnectionDefaults;
  /** --host-key-checking: overrides every host's own setting. */
  hostKeyChecking?: CliOptions['hostKeyChecking'];
  /** ansible.cfg's retry_files_enabled (Ansible's default: false); undefined when the config does not say. */
  retryFilesEnabled?: boolean;
  /** Keep connections between runs (persistent-connection daemon): --no-persist, then [vncplay] persist / VNCPLAY_PERSIST. */
  persist: boolean;
}

export function effectiveSettings(opts: CliOptions, cfg: AnsibleConfig): EffectiveSettings {
  const user = opts.user ?? cfg.remoteUser;
  const privateKeyFile = opts.privateKey ?? cfg.privateKeyFile;
  const connectionDefaults: ConnectionDefaults = {
    ...(user !== undefined ? { user } : {}),
    ...(opts.connection !== undefined ? { connection: opts.connection } : {}),
    ...(privateKeyFile !== undefined ? { privateKeyFile } : {}),
    // host_key_checking = False is Ansible's "accept any key"; True is its default, strict checking.
    ...(cfg.hostKeyChecking === false ? { hostKeyChecking: 'off' as const } : {}),
    ...(cfg.timeout !== undefined ? { connectTimeoutMs: cfg.timeout * 1000 } : {}),
  };
  return {
    inventory: opts.inventory.length > 0 ? opts.inventory : (cfg.inventory ?? []),
    forks: opts.forks ?? cfg.forks ?? DEFAULT_FORKS,
    become: opts.become || cfg.become === true,
    ...(cfg.becomeUser !== undefined ? { becomeUser: cfg.becomeUser } : {}),
    ...(cfg.becomeMethod !== undefined ? { becomeMethod: cfg.becomeMethod } : {}),
    askBecomePass: opts.askBecomePass || cfg.becomeAskPass === true,
    // As ansible-playbook: the configured file is tried besides the ones given on the command line.
    vaultPasswordFiles: [...opts.vaultPasswordFiles, ...(cfg.vaultPasswordFile !== undefined ? [cfg.vaultPasswordFile] : [])],
    gathering: cfg.gathering ?? 'implicit',
    rolesPath: cfg.rolesPath ?? defaultRolesPath(),
    collectionsPath: cfg.collectionsPath ?? defaultCollectionsPath(),
    collectionsScanSysPath: cfg.collectionsScanSysPath ?? true,
    ...(cfg.library !== undefined ? { library: cfg.library } : {}),
    ...(cfg.moduleUtils !== undefined ? { moduleUtils: cfg.moduleUtils } : {}),
    connectionDefaults,
    ...(opts.hostKeyChecking !== undefined ? { hostKeyChecking: opts.hostKeyChecking } : {}),
    ...(cfg.retryFilesEnabled !== undefined ? { retryFilesEnabled: cfg.retryFilesEnabled } : {}),
    persist: !opts.noPersist && cfg.persist !== false,
  };
}

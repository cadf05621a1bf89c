import os from 'node:os';
import path from 'node:path';
import { InventoryError } from '../errors.js';
import { becomeMethodNamed, type BecomeMethod } from '../connection/become.js';
import type { ConnectionSpec } from '../connection/types.js';
import { shellSplit } from './ini.js';
import type { Inventory } from './model.js';

/**
 * Connection parameters of one host from its (already rendered) variables. Each setting is looked up under
 * Ansible's connection variable names only, first match wins: `ansible_X`, then Ansible's old `ansible_ssh_X`
 * alias. Bare names (`host`, `port`, `user`, `connection`, …) are ordinary variables, as in Ansible: a play's VNC
 * `port` or an `-e user=…` must never redirect SSH.
 */

export const CONNECTION_VARS = {
  connection: ['ansible_connection'],
  address: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  privateKeyFile: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  password: ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
  become: ['ansible_become'],
  becomeUser: ['ansible_become_user'],
  becomeMethod: ['ansible_become_method'],
  becomePassword: ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'],
  hostKeyChecking: ['ansible_host_key_checking', 'ansible_ssh_host_key_checking'],
  // vncplay's own (ansible-playbook reads UserKnownHostsFile from ansible_ssh_common_args instead); the ansible_*
  // spellings are its old names, still honoured with a warning (DEPRECATED_CONNECTION_VARS).
  knownHostsFiles: ['vncplay_known_hosts_file', 'ansible_ssh_known_hosts_file', 'ansible_known_hosts_file'],
  connectTimeout: ['ansible_ssh_timeout', 'ansible_timeout'],
  /** OpenSSH options Ansible passes to ssh; their -o UserKnownHostsFile/StrictHostKeyChecking/Port/User/… count. */
  sshArgs: ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args'],
} as const;

/**
 * Old names of vncplay-only connection variables that read like Ansible's, so an inventory shared with
 * ansible-playbook silently lost them there: still honoured, each with a warning naming its new name.
 */
export const DEPRECATED_CONNECTION_VARS: Readonly<Record<string, { newName: string; ansibleWay: string }>> = {
  ansible_ssh_known_hosts_file: { newName: 'vncplay_known_hosts_file', ansibleWay: 'ansible_ssh_common_args: -o UserKnownHostsFile=FILE' },
  ansible_known_hosts_file: { newName: 'vncplay_known_hosts_file', ansibleWay: 'ansible_ssh_common_args: -o UserKnownHostsFile=FILE' },
};

/**
 * One warning per deprecated connection variable that an inventory host's variables or -e set (see
 * DEPRECATED_CONNECTION_VARS), naming a few of the hosts that use it.
 */
export function deprecatedConnectionVarWarnings(hostVars: Iterable<[string, Record<string, unknown>]>, extraVars: Record<string, unknown>): string[] {
  const users = new Map<string, string[]>();
  const note = (name: string, who: string): void => {
    if (Object.hasOwn(DEPRECATED_CONNECTION_VARS, name)) users.set(name, [...(users.get(name) ?? []), who]);
  };
  for (const name of Object.keys(extraVars)) note(name, '-e');
  for (const [host, vars] of hostVars) for (const name of Object.keys(vars)) note(name, host);
  return [...users].map(([name, who]) => {
    const { newName, ansibleWay } = DEPRECATED_CONNECTION_VARS[name]!;
    const shown = who.length > 3 ? `${who.slice(0, 3).join(', ')} and ${who.length - 3} more` : who.join(', ');
    return `${name} (set for ${shown}) is a vncplay-only setting that ansible-playbook ignores; rename it ${newName}, or write ${ansibleWay}, which both tools read`;
  });
}

/**
 * Variables that hold a password by their name alone: SSH and become passwords under all of Ansible's names, and
 * the bare become password names, which vncplay once honoured and playbooks still use for that password (they are
 * masked, never used to connect).
 */
export const SECRET_VARIABLE_NAMES: readonly string[] = [...CONNECTION_VARS.password, ...CONNECTION_VARS.becomePassword, 'become_password', 'become_pass'];

/** Values used when no variable sets them (the CLI may pass its flags here). */
export interface ConnectionDefaults {
  user?: string;
  /** The `connection` keyword: used where no ansible_connection variable says (the implicit localhost has one). */
  connection?: ConnectionSpec['connection'];
  port?: number;
  privateKeyFile?: string;
  hostKeyChecking?: ConnectionSpec['hostKeyChecking'];
  knownHostsFiles?: string[];
  connectTimeoutMs?: number;
  /** The `become_method` keyword or ansible.cfg's: used where no ansible_become_method variable says. */
  becomeMethod?: BecomeMethod;
}

/**
 * The ConnectionSpec of `host` from its merged, rendered variables (see inventoryVars and the caller's
 * precedence). Throws InventoryError E_INV_CONNECTION_VAR for a value that cannot be used.
 */
export function connectionSpec(
  inv: Inventory,
  host: string,
  vars: Record<string, unknown>,
  defaults: ConnectionDefaults = {},
): ConnectionSpec {
  const pick = (names: readonly string[]): { name: string; value: unknown } | undefined => {
    for (const n of names) if (vars[n] !== undefined && vars[n] !== null) return { name: n, value: vars[n] };
    return undefined;
  };
  const implicit = inv.hosts.get(host)?.implicit === true;
  // Inventories written for Ansible often carry ssh settings as OpenSSH options; explicit variables still win,
  // as in Ansible, where they come first on ssh's command line and ssh keeps the first value of an option.
  const ssh = sshOptions(CONNECTION_VARS.sshArgs.map((n) => vars[n]).filter((v) => v !== undefined && v !== null));

  const conn = pick(CONNECTION_VARS.connection);
  if (ssh.proxy && (!conn || connectionKind(host, conn.name, conn.value) === 'ssh')) {
    throw bad(
      host,
      'ansible_ssh_*_args',
      `asks for '${ssh.proxy}', which vncplay does not support`,
      'reach the host directly (or through a VPN/tunnel you set up beforehand); vncplay will not silently bypass a jump host',
    );
  }
  const connection = conn ? connectionKind(host, conn.name, conn.value) : implicit ? 'local' : (defaults.connection ?? 'ssh');

  const addr = pick(CONNECTION_VARS.address);
  const address = addr === undefined ? host : String(addr.value).trim();
  if (address === '') {
    throw bad(host, addr?.name ?? 'ansible_host', 'is empty', 'set it to a DNS name or IP address, or remove it to use the host name');
  }

  const portVar = pick(CONNECTION_VARS.port);
  const port = portVar
    ? portNumber(host, portVar.name, portVar.value)
    : ssh.port !== undefined
      ? portNumber(host, 'Port in ansible_ssh_*_args', ssh.port)
      : (defaults.port ?? 22);

  const userVar = pick(CONNECTION_VARS.user);
  const user = userVar ? String(userVar.value) : (ssh.user ?? defaults.user ?? currentUser());

  const becomeVar = pick(CONNECTION_VARS.become);
  const become = becomeVar ? boolean(host, becomeVar.name, becomeVar.value) : false;
  const method = pick(CONNECTION_VARS.becomeMethod);
  const becomeMethod = method ? becomeMethodNamed(String(method.value)) : defaults.becomeMethod;
  if (method && becomeMethod === undefined) {
    throw bad(host, method.name, `'${String(method.value)}' is not supported`, 'vncplay becomes another user with sudo or su; set it to one of them or remove it');
  }

  const becomeUserVar = pick(CONNECTION_VARS.becomeUser);
  const hkcVar = pick(CONNECTION_VARS.hostKeyChecking);
  const khVar = pick(CONNECTION_VARS.knownHostsFiles);
  const toVar = pick(CONNECTION_VARS.connectTimeout);

  const spec: ConnectionSpec = {
    hostName: host,
    connection,
    address,
    port,
    user,
    become,
    becomeUser: becomeUserVar ? String(becomeUserVar.value) : 'root',
    hostKeyChecking: hkcVar
      ? hostKeyPolicy(host, hkcVar.name, hkcVar.value)
      : ssh.strictHostKeyChecking !== undefined
        ? sshStrictPolicy(host, ssh.strictHostKeyChecking)
        : (defaults.hostKeyChecking ?? 'strict'),
    knownHostsFiles: khVar
      ? knownHosts(host, khVar.name, khVar.value)
      : ssh.userKnownHostsFile !== undefined
        ? knownHosts(host, 'UserKnownHostsFile in ansible_ssh_*_args', ssh.userKnownHostsFile)
        : (defaults.knownHostsFiles ?? [expandHome('~/.ssh/known_hosts')]),
    connectTimeoutMs: toVar
      ? seconds(host, toVar.name, toVar.value) * 1000
      : ssh.connectTimeout !== undefined
        ? seconds(host, 'ConnectTimeout in ansible_ssh_*_args', ssh.connectTimeout) * 1000
        : (defaults.connectTimeoutMs ?? 10_000),
  };
  const key = pick(CONNECTION_VARS.privateKeyFile);
  if (key) spec.privateKeyFile = expandHome(String(key.value));
  else if (ssh.identityFile) spec.privateKeyFile = expandHome(ssh.identityFile);
  else if (defaults.privateKeyFile) spec.privateKeyFile = expandHome(defaults.privateKeyFile);
  if (becomeMethod !== undefined && becomeMethod !== 'sudo') spec.becomeMethod = becomeMethod;
  const pw = pick(CONNECTION_VARS.password);
  if (pw) spec.password = String(pw.value);
  const bpw = pick(CONNECTION_VARS.becomePassword);
  if (bpw) spec.becomePassword = String(bpw.value);
  return spec;
}

/** The OpenSSH options vncplay honours from ansible_ssh_*_args (others are ignored: ssh2 is not OpenSSH). */
export interface SshOptions {
  port?: string;
  user?: string;
  identityFile?: string;
  userKnownHostsFile?: string;
  strictHostKeyChecking?: string;
  connectTimeout?: string;
  /** A ProxyJump/ProxyCommand/-J that vncplay cannot follow (connecting directly instead would be wrong). */
  proxy?: string;
}

const SSH_OPTION_NAMES: Record<string, keyof SshOptions> = {
  port: 'port',
  user: 'user',
  identityfile: 'identityFile',
  userknownhostsfile: 'userKnownHostsFile',
  stricthostkeychecking: 'strictHostKeyChecking',
  connecttimeout: 'connectTimeout',
};

/**
 * Read `-o Key=Value` / `-oKey=Value` / `-o "Key Value"`, `-p PORT`, `-l USER`, `-i FILE` from ssh argument
 * strings, split like a shell line (Ansible uses shlex). The first value of an option wins, as in OpenSSH.
 */
export function sshOptions(argStrings: readonly unknown[]): SshOptions {
  const out: SshOptions = {};
  const set = (k: keyof SshOptions, v: string): void => {
    if (out[k] === undefined && v !== '') out[k] = v;
  };
  for (const raw of argStrings) {
    let tokens: string[];
    try {
      tokens = shellSplit(String(raw)).map((t) => t.text);
    } catch {
      continue;
    }
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const flag = /^-([oplJi])(.*)$/.exec(t);
      if (!flag) continue;
      const value = flag[2] !== '' ? flag[2]! : (tokens[++i] ?? '');
      if (flag[1] === 'J') set('proxy', `ProxyJump ${value}`);
      else if (flag[1] === 'p') set('port', value);
      else if (flag[1] === 'l') set('user', value);
      else if (flag[1] === 'i') set('identityFile', value);
      else if (flag[1] === 'o') {
        const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(value);
        const key = m?.[1]!.toLowerCase() ?? '';
        const name = SSH_OPTION_NAMES[key];
        if (m && name) set(name, m[2]!);
        else if (m && (key === 'proxyjump' || key === 'proxycommand') && m[2]!.toLowerCase() !== 'none') set('proxy', `${m[1]} ${m[2]}`);
      }
    }
  }
  return out;
}

function sshStrictPolicy(host: string, v: string): ConnectionSpec['hostKeyChecking'] {
  const s = v.trim().toLowerCase();
  if (s === 'yes' || s === 'ask') return 'strict';
  if (s === 'accept-new') return 'accept-new';
  if (s === 'no' || s === 'off') return 'off';
  throw bad(host, 'StrictHostKeyChecking in ansible_ssh_*_args', `'${v}' is not an OpenSSH value`, 'use yes, accept-new or no');
}

function bad(host: string, name: string, what: string, hint: string): InventoryError {
  return new InventoryError('E_INV_CONNECTION_VAR', `host '${host}': ${name} ${what}`, { hint });
}

/** The connection vncplay has for an Ansible connection name (smart and paramiko are ssh here), else undefined. */
export function connectionNamed(v: unknown): 'ssh' | 'local' | undefined {
  const s = String(v).trim().toLowerCase();
  if (s === 'local' || s === 'ansible.builtin.local') return 'local';
  if (s === 'ssh' || s === 'smart' || s === 'paramiko' || s === 'paramiko_ssh' || s === 'ansible.builtin.ssh') return 'ssh';
  return undefined;
}

function connectionKind(host: string, name: string, v: unknown): 'ssh' | 'local' {
  const kind = connectionNamed(v);
  if (kind === undefined) throw bad(host, name, `'${String(v)}' is not a supported connection`, 'use ssh or local');
  return kind;
}

function portNumber(host: string, name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw bad(host, name, `'${String(v)}' is not a TCP port`, 'use a number from 1 to 65535');
  }
  return n;
}

const TRUE_WORDS = ['true', 'yes', 'on', 'y', '1', 't'];
const FALSE_WORDS = ['false', 'no', 'off', 'n', '0', 'f', ''];

/** Ansible's boolean(): real booleans, 1/0, and yes/no/true/false/on/off in any case. */
export function boolean(host: string, name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  const s = String(v).trim().toLowerCase();
  if (TRUE_WORDS.includes(s)) return true;
  if (FALSE_WORDS.includes(s)) return false;
  throw bad(host, name, `'${String(v)}' is not a boolean`, 'use true or false');
}

function hostKeyPolicy(host: string, name: string, v: unknown): ConnectionSpec['hostKeyChecking'] {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  // Ansible reads an empty value as false (off); vncplay refuses it: a variable that rendered empty is a mistake,
  // and turning host key checking off must be said.
  if (s === '') throw bad(host, name, 'is empty', 'use strict, accept-new or off (true means strict, false off)');
  if (s === 'strict' || s === 'accept-new' || s === 'off') return s;
  if (s === 'accept_new') return 'accept-new';
  try {
    return boolean(host, name, v) ? 'strict' : 'off';
  } catch {
    throw bad(host, name, `'${String(v)}' is not a host key policy`, 'use strict, accept-new or off (true means strict, false off)');
  }
}

function knownHosts(host: string, name: string, v: unknown): string[] {
  const list = Array.isArray(v) ? v : String(v).split(/[,\s]+/);
  const files = list.map((x) => String(x).trim()).filter((x) => x !== '');
  if (files.length === 0) throw bad(host, name, 'names no file', 'give the path of an OpenSSH known_hosts file');
  return files.map(expandHome);
}

function seconds(host: string, name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || n <= 0) throw bad(host, name, `'${String(v)}' is not a number of seconds`, 'use a positive number, e.g. 10');
  return n;
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'root';
  }
}

import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { connectionNamed } from '../inventory/connection-vars.js';
import type { RetryFilesOptions } from './retry-files.js';

export interface CliOptions {
  playbooks: string[];
  inventory: string[];
  limit?: string;
  /** -f; undefined when not given (then ansible.cfg's forks, else 50). */
  forks?: number;
  check: boolean;
  diff: boolean;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  extraVars: string[];
  verbosity: number;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  syntaxCheck: boolean;
  json: boolean;
  askBecomePass: boolean;
  /** --vault-password-file, --vault-id, --ask-vault-pass: passwords for vault-encrypted files and !vault values. */
  vaultPasswordFiles: string[];
  vaultIds: string[];
  askVaultPass: boolean;
  become: boolean;
  user?: string;
  /** -c: the connection where neither the inventory (ansible_connection) nor a `connection:` keyword says. */
  connection?: 'ssh' | 'local';
  privateKey?: string;
  hostKeyChecking?: 'strict' | 'accept-new' | 'off';
  metricsFile?: string;
  retryFailed: boolean;
  /**
   * Whether and where PLAYBOOK.retry is written (off by default, as in Ansible ≥ 2.8). The command line sets
   * `enabled` (--retry-files); runCommand fills what is still undefined from the environment; an ansible.cfg
   * reader fills what is left ([defaults] retry_files_enabled, retry_files_save_path) before the run.
   */
  retryFiles: RetryFilesOptions;
  noColor: boolean;
  /** --no-persist: connect afresh and keep nothing after the run (no persistent-connection daemon). */
  noPersist: boolean;
  help: boolean;
  version: boolean;
}

export const usage = `Usage: vncplay PLAYBOOK.yml [PLAYBOOK.yml …] [options]
       vncplay vault encrypt|decrypt|view|edit|create|rekey|encrypt_string …
       vncplay drill run|report …        vncplay schedule drill|playbook|probe …
       vncplay probe -i INVENTORY …      (RFB banner of every VNC display; Prometheus metrics)
       vncplay history [list|show|verify] …  (the audit trail of every run)

Runs Ansible-compatible playbooks over SSH, in parallel across an inventory.

Options:
  -i, --inventory NAME|PATH  inventories/NAME.yml (.yaml, .ini), a path, or 'h1,h2,' (repeatable)
  -l, --limit PATTERN        only hosts matching PATTERN (a:b union, a:&b intersection, a:!b exclusion)
  -f, --forks N              hosts worked on at once (default: ansible.cfg's forks, else 50)
  -C, --check                change nothing; report what would change
  -D, --diff                 show before/after of files and state
  -t, --tags TAGS            only tasks with these tags (comma-separated, repeatable)
      --skip-tags TAGS       skip tasks with these tags
      --start-at-task NAME   start at the task with this name
  -e, --extra-vars VARS      k=v pairs, JSON/YAML, or @file.yml (repeatable; highest precedence)
  -b, --become               run tasks with sudo
  -K, --ask-become-pass      prompt for the sudo password (never printed)
      --vault-password-file F  vault password file, or a script printing it (repeatable)
      --vault-id LABEL@SRC   labelled vault password; SRC is a file, a script or 'prompt' (repeatable)
  -J, --ask-vault-pass       prompt for the vault password (never printed)
  -u, --user USER            log in as USER where the inventory (ansible_user) and remote_user say nothing
  -c, --connection ssh|local  for hosts where ansible_connection and a connection: keyword say nothing
      --private-key FILE     SSH private key file
      --host-key-checking M  strict (default) | accept-new | off
      --list-hosts           print the hosts each play would run on, then exit
      --list-tasks           print the tasks each play would run, then exit
      --list-tags            print the tags of the tasks each play would run, then exit
      --syntax-check         validate the playbooks and exit
      --json                 write an NDJSON event stream to stdout instead of the human view
      --metrics-file PATH    write Prometheus textfile metrics after the run
      --retry-files          write the hosts that failed to PLAYBOOK.retry (also ANSIBLE_RETRY_FILES_ENABLED=true)
      --retry-failed         run only the hosts that failed last time (PLAYBOOK.retry)
      --no-color             plain text even on a terminal
      --no-persist           do not keep connections for the next run (no background daemon; also
                             [vncplay] persist = false in ansible.cfg, or VNCPLAY_PERSIST=false)
  -v, --verbose              more detail (-vv, -vvv)
      --version              print the version
  -h, --help                 this help

Options not given here come from ANSIBLE_* variables and ansible.cfg, as for ansible-playbook (see the README).

Vault files: vncplay vault encrypt|decrypt|view|create|edit|rekey|encrypt_string … (see vncplay vault --help)

Exit codes: 0 ok, 2 a task failed, 3 a host unreachable, 4 invalid playbook/inventory/variables,
5 bad command line, 130 interrupted.
`;

/** -c's value: Ansible's names for the two connections vncplay has (smart and paramiko are ssh here). */
function connectionOption(value: string): 'ssh' | 'local' {
  const kind = connectionNamed(value);
  if (kind !== undefined) return kind;
  throw new UsageError('E_USAGE', `--connection must be ssh or local (smart, paramiko and ansible.builtin.* names too), got '${value}'`, {
    hint: 'vncplay connects over SSH or runs on the controller (local); other connection plugins (winrm, docker, …) are not supported',
  });
}

export function parseCli(argv: string[]): CliOptions {
  let parsed: ReturnType<typeof parseWith>;
  try {
    parsed = parseWith(argv);
  } catch (err) {
    throw new UsageError('E_USAGE', err instanceof Error ? err.message : String(err), {
      hint: 'run `vncplay --help` for the options',
    });
  }
  const v = parsed.values;
  const forks = v.forks === undefined ? undefined : Number(v.forks);
  if (forks !== undefined && (!Number.isInteger(forks) || forks < 1)) {
    throw new UsageError('E_USAGE', `--forks must be a whole number of at least 1, got '${v.forks}'`);
  }
  const hkc = v['host-key-checking'];
  if (hkc !== undefined && !['strict', 'accept-new', 'off'].includes(hkc)) {
    throw new UsageError('E_USAGE', `--host-key-checking must be strict, accept-new or off, got '${hkc}'`);
  }
  const opts: CliOptions = {
    playbooks: parsed.positionals,
    inventory: v.inventory ?? [],
    check: v.check ?? false,
    diff: v.diff ?? false,
    tags: splitList(v.tags),
    skipTags: splitList(v['skip-tags']),
    extraVars: v['extra-vars'] ?? [],
    verbosity: (v.verbose ?? []).length,
    listHosts: v['list-hosts'] ?? false,
    listTasks: v['list-tasks'] ?? false,
    listTags: v['list-tags'] ?? false,
    syntaxCheck: v['syntax-check'] ?? false,
    json: v.json ?? false,
    askBecomePass: v['ask-become-pass'] ?? false,
    vaultPasswordFiles: v['vault-password-file'] ?? [],
    vaultIds: v['vault-id'] ?? [],
    askVaultPass: v['ask-vault-pass'] ?? false,
    become: v.become ?? false,
    retryFailed: v['retry-failed'] ?? false,
    retryFiles: v['retry-files'] ? { enabled: true } : {},
    noColor: v['no-color'] ?? false,
    noPersist: v['no-persist'] ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
  };
  if (forks !== undefined) opts.forks = forks;
  if (v.limit !== undefined) opts.limit = v.limit;
  if (v['start-at-task'] !== undefined) opts.startAtTask = v['start-at-task'];
  if (v.user !== undefined) opts.user = v.user;
  if (v.connection !== undefined) opts.connection = connectionOption(v.connection);
  if (v['private-key'] !== undefined) opts.privateKey = v['private-key'];
  if (hkc !== undefined) opts.hostKeyChecking = hkc as CliOptions['hostKeyChecking'] & string;
  if (v['metrics-file'] !== undefined) opts.metricsFile = v['metrics-file'];
  if (!opts.help && !opts.version && opts.playbooks.length === 0) {
    throw new UsageError('E_USAGE', 'no playbook given', { hint: 'vncplay playbooks/restart.yml -i demo' });
  }
  return opts;
}

function parseWith(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      inventory: { type: 'string', short: 'i', multiple: true },
      limit: { type: 'string', short: 'l' },
      forks: { type: 'string', short: 'f' },
      check: { type: 'boolean', short: 'C' },
      diff: { type: 'boolean', short: 'D' },
      tags: { type: 'string', short: 't', multiple: true },
      'skip-tags': { type: 'string', multiple: true },
      'start-at-task': { type: 'string' },
      'extra-vars': { type: 'string', short: 'e', multiple: true },
      become: { type: 'boolean', short: 'b' },
      'ask-become-pass': { type: 'boolean', short: 'K' },
      'vault-password-file': { type: 'string', multiple: true },
      'vault-id': { type: 'string', multiple: true },
      'ask-vault-pass': { type: 'boolean', short: 'J' },
      user: { type: 'string', short: 'u' },
      connection: { type: 'string', short: 'c' },
      'private-key': { type: 'string' },
      'host-key-checking': { type: 'string' },
      'list-hosts': { type: 'boolean' },
      'list-tasks': { type: 'boolean' },
      'list-tags': { type: 'boolean' },
      'syntax-check': { type: 'boolean' },
      json: { type: 'boolean' },
      'metrics-file': { type: 'string' },
      'retry-failed': { type: 'boolean' },
      'retry-files': { type: 'boolean' },
      'no-color': { type: 'boolean' },
      'no-persist': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v', multiple: true },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

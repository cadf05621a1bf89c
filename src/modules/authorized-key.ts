import { ModuleError } from '../errors.js';
import { probePaths, type StatFacts } from './file-common.js';
import { pathInfo, withPathInfo } from './get-url.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * ansible.posix.authorized_key: add or remove SSH keys in a user's authorized_keys. The file is read once, the new
 * content computed as Ansible's module computes it (keys by their base64 body, options and comments normalized when
 * the file is rewritten, new keys appended in order, exclusive drops the rest) and written only when it differs.
 */
const spec = defineSpec({
  description: "Add or remove SSH public keys in a user's authorized_keys (~/.ssh made 0700, the file 0600, both the user's).",
  options: {
    user: { type: 'str', required: true, pattern: '\\S', patternText: 'a user name', description: 'The user whose authorized_keys is edited.' },
    key: { type: 'str', required: true, description: 'One or more public keys (one a line; lines starting with # are left out).' },
    path: { type: 'path', description: 'Another authorized_keys file than ~USER/.ssh/authorized_keys.' },
    manage_dir: { type: 'bool', default: true, description: "Create the key file's folder (0700, owned by the user)." },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the keys should be in the file.' },
    key_options: { type: 'str', description: 'Options put before each key (`no-port-forwarding,from="10.0.0.1"`).' },
    exclusive: { type: 'bool', default: false, description: 'Remove every other key from the file.' },
    comment: { type: 'str', description: "A comment that replaces the keys' own." },
    validate_certs: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; keys are not fetched from URLs.' },
    follow: { type: 'bool', default: false, description: 'Write through a symlinked key file instead of replacing the link.' },
  },
  check: (args) => (/^https?:/.test(args.key) ? { param: 'key', message: 'keys from a URL are not supported by vncplay', hint: "read them in the play: key: \"{{ lookup('url', …) }}\"" } : undefined),
});

type Args = ArgsOf<typeof spec.options>;

/** The key types Ansible's module recognizes. */
const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-dss', 'ssh-rsa', 'ssh-xmss@openssh.com', 'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** A key line: its base64 body identifies it; a line that is no key is kept as it is (`type: 'skipped'`). */
export interface KeyEntry {
  id: string;
  type: string;
  options: Map<string, string | null>;
  comment: string;
  rank: number;
  /** The line as written, for skipped lines. */
  raw?: string;
}

/** `no-pty,from="a,b"` → ordered options (a flag's value is null), as Ansible's parseoptions. */
export function parseOptions(text: string | undefined): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const m of (text ?? '').matchAll(/(?:[^,"']|"[^"]*"|'[^']*')+/g)) {
    const part = m[0];
    const eq = part.indexOf('=');
    if (eq >= 0) out.set(part.slice(0, eq), part.slice(eq + 1));
    else out.set(part, null);
  }
  return out;
}

/** One line → a key (undefined when it has no known key type), as Ansible's parsekey. */
export function parseKey(line: string, rank: number): KeyEntry | undefined {
  const raw = line.replaceAll('\\#', '#');
  const parts = raw.split(/\s+/).filter((p) => p !== '');
  if (parts[0] === '#') return { id: raw, type: 'skipped', options: new Map(), comment: '', rank, raw };
  const at = parts.findIndex((p) => KEY_TYPES.has(p));
  if (at < 0 || parts[at + 1] === undefined) return undefined;
  return { id: parts[at + 1]!, type: parts[at]!, options: parseOptions(at > 0 ? parts.slice(0, at).join(' ') : undefined), comment: parts.slice(at + 2).join(' '), rank };
}

/** The keys of a file by id, each line that is no key kept under its own text. */
export function parseKeyFile(text: string): Map<string, KeyEntry> {
  const keys = new Map<string, KeyEntry>();
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  lines.forEach((line, rank) => {
    const key = parseKey(line, rank);
    keys.set(key?.id ?? line, key ?? { id: line, type: 'skipped', options: new Map(), comment: '', rank, raw: line });
  });
  return keys;
}

function sameKey(a: KeyEntry, b: KeyEntry): boolean {
  return a.type === b.type && a.comment === b.comment && JSON.stringify([...a.options]) === JSON.stringify([...b.options]);
}

/** Ansible's serialize: by rank; a key as `[options ]type body comment`, other lines as they were. */
export function serializeKeys(keys: Map<string, KeyEntry>): string {
  return [...keys.values()]
    .sort((a, b) => a.rank - b.rank)
    .map((k) => {
      if (k.type === 'skipped') return k.raw ?? k.id;
      const options = [...k.options].map(([name, value]) => (value === null ? name : `${name}=${value}`)).join(',');
      return `${options === '' ? '' : `${options} `}${k.type} ${k.id} ${k.comment}\n`;
    })
    .join('');
}

/** The file's content after the task, or undefined when it stays as it is (Ansible's enforce_state). */
export function plannedContent(args: Pick<Args, 'key' | 'state' | 'key_options' | 'comment' | 'exclusive'>, existing: string): string | undefined {
  const keys = parseKeyFile(existing);
  const maxRank = keys.size;
  const wanted: string[] = [];
  let write = false;
  const lines = args.key.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('#'));
  lines.forEach((line, rank) => {
    const parsed = parseKey(line, rank);
    if (!parsed) throw new ModuleError('E_AUTHORIZED_KEY_INVALID', `invalid key specified: ${line}`, { hint: 'a key line is `[options] TYPE BASE64 [comment]`, e.g. ssh-ed25519 AAAA… me@host' });
    const key: KeyEntry = { ...parsed, ...(args.key_options !== undefined ? { options: parseOptions(args.key_options) } : {}), ...(args.comment !== undefined ? { comment: args.comment } : {}) };
    const have = keys.get(key.id);
    const matched = have !== undefined && (sameKey(have, key) || args.state === 'absent');
    if (args.state === 'present') {
      wanted.push(key.id);
      if (have !== undefined && !matched) {
        keys.delete(key.id);
        write = true;
      }
      if (!matched) {
        keys.set(key.id, { ...key, rank: maxRank + key.rank });
        write = true;
      }
    } else if (matched) {
      keys.delete(key.id);
      write = true;
    }
  });
  if (args.state === 'present' && args.exclusive) {
    for (const id of [...keys.keys()]) {
      if (!wanted.includes(id)) {
        keys.delete(id);
        write = true;
      }
    }
  }
  return write ? serializeKeys(keys) : undefined;
}

interface KeyFacts {
  uid: number;
  gid: number;
  keyfile: string;
  dirExists: boolean;
  parentExists: boolean;
  content: string;
  /** lstat of `path` when the task names one (Ansible's result then describes that file). */
  pathStat?: StatFacts | undefined;
}

/** $1 user, $2 key file ('' = ~/.ssh/authorized_keys), $3 1 = follow links. Prints uid, gid, file, dir?, parent?, content. */
const GATHER = `
ent=$(getent passwd "$1") || exit 3
uid=$(echo "$ent" | cut -d: -f3); gid=$(echo "$ent" | cut -d: -f4); home=$(echo "$ent" | cut -d: -f6)
f=\${2:-$home/.ssh/authorized_keys}
if [ "$3" = 1 ]; then f=$(realpath -m -- "$f"); fi
d=$(dirname -- "$f")
printf '%s\\n%s\\n%s\\n' "$uid" "$gid" "$f"
if [ -d "$d" ]; then echo 1; else echo 0; fi
if [ -d "$(dirname -- "$d")" ]; then echo 1; else echo 0; fi
if [ -f "$f" ]; then base64 -w0 -- "$f" || exit 4; fi
`;

export const authorizedKeyModule = plannedModule(spec, {
  kind: 'planned',
  name: 'authorized_key',
  where: 'host',
  async gather(args, ctx): Promise<KeyFacts> {
    const res = await ctx.exec(['sh', '-c', GATHER, 'vncplay-authorized-key', args.user, args.path ?? '', args.follow ? '1' : '0']);
    if (res.rc === 3) {
      throw new ModuleError('E_AUTHORIZED_KEY_USER', `Failed to lookup user ${args.user}: "getpwnam(): name not found: '${args.user}'"`, { hint: 'create the user first (user module)' });
    }
    if (res.rc !== 0) throw new ModuleError('E_AUTHORIZED_KEY_READ', `could not read the key file of ${args.user}: ${res.stderr.trim()}`);
    const [uid = '', gid = '', keyfile = '', dir = '', parent = '', b64 = ''] = res.stdout.split('\n');
    const pathStat = args.path === undefined ? undefined : (await probePaths(ctx, [args.path], { checksum: false })).paths[0]!.lstat;
    return { uid: Number(uid), gid: Number(gid), keyfile, dirExists: dir === '1', parentExists: parent === '1', content: Buffer.from(b64, 'base64').toString('utf8'), pathStat };
  },
  plan(args, facts): Change[] {
    const after = plannedContent(args, facts.content);
    if (after === undefined) return [];
    const dir = facts.keyfile.replace(/\/[^/]*$/, '') || '/';
    const owner = `${facts.uid}:${facts.gid}`;
    const steps: Step[] = [];
    if (args.manage_dir) {
      if (!facts.dirExists) steps.push({ kind: 'exec', argv: facts.parentExists ? ['mkdir', '-m', '0700', '--', dir] : ['mkdir', '-p', '-m', '0700', '--', dir] });
      steps.push({ kind: 'exec', argv: ['chown', '--', owner, dir] }, { kind: 'exec', argv: ['chmod', '0700', '--', dir] });
    } else if (!facts.dirExists) steps.push({ kind: 'exec', argv: ['mkdir', '-p', '--', dir] });
    steps.push({ kind: 'write', path: facts.keyfile, content: after, mode: '0600', owner: String(facts.uid), group: String(facts.gid) });
    return [{ summary: `${args.state === 'present' ? 'add keys to' : 'remove keys from'} ${facts.keyfile}`, diff: { path: facts.keyfile, before: facts.content, after, beforeHeader: facts.keyfile, afterHeader: facts.keyfile }, steps }];
  },
  noop: (args, facts) => `${facts.keyfile} ${args.state === 'present' ? 'has the key(s) asked' : 'has none of the key(s)'}`,
  report(args, facts) {
    // Ansible returns its parameters and the file it edited; a given path's file facts overlay them (add_path_info).
    return { ...parameters(args, facts.keyfile), ...(facts.pathStat ? pathInfo(facts.pathStat) : {}) };
  },
  async finish(args, facts, _outcomes, ctx) {
    return withPathInfo(ctx, { changed: true, data: parameters(args, facts.keyfile) });
  },
});

/** The registered result: Ansible's module returns its parameters and the key file. */
function parameters(args: Args, keyfile: string): Record<string, unknown> {
  return { user: args.user, key: args.key, path: args.path ?? null, manage_dir: args.manage_dir, state: args.state, key_options: args.key_options ?? null, exclusive: args.exclusive, comment: args.comment ?? null, validate_certs: args.validate_certs, follow: args.follow, keyfile };
}

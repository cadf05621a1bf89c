import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { ConnectionError } from '../errors.js';

/**
 * OpenSSH known_hosts: parsing, lookup and the strict | accept-new | off policy.
 *
 * The verdict is reached inside ssh2's `hostVerifier`, i.e. during key exchange and BEFORE any user
 * authentication request (and so any credential) is sent.
 */

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma list, wildcards, `[host]:port`, or `|1|salt|hash`). */
  hostField: string;
  keyType: string;
  key: Buffer;
  /** Decoded once at parse time: matching hashed entries is an HMAC per entry per name, the hot path at scale. */
  hashed?: { salt: Buffer; hash: Buffer };
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  /** Lines skipped on purpose or because they are malformed, for -v output. */
  notes: string[];
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'changed'; expected: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** Parse one known_hosts file's text. Malformed lines are skipped with a note, as ssh does. */
export function parseKnownHosts(text: string, file: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const notes: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        notes.push(`${file}:${lineNo}: unknown marker ${m}, line ignored`);
        return;
      }
    }
    const [hostField, keyType, keyB64] = fields;
    if (!hostField || !keyType || !keyB64) {
      notes.push(`${file}:${lineNo}: malformed line ignored`);
      return;
    }
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) {
      notes.push(`${file}:${lineNo}: key does not decode as ${keyType}, line ignored`);
      return;
    }
    if (marker === 'cert-authority') {
      notes.push(`${file}:${lineNo}: @cert-authority lines are not supported (host certificates are not checked); skipped`);
    }
    const entry: KnownHostEntry = { file, line: lineNo, ...(marker ? { marker } : {}), hostField, keyType, key };
    if (hostField.startsWith('|1|')) {
      const [, , saltB64, hashB64] = hostField.split('|');
      entry.hashed = { salt: Buffer.from(saltB64 ?? '', 'base64'), hash: Buffer.from(hashB64 ?? '', 'base64') };
    }
    entries.push(entry);
  });
  return { entries, notes };
}

/** The name a host is filed under: `addr` on port 22, `[addr]:port` otherwise (as ssh and ssh-keyscan write it). */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type written inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4 || len > 64) return '';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:…` fingerprint exactly as `ssh-keygen -lf` prints it (unpadded base64 of the blob's SHA-256). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The short label ssh-keygen shows in parentheses: ED25519, ECDSA, RSA, DSA. */
export function keyLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType.toUpperCase();
}

/** Does one known_hosts host field match any of `names`? Handles hashes, comma lists, wildcards and `!` negation. */
export function hostFieldMatches(hostField: string, names: readonly string[]): boolean {
  if (hostField.startsWith('|1|')) return names.some((n) => hashedMatches(hostField, n));
  const patterns = hostField.split(',');
  return names.some((name) => {
    let positive = false;
    for (const p of patterns) {
      if (p.startsWith('!')) {
        if (globMatches(p.slice(1), name)) return false;
      } else if (globMatches(p, name)) {
        positive = true;
      }
    }
    return positive;
  });
}

function entryMatches(e: KnownHostEntry, names: readonly string[]): boolean {
  if (!e.hashed) return hostFieldMatches(e.hostField, names);
  const { salt, hash } = e.hashed;
  return names.some((n) => {
    const got = createHmac('sha1', salt).update(n).digest();
    return got.length === hash.length && timingSafeEqual(got, hash);
  });
}

/** The entries (any marker) that name one of `names`, in file order. */
export function entriesForNames(entries: readonly KnownHostEntry[], names: readonly string[]): KnownHostEntry[] {
  return entries.filter((e) => entryMatches(e, names));
}

function hashedMatches(hostField: string, name: string): boolean {
  const [, , saltB64, hashB64] = hostField.split('|');
  if (!saltB64 || !hashB64) return false;
  const want = Buffer.from(hashB64, 'base64');
  const got = createHmac('sha1', Buffer.from(saltB64, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** OpenSSH host pattern: `*` any run, `?` one character; case-insensitive like hostnames. */
function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|]/g, '\\$&')))
      .join('')}$`,
    'is',
  );
  return re.test(name);
}

/**
 * Judge a presented host key against parsed entries for the host's `names`.
 * A host known only under other key types counts as CHANGED, not unknown: accepting a downgrade to a key type
 * we have never seen is exactly what a man in the middle without the real key would need.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], names: readonly string[], key: Buffer): HostKeyVerdict {
  return judgeMatched(entriesForNames(entries, names), key);
}

/** checkHostKey on entries already known to name the host (see KnownHostsStore.forHost). */
export function judgeMatched(forHost: readonly KnownHostEntry[], key: Buffer): HostKeyVerdict {
  const relevant = forHost.filter((e) => e.marker !== 'cert-authority');
  const revoked = relevant.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = relevant.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  if (plain.length > 0) return { status: 'changed', expected: plain };
  return { status: 'unknown' };
}

/** Key types known for a host, so the client can ask for those host key algorithms first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], names: readonly string[]): string[] {
  return keyTypesOfMatched(entriesForNames(entries, names));
}

export function keyTypesOfMatched(forHost: readonly KnownHostEntry[]): string[] {
  return [...new Set(forHost.filter((e) => e.marker === undefined).map((e) => e.keyType))];
}

/** `~/x` → `$HOME/x`; inventories commonly write known_hosts paths that way. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** The hashed host field OpenSSH writes with HashKnownHosts yes: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${mac}`;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  parsed: ParsedKnownHosts;
  /** Entries per looked-up name set: connect and the host key check share one scan. */
  byNames: Map<string, KnownHostEntry[]>;
}

/**
 * known_hosts files for a whole run. Files are re-parsed only when they change on disk, so hundreds of
 * hosts connecting at once parse each file once; keys learned under accept-new are appended one line at a time
 * through a single queue so parallel connects never interleave writes.
 */
export class KnownHostsStore {
  private readonly cache = new Map<string, CachedFile>();
  private appendQueue: Promise<void> = Promise.resolve();

  async load(files: readonly string[]): Promise<ParsedKnownHosts> {
    const all: ParsedKnownHosts = { entries: [], notes: [] };
    for (const f of files.map(expandHome)) {
      const parsed = await this.loadOne(f);
      all.entries.push(...parsed.entries);
      all.notes.push(...parsed.notes);
    }
    return all;
  }

  /** Entries of `files` that name one of `names` (any marker), plus the files' notes. Memoized per file version. */
  async forHost(files: readonly string[], names: readonly string[]): Promise<ParsedKnownHosts> {
    const key = names.join('\0');
    const all: ParsedKnownHosts = { entries: [], notes: [] };
    for (const f of files.map(expandHome)) {
      const cached = await this.loadCached(f);
      if (!cached) continue;
      let hit = cached.byNames.get(key);
      if (!hit) {
        hit = entriesForNames(cached.parsed.entries, names);
        cached.byNames.set(key, hit);
      }
      all.entries.push(...hit);
      all.notes.push(...cached.parsed.notes);
    }
    return all;
  }

  private async loadOne(file: string): Promise<ParsedKnownHosts> {
    return (await this.loadCached(file))?.parsed ?? { entries: [], notes: [] };
  }

  private async loadCached(file: string): Promise<CachedFile | undefined> {
    let st;
    try {
      st = await stat(file);
    } catch {
      return undefined; // a missing file simply knows no hosts, as with ssh
    }
    const hit = this.cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const parsed = parseKnownHosts(await readFile(file, 'utf8'), file);
    const fresh: CachedFile = { mtimeMs: st.mtimeMs, size: st.size, parsed, byNames: new Map() };
    this.cache.set(file, fresh);
    return fresh;
  }

  /** Append `name keytype base64` (plain, not hashed: easy to audit and to remove with ssh-keygen -R). */
  append(file: string, name: string, key: Buffer): Promise<void> {
    const path = expandHome(file);
    const line = `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
    const run = async (): Promise<void> => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      let prefix = '';
      try {
        const text = await readFile(path, 'utf8');
        if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
      } catch {
        /* new file */
      }
      await appendFile(path, prefix + line, { mode: 0o600 });
      this.cache.delete(path);
    };
    const next = this.appendQueue.then(run, run);
    this.appendQueue = next.catch(() => undefined);
    return next;
  }
}

/** One store per process is right: known_hosts files are per user, not per run. */
export const defaultKnownHostsStore = new KnownHostsStore();

export interface VerifyHostKeyParams {
  hostName: string;
  address: string;
  port: number;
  policy: HostKeyPolicy;
  /** Searched in order; accept-new appends to the first. Empty means ~/.ssh/known_hosts. */
  files: readonly string[];
  key: Buffer;
  store?: KnownHostsStore;
}

export interface VerifyHostKeyResult {
  verdict: HostKeyVerdict['status'] | 'unchecked';
  /** Set when accept-new recorded the key: where. */
  learnedIn?: string;
}

/**
 * The names a host's key is looked up under: only the address ssh connects to (ansible_host), as OpenSSH, and so
 * Ansible, looks it up. Never also the inventory name: a line `*,!ADDR` says "any host but ADDR", and a second
 * lookup under another name would let it vouch for ADDR after all.
 */
export function lookupNames(address: string, port: number): string[] {
  return [hostKeyName(address, port)];
}

export function knownHostsFilesOrDefault(files: readonly string[]): string[] {
  return files.length > 0 ? [...files] : ['~/.ssh/known_hosts'];
}

/**
 * Apply the policy to a presented key. Resolves when the key may be used; rejects with a ConnectionError
 * (E_HOSTKEY_UNKNOWN, E_HOSTKEY_CHANGED; a revoked key under every policy) that shows the fingerprint and how to fix it.
 */
export async function verifyHostKey(p: VerifyHostKeyParams): Promise<VerifyHostKeyResult> {
  const store = p.store ?? defaultKnownHostsStore;
  const files = knownHostsFilesOrDefault(p.files);
  const names = lookupNames(p.address, p.port);
  const { entries } = await store.forHost(files, names);
  const verdict = judgeMatched(entries, p.key);
  // `off` trusts unknown and changed keys, never a revoked one (nor does OpenSSH's StrictHostKeyChecking=no).
  if (p.policy === 'off' && verdict.status !== 'revoked') return { verdict: 'unchecked' };
  const type = keyTypeOf(p.key);
  const shown = `${keyLabel(type)} key ${fingerprintSha256(p.key)}`;
  const where = `${p.hostName} (${p.address}:${p.port})`;
  switch (verdict.status) {
    case 'known':
      return { verdict: 'known' };
    case 'revoked':
      throw new ConnectionError(
        'E_HOSTKEY_CHANGED',
        `host key of ${where} is REVOKED in ${verdict.entry.file}:${verdict.entry.line}: ${shown}`,
        { hint: 'a revoked key must never be trusted; ask the host owner for its new key' },
      );
    case 'changed': {
      const expected = verdict.expected
        .map((e) => `${keyLabel(e.keyType)} ${fingerprintSha256(e.key)} (${e.file}:${e.line})`)
        .join(', ');
      throw new ConnectionError(
        'E_HOSTKEY_CHANGED',
        `HOST KEY CHANGED for ${where}: it presented ${shown}, known_hosts has ${expected}. ` +
          'Someone could be intercepting the connection (man in the middle), or the host was reinstalled.',
        {
          hint:
            `if the change is expected, remove the old key with \`ssh-keygen -R '${names[0]}' -f ${verdict.expected[0]!.file}\` ` +
            `and trust the new one (\`ssh-keyscan -p ${p.port} ${p.address} >> ${files[0]}\`); ` +
            'accept-new never overrides a changed key',
        },
      );
    }
    case 'unknown':
      if (p.policy === 'accept-new') {
        await store.append(files[0]!, names[0]!, p.key);
        return { verdict: 'unknown', learnedIn: expandHome(files[0]!) };
      }
      throw new ConnectionError(
        'E_HOSTKEY_UNKNOWN',
        `host key of ${where} is not known: it presented ${shown} and no known_hosts file (${files.join(', ')}) lists it`,
        {
          hint:
            `check the fingerprint out of band, then trust it: \`ssh-keyscan -p ${p.port} ${p.address} >> ${files[0]}\`, ` +
            'or set host_key_checking: accept-new to record keys of new hosts on first contact',
        },
      );
  }
}

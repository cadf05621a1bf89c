import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream';
import ssh2, { type AnyAuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey } from 'ssh2';
import { ConnectionError } from '../errors.js';
import { assertArgv, becomeNeeded, becomePasswordMissing, sudoNeedsPassword, wrapBecome } from './become.js';
import { abortError, drive, driveOptions, type ProcessIo } from './exec-driver.js';
import { defaultKnownHostsStore, expandHome, keyTypesOfMatched, knownHostsFilesOrDefault, lookupNames, verifyHostKey, type KnownHostsStore } from './known-hosts.js';
import { execLine } from './quote.js';
import { LINE_SESSION_DRIVER, LineSession } from './line-session.js';
import { SESSION_DRIVER, ShellSession } from './shell-session.js';
import type { Connection, ConnectionSpec, ExecOptions, ExecResult } from './types.js';

// ssh2 is CommonJS; Node's ESM loader only detects some of its named exports (not `utils`), so take the default.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

/**
 * SSH through ssh2: ONE TCP connection per host for the whole run; every exec is a session channel on it.
 * Channels run in parallel up to `maxChannels` (below sshd's MaxSessions default of 10); a channel the server
 * refuses ("open failed", e.g. a lowered MaxSessions) is retried after a pause instead of failing the task.
 */

export interface SshConnectOptions {
  /** Asked (once per key file per process) when a private key is encrypted; the CLI prompts the user. */
  askPassphrase?: (keyFile: string) => Promise<string>;
  /** Parallel channels per connection. Default 8. */
  maxChannels?: number;
  /** SSH-level keepalive: a dead peer is noticed after about interval × (countMax + 1). Defaults 5000 ms × 3. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** How long to keep retrying a refused channel before failing the exec. Default 60 s. */
  channelRetryMs?: number;
  knownHosts?: KnownHostsStore;
  /** -v lines: key learned under accept-new, known_hosts notes, channel retries. Never receives secrets. */
  log?: (line: string) => void;
  /** Cancels the connect attempt. */
  signal?: AbortSignal;
  /**
   * Opt-in speed-up for become: run become execs through one long-lived `sudo sh` per become user on a kept-open
   * channel (see shell-session.ts) instead of a new channel + sudo each (measured 15-20 ms → 9 ms per exec on a
   * loaded fleet host). Execs with timeoutMs, or while that shell is busy, still get their own channel. Default false.
   */
  shellSession?: boolean;
  /**
   * Run execs without a timeout and with at most a small stdin through one long-lived bash per connection and
   * user (line-session.ts: one fork per command instead of a new sshd session; become users through one
   * `sudo -n bash` each, unless a become password is set). Falls back to a channel per command when the host has
   * no bash, sudo wants a password or the session is busy. Opt-in (default false; the runner turns it on): a
   * command killed by a signal reports bash's rc 128+N instead of `signal`, and each session keeps a channel open.
   */
  lineSession?: boolean;
  /** The ssh-agent socket to use instead of $SSH_AUTH_SOCK ('' for none): the persistence daemon serves several shells. */
  agentSocket?: string;
}

/** ssh2's host key algorithm names for a key type found in known_hosts. */
function algorithmsForKeyType(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Ask the server first for the key types we already know for it (as OpenSSH does); otherwise a host known by its
 * ECDSA key that also offers ED25519 would look "changed" only because of the algorithm order.
 */
function hostKeyAlgorithms(known: readonly string[]): string[] {
  const first = known.flatMap(algorithmsForKeyType).filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/** known_hosts notes (skipped lines) are shown once per process, not once per host. */
const shownNotes = new Set<string>();

const parsedKeys = new Map<string, Promise<ParsedKey>>();

/** Parse `file` again on its next use: the persistence daemon outlives a key file's change. */
export function forgetPrivateKey(file: string): void {
  parsedKeys.delete(expandHome(file));
}

/** Read and decrypt a key file once per process, asking for its passphrase at most once. */
function loadPrivateKey(file: string, opts: SshConnectOptions): Promise<ParsedKey> {
  const path = expandHome(file);
  let p = parsedKeys.get(path);
  if (!p) {
    p = parsePrivateKey(path, opts);
    parsedKeys.set(path, p);
    p.catch(() => parsedKeys.delete(path));
  }
  return p;
}

/** An encrypted key file whose passphrase nobody gave: fatal, unless ssh-agent may hold the key (see authMethods). */
export class EncryptedKeyError extends ConnectionError {}

async function parsePrivateKey(path: string, opts: SshConnectOptions): Promise<ParsedKey> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (cause) {
    throw new ConnectionError('E_AUTH', `cannot read private key ${path}: ${(cause as Error).message}`, {
      hint: 'check ansible_ssh_private_key_file',
      cause,
    });
  }
  let key = utils.parseKey(data);
  if (key instanceof Error && /passphrase/i.test(key.message)) {
    if (!opts.askPassphrase) {
      throw new EncryptedKeyError('E_AUTH', `private key ${path} is encrypted and no passphrase was given`, {
        hint: 'load it into ssh-agent (ssh-add) and leave ansible_ssh_private_key_file unset, or run vncplay on a terminal so it can ask for the passphrase',
      });
    }
    const passphrase = await opts.askPassphrase(path);
    if (passphrase === '') {
      throw new EncryptedKeyError('E_AUTH', `private key ${path} is encrypted and no passphrase was given`, {
        hint: 'type the passphrase when asked, or load the key into ssh-agent (ssh-add) and leave ansible_ssh_private_key_file unset',
      });
    }
    key = utils.parseKey(data, passphrase);
    if (key instanceof Error) {
      throw new ConnectionError('E_AUTH', `wrong passphrase for private key ${path}`, { hint: 'try again' });
    }
  }
  if (key instanceof Error) {
    throw new ConnectionError('E_AUTH', `cannot parse private key ${path}: ${key.message}`, {
      hint: 'vncplay reads OpenSSH, PEM (PKCS#1/PKCS#8) and PuTTY keys',
    });
  }
  return Array.isArray(key) ? (key[0] as ParsedKey) : key;
}

/** Keys ssh would try by default when the inventory names none. Encrypted defaults are skipped, not prompted for. */
function defaultKeyFiles(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(homedir(), '.ssh', n)).filter((f) => existsSync(f));
}

/** As `ssh-keygen -l` prints it (`ED25519 SHA256:…`), so the refused key can be found in authorized_keys. */
function keyFingerprint(key: ParsedKey): string {
  const digest = createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
  const type = key.type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-nistp\d+$/, 'ECDSA').toUpperCase();
  return `${type} SHA256:${digest}`;
}

interface AuthPlan {
  methods: AnyAuthMethod[];
  tried: string[];
}

/**
 * SSH_AUTH_SOCK when it names a socket that exists. A stale one (left behind in a tmux or screen session after
 * its agent went away) is ignored, as ssh ignores it: ssh2 would otherwise end the whole connection on it.
 */
function agentSocket(sock: string | undefined = process.env['SSH_AUTH_SOCK']): string | undefined {
  if (!sock) return undefined;
  try {
    return statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

async function authMethods(spec: ConnectionSpec, opts: SshConnectOptions): Promise<AuthPlan> {
  const methods: AnyAuthMethod[] = [];
  const tried: string[] = [];
  const username = spec.user;
  const agent = agentSocket(opts.agentSocket ?? process.env['SSH_AUTH_SOCK']);
  if (spec.privateKeyFile) {
    // As ssh does: the agent may hold the key already unlocked, so without a passphrase the file is skipped
    // (and named in the E_AUTH message if the agent cannot log in either), not fatal.
    const key = await loadPrivateKey(spec.privateKeyFile, opts).catch((e: unknown) => {
      if (agent && e instanceof EncryptedKeyError) return undefined;
      throw e;
    });
    if (key) {
      methods.push({ type: 'publickey', username, key });
      tried.push(`publickey ${spec.privateKeyFile} (${keyFingerprint(key)})`);
    } else {
      tried.push(`publickey ${spec.privateKeyFile} (skipped: encrypted, no passphrase given)`);
    }
  }
  if (agent) {
    methods.push({ type: 'agent', username, agent });
    tried.push('ssh-agent');
  }
  if (!spec.privateKeyFile) {
    for (const f of defaultKeyFiles()) {
      const key = await loadPrivateKey(f, {}).catch(() => undefined);
      if (key) {
        methods.push({ type: 'publickey', username, key });
        tried.push(`publickey ${f} (${keyFingerprint(key)})`);
      }
    }
  }
  if (spec.password !== undefined) {
    methods.push({ type: 'password', username, password: spec.password });
    tried.push('password');
  }
  if (methods.length === 0) {
    methods.push({ type: 'none', username });
    tried.push('none (no key, agent or password configured)');
  }
  return { methods, tried };
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'EHOSTDOWN', 'ENETDOWN']);

/** Turn what ssh2 reports into one of our stable codes, naming the host. */
function connectError(spec: ConnectionSpec, err: Error & { level?: string; code?: unknown }, auth: AuthPlan): ConnectionError {
  const where = `${spec.hostName} (${spec.user}@${spec.address}:${spec.port})`;
  if (err.level === 'client-authentication') {
    // sshd answers a user that does not exist exactly like a refused key (on purpose), so name both suspects.
    return new ConnectionError('E_AUTH', `${where}: the server refused user '${spec.user}' with every method tried: ${auth.tried.join(', ')}`, {
      hint: `check ansible_user ('${spec.user}' must exist on the host), ansible_ssh_private_key_file, and that the public key is in ~${spec.user}/.ssh/authorized_keys there`,
      cause: err,
    });
  }
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    return new ConnectionError('E_TIMEOUT', `timed out connecting to ${where} after ${spec.connectTimeoutMs} ms`, {
      hint: 'is the host up and port reachable? raise the timeout with ansible_ssh_timeout / --timeout',
      cause: err,
    });
  }
  const code = typeof err.code === 'string' ? err.code : '';
  const what = UNREACHABLE_CODES.has(code) ? `${code}: ${err.message}` : err.message;
  return new ConnectionError('E_UNREACHABLE', `cannot connect to ${where}: ${what}`, {
    hint: 'check the address/port in the inventory and that sshd runs on the host',
    cause: err,
  });
}

/**
 * Open the host's one SSH connection. The host key is judged (known_hosts policy) during key exchange, before any
 * credential is sent. Rejects with a ConnectionError: E_HOSTKEY_UNKNOWN, E_HOSTKEY_CHANGED, E_AUTH, E_TIMEOUT or
 * E_UNREACHABLE, each naming the host and carrying a hint.
 */
export async function connect(spec: ConnectionSpec, opts: SshConnectOptions = {}): Promise<SshConnection> {
  const auth = await authMethods(spec, opts);
  const store = opts.knownHosts ?? defaultKnownHostsStore;
  const names = lookupNames(spec.address, spec.port);
  let known: string[] = [];
  if (spec.hostKeyChecking !== 'off') {
    const parsed = await store.forHost(knownHostsFilesOrDefault(spec.knownHostsFiles), names);
    known = keyTypesOfMatched(parsed.entries);
    for (const note of parsed.notes) {
      if (shownNotes.has(note)) continue;
      shownNotes.add(note);
      opts.log?.(note);
    }
  }

  const algorithms = { serverHostKey: hostKeyAlgorithms(known) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
  // sshd drops connections beyond MaxStartups before saying a word; that is "busy", not "down": keep retrying
  // within a time budget (many inventory hosts behind one sshd queue up here), with jittered, capped backoff.
  const retryUntil = Date.now() + DROPPED_RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const client = await attemptConnect(spec, opts, auth, store, algorithms);
      return new SshConnection(spec, client, opts);
    } catch (e) {
      if (!(e instanceof DroppedBeforeHandshake) || Date.now() >= retryUntil || opts.signal?.aborted) {
        throw e instanceof DroppedBeforeHandshake ? e.error : e;
      }
      const pause = Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random());
      opts.log?.(`${spec.hostName}: connection dropped before the SSH handshake (sshd MaxStartups?); retry ${attempt} in ${pause.toFixed(0)} ms`);
      await sleep(pause);
    }
  }
}

/** How long connections that sshd drops before its banner (MaxStartups) are retried. */
const DROPPED_RETRY_BUDGET_MS = 60_000;

/** A connection the server closed before it was ready, without saying why: typical of sshd's MaxStartups. Retryable. */
class DroppedBeforeHandshake extends Error {
  constructor(readonly error: ConnectionError) {
    super(error.message);
  }
}

const DROP_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** An SSH server's identification line, after any lines it may send before it (RFC 4253 4.2). */
const SSH_IDENTIFICATION = /(^|\n)SSH-/;
/** What OpenSSH's sshd (8.x on) writes before it drops a connection past MaxStartups. */
const SSHD_BUSY = /^Exceeded MaxStartups/;
/** How much of what a server sends first is looked at for its identification. */
const PEEK_BYTES = 8192;

function attemptConnect(
  spec: ConnectionSpec,
  opts: SshConnectOptions,
  auth: AuthPlan,
  store: KnownHostsStore,
  algorithms: ConnectConfig['algorithms'],
): Promise<Client> {
  const client = new Client();
  let hostKeyError: ConnectionError | undefined;
  let handshakeDone = false;
  client.once('handshake', () => {
    handshakeDone = true;
  });

  // NOT async: ssh2 treats any returned value (a Promise too) as a synchronous verdict. Undefined + verify() later.
  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    verifyHostKey({
      hostName: spec.hostName,
      address: spec.address,
      port: spec.port,
      policy: spec.hostKeyChecking,
      files: spec.knownHostsFiles,
      key,
      store,
    }).then(
      (r) => {
        if (r.learnedIn) opts.log?.(`${spec.hostName}: host key recorded in ${r.learnedIn} (accept-new)`);
        verify(true);
      },
      (e: unknown) => {
        hostKeyError =
          e instanceof ConnectionError ? e : new ConnectionError('E_HOSTKEY_UNKNOWN', `cannot check host key of ${spec.hostName}: ${String(e)}`, { cause: e });
        verify(false);
      },
    );
  };

  // Our own socket, so that a close can tell sshd shedding load (nothing said) from a server that is not sshd at all:
  // the first bytes are read beside ssh2. Paused first, so that this listener does not start the flow before ssh2
  // has attached its own (ssh2 resumes the socket once it has); then both see every chunk.
  const sock = new Socket();
  sock.pause();
  let firstBytes = '';
  const peek = (chunk: Buffer): void => {
    firstBytes += chunk.toString('latin1');
    if (firstBytes.length >= PEEK_BYTES || SSH_IDENTIFICATION.test(firstBytes) || SSHD_BUSY.test(firstBytes)) sock.off('data', peek);
  };
  sock.on('data', peek);
  const config: ConnectConfig = {
    sock,
    username: spec.user,
    readyTimeout: spec.connectTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 5000,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    hostVerifier,
    authHandler: auth.methods,
    tryKeyboard: false,
    ...(algorithms ? { algorithms } : {}),
  };

  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (e: ConnectionError, dropped = false): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      client.end();
      client.destroy();
      reject(dropped && !hostKeyError ? new DroppedBeforeHandshake(e) : e);
    };
    const onAbort = (): void =>
      fail(new ConnectionError('E_UNREACHABLE', `connecting to ${spec.hostName} was cancelled`, { cause: opts.signal?.reason }));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      if (settled) return;
      // Without this every small exec waits on Nagle + delayed ACK: measured 50 ms → 3 ms per sequential exec.
      client.setNoDelay(true);
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    // A server that said something, and no SSH identification, before it closed (an HTTP proxy on the route answers
    // "400 Bad Request") is no busy sshd: retrying it would only stretch the failure to the retry budget.
    const notSsh = (): ConnectionError | undefined => {
      if (handshakeDone || firstBytes === '' || SSH_IDENTIFICATION.test(firstBytes) || SSHD_BUSY.test(firstBytes)) return undefined;
      const said = JSON.stringify(firstBytes.split(/\r?\n/, 1)[0]!.slice(0, 60));
      return new ConnectionError('E_UNREACHABLE', `cannot connect to ${spec.hostName} (${spec.user}@${spec.address}:${spec.port}): not an SSH server there, it answered ${said}`, {
        hint: 'check the address and port in the inventory (ansible_host, ansible_port): something other than sshd answers there',
      });
    };
    client.on('error', (err: Error & { level?: string; code?: unknown }) => {
      const other = notSsh();
      const dropped =
        other === undefined &&
        !handshakeDone &&
        ((typeof err.code === 'string' && DROP_CODES.has(err.code)) || /Connection lost before handshake/i.test(err.message));
      fail(hostKeyError ?? other ?? connectError(spec, err, auth), dropped);
    });
    // A bare close before 'ready' (no error, no disconnect message) is sshd shedding load, before or just after
    // key exchange (seen with MaxStartups 1): retryable like a drop. Auth failures arrive as errors first.
    client.once('close', () => {
      const other = notSsh();
      fail(hostKeyError ?? other ?? new ConnectionError('E_UNREACHABLE', `${spec.hostName} closed the connection during the handshake`), other === undefined);
    });
    try {
      sock.connect({ host: spec.address, port: spec.port });
      client.connect(config);
    } catch (e) {
      fail(connectError(spec, e as Error, auth));
    }
  });
}


interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

/** Is this channel-open error the server saying "not now" (MaxSessions, resource shortage) rather than "never"? */
function isChannelRefusal(err: Error & { reason?: unknown }): boolean {
  return err.reason === 1 || err.reason === 4 || /open failed|Channel open failure/i.test(err.message);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SshConnection implements Connection {
  readonly hostName: string;
  readonly kind = 'ssh' as const;
  private readonly spec: ConnectionSpec;
  private readonly client: Client;
  private readonly opts: SshConnectOptions;
  private limit: number;
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly channels = new Set<ClientChannel>();
  private lost: ConnectionError | undefined;
  private closing = false;
  /** Long-lived shells per become user ('' = no become); undefined once one failed to start (not retried). */
  private readonly sessions = new Map<string, Promise<ShellSession | undefined>>();
  private readonly liveSessions = new Map<string, ShellSession>();
  /** Counters for tests, metrics and -v: channels opened, refusals retried, execs run in a shell session. */
  readonly stats = { channels: 0, channelRetries: 0, sessionExecs: 0, lineExecs: 0, sessionsRetired: 0 };
  /** Line sessions by the user they run as: '' is the login user, else a become user reached by `sudo -n`. */
  private readonly lines = new Map<string, LineSlot>();

  constructor(spec: ConnectionSpec, client: Client, opts: SshConnectOptions) {
    this.hostName = spec.hostName;
    this.spec = spec;
    this.client = client;
    this.opts = opts;
    this.limit = Math.max(1, opts.maxChannels ?? 8);
    client.removeAllListeners('error');
    client.removeAllListeners('close');
    client.on('error', (err: Error & { level?: string }) => this.markLost(err));
    client.on('close', () => this.markLost(new Error('connection closed')));
  }

  /** Channels currently open (0 when idle: nothing leaks). */
  get openChannels(): number {
    return this.channels.size;
  }

  /**
   * One round trip on the SSH transport (OpenSSH's keepalive request): false when the peer does not answer within
   * `timeoutMs` or the connection is gone. The persistence daemon asks before it hands a kept connection to a new run.
   */
  ping(timeoutMs: number): Promise<boolean> {
    if (this.lost || this.closing) return Promise.resolve(false);
    // ssh2 answers global requests through a callback queue in the order they were sent (its own keepalive does the same).
    const internal = this.client as unknown as { _callbacks?: ((failed: boolean) => void)[]; _protocol?: { ping?: () => void } };
    const queue = internal._callbacks;
    const ping = internal._protocol?.ping?.bind(internal._protocol);
    if (!queue || !ping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      // Any answer counts, success or failure: the peer is alive.
      queue.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      try {
        ping();
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  /** Set once the connection died (keepalive timeout, reset, sshd killed); every later exec fails with it. */
  get lostError(): ConnectionError | undefined {
    return this.lost;
  }

  private markLost(err: Error & { level?: string }): void {
    if (this.lost) return;
    const why = err.level === 'client-timeout' ? 'no answer to keepalives' : err.message;
    this.lost = this.closing
      ? new ConnectionError('E_UNREACHABLE', `connection to ${this.hostName} was closed`)
      : new ConnectionError('E_UNREACHABLE', `lost the connection to ${this.hostName}: ${why}`, {
          hint: 'the host went down or the network dropped; the other hosts go on, a re-run converges',
          cause: err,
        });
    for (const w of this.queue.splice(0)) w.reject(this.lost);
    for (const ch of this.channels) ch.destroy();
  }

  /** Wait up to `ms` for the connection to be declared lost (or not). */
  private async settleLost(ms: number): Promise<void> {
    if (this.lost) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.client.removeListener('close', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.client.once('close', done);
    });
  }

  private async acquire(): Promise<void> {
    if (this.lost) throw this.lost;
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return;
    }
    const slot = new Promise<void>((resolve, reject) => this.queue.push({ resolve, reject }));
    // Idle kept-open sessions hold their slots until closed: with a waiter, give them back (else, with the
    // limit lowered to what the sessions hold, the waiter would wait forever).
    this.retireIdleSessions();
    await slot;
  }

  /** A channel slot held for a session's whole life; the function it returns gives it back (only the first call does). */
  private async acquireForSession(): Promise<() => void> {
    await this.acquire();
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.release();
      }
    };
  }

  private release(): void {
    this.active--;
    // Not a straight hand-over: after a refusal lowered the limit, more slots may be out than the server allows.
    while (this.active < this.limit && this.queue.length > 0) {
      this.active++;
      this.queue.shift()?.resolve();
    }
  }

  /**
   * A kept-open session (line session, become shell) must leave at least one channel for the execs that need
   * their own (become without shellSession, timeouts, large stdins): with sshd's MaxSessions 1 there is none.
   */
  private sessionsAllowed(): boolean {
    return this.limit >= 2;
  }

  /**
   * Close kept-open sessions that are idle, so their channels can serve execs; true if one was closed.
   * They start again on next use while sessionsAllowed().
   */
  private retireIdleSessions(): boolean {
    let closed = false;
    for (const slot of this.lines.values()) {
      const line = slot.live;
      if (!line?.usable) continue;
      slot.live = undefined;
      slot.start = undefined;
      line.kill();
      closed = true;
    }
    for (const [key, session] of this.liveSessions) {
      if (!session.usable) continue;
      this.forgetSession(key, session);
      session.kill();
      closed = true;
    }
    if (closed) {
      this.stats.sessionsRetired++;
      this.opts.log?.(`${this.hostName}: closed an idle kept-open session to free its channel (at most ${this.limit} channels at once)`);
    }
    return closed;
  }

  /** A session that just finished a command gives its slot back if an exec is waiting for one. */
  private afterSessionCommand(): void {
    if (this.queue.length > 0) this.retireIdleSessions();
  }

  /** Open a session channel running `command`, retrying while the server refuses channels. */
  private async openExec(command: string, signal?: AbortSignal, retry = true): Promise<{ ch: ClientChannel; io: ProcessIo }> {
    const deadline = Date.now() + (this.opts.channelRetryMs ?? 60_000);
    let pause = 50;
    for (;;) {
      if (this.lost) throw this.lost;
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('exec aborted');
      try {
        return await new Promise<{ ch: ClientChannel; io: ProcessIo }>((resolve, reject) => {
          // Listeners must be attached inside the callback: exit-status and close can arrive in the same
          // socket read as the exec confirmation and would be emitted before an awaiting caller resumes.
          this.client.exec(command, (err, ch) => {
            if (err) return reject(err);
            // Counted until the channel really closes, even if the caller gave up on it earlier.
            this.channels.add(ch);
            ch.once('close', () => this.channels.delete(ch));
            resolve({ ch, io: channelIo(ch) });
          });
        });
      } catch (e) {
        if (this.lost) throw this.lost;
        const err = e as Error & { reason?: unknown };
        const refused = isChannelRefusal(err);
        // The server's real limit is below ours: run no more channels at once than it just accepted.
        if (refused) this.limit = Math.max(1, Math.min(this.limit, this.channels.size));
        if (!refused || !retry || Date.now() > deadline) {
          throw new ConnectionError('E_CHANNEL', `${this.hostName}: cannot open an SSH channel: ${err.message}`, {
            hint: 'sshd refused a session channel; check MaxSessions on the host',
            cause: err,
          });
        }
        this.stats.channelRetries++;
        // An idle kept-open session would otherwise hold a channel sshd will not give (MaxSessions 1: the only
        // one) for the whole retry budget: close it; below 2 channels, commands get channels of their own from now on.
        this.opts.log?.(`${this.hostName}: server refused a channel (${err.message}); retrying in ${pause} ms with at most ${this.limit} at once`);
        this.retireIdleSessions();
        await sleep(pause);
        pause = Math.min(pause * 2, 1000);
      }
    }
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    assertArgv(argv);
    const becomeUser = opts.becomeUser ?? this.spec.becomeUser ?? 'root';
    const useSudo = opts.become === true && becomeNeeded(this.spec.user, becomeUser);
    const method = this.spec.becomeMethod ?? 'sudo';
    // su always wants the target user's password; it becomes through a channel per command (no sessions).
    if (useSudo && method === 'su' && this.spec.becomePassword === undefined) throw becomePasswordMissing(this.hostName, becomeUser, 'su');
    // Only become execs use the session: there it halves the cost (no sudo + PAM per command); without become a
    // session measured no faster than a fresh channel (its framing costs as many forks as sshd's session setup).
    if (this.opts.shellSession && useSudo && method === 'sudo' && opts.timeoutMs === undefined && !this.lost) {
      const key = becomeUser;
      const session = await this.shellSessionFor(key, useSudo);
      if (session?.usable) return this.execInSession(key, session, argv, opts);
    }
    // Become without a password rides a line session started through `sudo -n` (one sudo per host and user, not
    // one per command); with a password, or if that sudo fails, each command takes a channel and its own sudo.
    const lineUser = useSudo ? becomeUser : '';
    const lineOk = !useSudo || (method === 'sudo' && this.spec.becomePassword === undefined);
    if (lineOk && this.opts.lineSession === true && opts.timeoutMs === undefined && stdinFitsLine(opts.stdin) && !this.lost) {
      const session = await this.lineSessionFor(lineUser);
      if (session?.usable) return this.execInLine(lineUser, session, argv, opts);
    }

    // A channel of its own: the command line is built only here (the line session sends its own, shorter one).
    const wrapped = useSudo
      ? wrapBecome(argv, { user: becomeUser, method, ...(this.spec.becomePassword !== undefined ? { password: this.spec.becomePassword } : {}) })
      : { argv: [...argv] };
    const command = execLine(wrapped.argv);

    await this.acquire();
    try {
      const { io } = await this.openExec(command, opts.signal);
      this.stats.channels++;
      const result = await drive(io, driveOptions(this.hostName, becomeUser, opts, wrapped.handshake));
      // A channel that ended because the whole connection died is not a command result. sshd closes the
      // channels a moment before the TCP connection, so give the connection's end a moment to arrive.
      if (result.rc === -1 && !result.signal && !opts.timeoutMs) await this.settleLost(200);
      if (this.lost && result.rc === -1) throw this.lost;
      if (useSudo && !wrapped.handshake && sudoNeedsPassword(result.rc, result.stderr)) {
        throw becomePasswordMissing(this.hostName, becomeUser);
      }
      return result;
    } finally {
      this.release();
    }
  }

  /** The shell session for a become user, started on first use; undefined when it cannot start. */
  private shellSessionFor(key: string, useSudo: boolean): Promise<ShellSession | undefined> {
    if (!this.sessionsAllowed()) {
      this.retireIdleSessions();
      return Promise.resolve(undefined);
    }
    let p = this.sessions.get(key);
    if (!p) {
      p = this.startShellSession(key, useSudo);
      this.sessions.set(key, p);
    }
    return p;
  }

  private async startShellSession(key: string, useSudo: boolean): Promise<ShellSession | undefined> {
    const driver = ['sh', '-c', SESSION_DRIVER];
    const wrapped = useSudo
      ? wrapBecome(driver, { user: key, ...(this.spec.becomePassword !== undefined ? { password: this.spec.becomePassword } : {}) })
      : { argv: driver };
    const releaseOnce = await this.acquireForSession();
    try {
      const { ch } = await this.openExec(execLine(wrapped.argv), undefined, false);
      const session = new ShellSession(ch, wrapped.handshake);
      ch.once('close', () => {
        releaseOnce();
        // A session that ran and then closed is replaced on next use; one that never started is not retried.
        if (session.wasReady) this.forgetSession(key, session);
      });
      // sudo waiting on something we cannot answer must not stall the host: give up like a slow connect.
      const timer = setTimeout(() => session.kill(), this.spec.connectTimeoutMs);
      try {
        await session.waitReady();
      } finally {
        clearTimeout(timer);
      }
      this.liveSessions.set(key, session);
      return session;
    } catch {
      releaseOnce();
      this.opts.log?.(`${this.hostName}: shell session${key ? ` as ${key}` : ''} did not start; using one channel per command`);
      return undefined;
    }
  }

  private lineSessionFor(user: string): Promise<LineSession | undefined> {
    if (!this.sessionsAllowed()) {
      this.retireIdleSessions();
      return Promise.resolve(undefined);
    }
    let slot = this.lines.get(user);
    if (!slot) {
      slot = { generation: 0 };
      this.lines.set(user, slot);
    }
    slot.start ??= this.startLineSession(user, slot);
    return slot.start;
  }

  private async startLineSession(user: string, slot: LineSlot): Promise<LineSession | undefined> {
    const generation = ++slot.generation;
    const releaseOnce = await this.acquireForSession();
    const driver = ['bash', '-c', LINE_SESSION_DRIVER];
    try {
      // Not retried when refused: the session is only a speed-up, and a refusal means channels are scarce.
      const { ch } = await this.openExec(execLine(user ? wrapBecome(driver, { user }).argv : driver), undefined, false);
      const session = new LineSession(ch);
      ch.once('close', () => {
        releaseOnce();
        if (slot.live === session) slot.live = undefined;
        // One that ran and then closed (killed by an abort, protocol error) is replaced on next use.
        if (session.wasReady && generation === slot.generation) slot.start = undefined;
      });
      const timer = setTimeout(() => session.kill(), this.spec.connectTimeoutMs);
      try {
        await session.waitReady();
      } finally {
        clearTimeout(timer);
      }
      slot.live = session;
      return session;
    } catch (e) {
      releaseOnce();
      // Refused for want of a channel: try again on a later command (lineSessionFor skips it while sessions
      // are not allowed). Anything else (no bash, sudo wants a password) is final.
      if (e instanceof ConnectionError && e.code === 'E_CHANNEL' && generation === slot.generation) slot.start = undefined;
      this.opts.log?.(`${this.hostName}: line session (bash${user ? ` via sudo -n as ${user}` : ''}) did not start; using one channel per command`);
      return undefined;
    }
  }

  private execInLine(user: string, session: LineSession, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    return this.runInSession(session, opts.signal, () => {
      this.stats.lineExecs++;
      return session.run(argv, stdinBytes(opts.stdin));
    }, () => {
      // The session broke: start a new one on next use (unless a successor already runs).
      const slot = this.lines.get(user);
      if (slot && (slot.live === undefined || slot.live === session)) slot.start = undefined;
    });
  }

  private forgetSession(key: string, session: ShellSession): void {
    if (this.liveSessions.get(key) !== session) return;
    this.liveSessions.delete(key);
    this.sessions.delete(key);
  }

  private execInSession(key: string, session: ShellSession, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    return this.runInSession(session, opts.signal, () => {
      this.stats.sessionExecs++;
      return session.run(execLine(argv), stdinBytes(opts.stdin));
    }, () => this.forgetSession(key, session));
  }

  /**
   * One command in a long-lived session (the line session or a become shell session): an abort kills the session;
   * when the session breaks, `dropSession` lets it go and the command reads as rc -1, unless the whole connection
   * was lost (then that error).
   */
  private async runInSession(session: { kill(): void }, signal: AbortSignal | undefined, run: () => Promise<ExecResult>, dropSession: () => void): Promise<ExecResult> {
    if (signal?.aborted) throw abortError(signal);
    const onAbort = (): void => session.kill();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await run();
    } catch (e) {
      dropSession();
      if (signal?.aborted) throw abortError(signal);
      await this.settleLost(200);
      if (this.lost) throw this.lost;
      return { rc: -1, stdout: '', stderr: `vncplay: ${(e as Error).message} while the command ran\n` };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.afterSessionCommand();
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A line session under sudo holds sshd's session open after a bare disconnect (measured: the server's close
    // then came only after our 2 s cut-off); ending its input first lets its shell exit at once.
    for (const slot of this.lines.values()) slot.live?.end();
    await new Promise<void>((resolve) => {
      if (this.lost) return resolve();
      this.client.once('close', () => resolve());
      this.client.end();
      // A peer that no longer answers never sends its close; do not hang the end of the run on it.
      setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000).unref();
    });
  }
}

/** One user's line session on a connection: its start (undefined: start on next use) and the session once ready. */
interface LineSlot {
  start?: Promise<LineSession | undefined>;
  live?: LineSession;
  /** Which start `start` belongs to: a retired session's late close must not drop its successor. */
  generation: number;
}

/** Small stdins (atomic writes of config files) ride in the line session's command line, up to this size. */
const LINE_STDIN_MAX = 32 * 1024;

function stdinBytes(stdin: ExecOptions['stdin']): Uint8Array {
  return stdin === undefined ? new Uint8Array(0) : typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
}

/** Can this stdin go through the line session (in the command line: line-session.ts)? Not when large or holding a NUL byte. */
function stdinFitsLine(stdin: ExecOptions['stdin']): boolean {
  if (stdin === undefined || stdin.length === 0) return true;
  const bytes = stdinBytes(stdin);
  return bytes.length <= LINE_STDIN_MAX && !bytes.includes(0);
}

/** Adapt an ssh2 exec channel to the driver's process shape. */
function channelIo(ch: ClientChannel): ProcessIo {
  let exit: { code: number | null; signal?: string } = { code: null };
  ch.on('exit', (code: number | null, signal?: string) => {
    exit = signal ? { code: null, signal: signal.replace(/^SIG/, '') } : { code };
  });
  // Resolve only when the channel closed AND both output streams were fully read, so no trailing data is lost.
  const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
  const drained = (r: NodeJS.ReadableStream): Promise<void> =>
    new Promise((resolve) => finished(r, { writable: false }, () => resolve()));
  const done = Promise.all([closed, drained(ch), drained(ch.stderr)]).then(() =>
    exit.code === null && !exit.signal
      ? { ...exit, note: 'vncplay: the channel closed without an exit status (session killed, or sshd/the host went away)' }
      : exit,
  );
  return {
    stdin: ch,
    stdout: ch,
    stderr: ch.stderr,
    done,
    kill: () => {
      sendSignal(ch, 'KILL');
      ch.close();
    },
  };
}

/**
 * ssh2's `channel.signal()` silently does nothing once stdin was ended (it checks `writable`), and every exec
 * ends stdin at once; so send the request through the protocol object while the channel is still open.
 * OpenSSH (≥ 7.9) then killpg()s the session as the login user; a command running through sudo as another
 * user cannot be signalled that way and is only cut off (see the grace period in exec-driver.ts).
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const internal = ch as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
  };
  const id = internal.outgoing?.id;
  if (id === undefined || internal.outgoing?.state === 'closed') return;
  try {
    internal._client?._protocol?.signal?.(id, name);
  } catch {
    /* the connection is already going away */
  }
}

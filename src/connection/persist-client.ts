import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { abortError } from './exec-driver.js';
import { expandHome } from './known-hosts.js';
import { buildId, daemonFiles, fromWireError, jsonLines, persistDir, type ClientMessage, type DaemonMessage, type WireError } from './persist-wire.js';
import { connect, type SshConnectOptions } from './ssh.js';
import type { Connection, ConnectionSpec, ExecOptions, ExecResult } from './types.js';

/**
 * The CLI's side of persistent connections (persist-wire.ts): connections opened through the per-user daemon,
 * which is started on first use and keeps them after the run. Whatever keeps the daemon from serving (an unsafe
 * socket folder, a daemon that will not start, an encrypted key whose passphrase only this terminal can ask for)
 * means a direct connection, as without persistence; the reason is logged at -vvv.
 */

/** How long the CLI waits for a daemon it started to listen. */
const DAEMON_START_MS = 3000;

/** The bin script beside this package: two levels up from this file, from dist/connection/ and dist/bundle/ alike. */
const VNCPLAY_BIN = fileURLToPath(new URL('../../bin/vncplay.js', import.meta.url));

/**
 * Runs "$@" with only stdin, stdout and stderr open. Node hands a child every descriptor it inherited itself (only
 * those it opened are close-on-exec): a daemon that outlives the run would otherwise hold what the run's caller
 * passed down — the lock of `flock FILE vncplay …`, or a pipe whose reader then waits for the daemon's exit.
 */
const CLOSE_INHERITED_FDS = 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done; exec "$@"';

type Reply = Exclude<DaemonMessage, { t: 'welcome' } | { t: 'log' }>;

/** Lost the daemon (killed, crashed): what pending requests fail with. */
class DaemonGone extends Error {}

class DaemonLink {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(m: Reply): void; reject(e: Error): void }>();
  readonly logs = new Map<number, (line: string) => void>();
  gone: DaemonGone | undefined;

  constructor(private readonly socket: Socket) {
    socket.on(
      'data',
      jsonLines<DaemonMessage>(
        (m) => this.onMessage(m),
        () => socket.destroy(),
      ),
    );
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.gone = new DaemonGone('the persistent-connection daemon went away');
      for (const p of this.pending.values()) p.reject(this.gone);
      this.pending.clear();
    });
    socket.unref();
  }

  /** Sends a request and waits for its reply; the socket keeps the process alive only while replies are due. */
  request(make: (id: number) => ClientMessage): { id: number; reply: Promise<Reply> } {
    const id = this.nextId++;
    if (this.gone) return { id, reply: Promise.reject(this.gone) };
    const reply = new Promise<Reply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.socket.ref();
    this.socket.write(`${JSON.stringify(make(id))}\n`);
    return { id, reply };
  }

  tell(m: ClientMessage): void {
    if (!this.gone) this.socket.write(`${JSON.stringify(m)}\n`);
  }

  private onMessage(m: DaemonMessage): void {
    if (m.t === 'welcome') return;
    if (m.t === 'log') return this.logs.get(m.conn)?.(m.line);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.socket.unref();
    p?.resolve(m);
  }
}

let link: Promise<DaemonLink> | undefined;

/** This process's link to the daemon, started if none listens; rejects (for the whole run) when it cannot be had. */
function daemonLink(): Promise<DaemonLink> {
  link ??= attach();
  return link;
}

/** Start reaching the daemon now (a failure is reported by the first connect that needs it). */
export function warmUp(): void {
  daemonLink().catch(() => undefined);
}

async function attach(): Promise<DaemonLink> {
  const files = daemonFiles(persistDir(), buildId());
  const first = await tryAttach(files.socket, files.token);
  if (first) return first;
  const child = spawn('bash', ['-c', CLOSE_INHERITED_FDS, 'vncplay-persist', process.execPath, VNCPLAY_BIN, '__persist-daemon'], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.unref();
  const until = Date.now() + DAEMON_START_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    const l = await tryAttach(files.socket, files.token);
    if (l) return l;
  }
  throw new Error(`the daemon did not start listening on ${files.socket} within ${DAEMON_START_MS} ms`);
}

/** A link to the daemon listening on `socket`, after it accepted our token; undefined when none answers. */
async function tryAttach(socketPath: string, tokenFile: string): Promise<DaemonLink | undefined> {
  const token = await readFile(tokenFile, 'utf8').catch(() => undefined);
  if (token === undefined) return undefined;
  const socket = await new Promise<Socket | undefined>((resolve) => {
    const s = createConnection(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
  if (!socket) return undefined;
  // The daemon answers `welcome` to the right token and hangs up on a wrong one (another daemon's leftover file).
  const welcomed = await new Promise<boolean>((resolve) => {
    const onData = (d: Buffer): void => resolve(d.toString('utf8').startsWith('{"t":"welcome"'));
    socket.once('data', onData);
    socket.once('close', () => resolve(false));
    socket.write(`${JSON.stringify({ t: 'hello', token } satisfies ClientMessage)}\n`);
  });
  socket.removeAllListeners();
  if (!welcomed) {
    socket.destroy();
    return undefined;
  }
  return new DaemonLink(socket);
}

/** File paths the daemon reads: absolute (it runs in /), `~` expanded. */
function absoluteSpec(spec: ConnectionSpec): ConnectionSpec {
  const abs = (p: string): string => path.resolve(expandHome(p));
  return {
    ...spec,
    ...(spec.privateKeyFile !== undefined ? { privateKeyFile: abs(spec.privateKeyFile) } : {}),
    knownHostsFiles: spec.knownHostsFiles.map(abs),
  };
}

/** The host's connection through the daemon (kept after the run), or a direct one when the daemon cannot serve it. */
export async function connectPersistent(spec: ConnectionSpec, opts: SshConnectOptions): Promise<Connection> {
  let daemon: DaemonLink;
  try {
    daemon = await daemonLink();
  } catch (e) {
    opts.log?.(`persistent connections off for this run: ${(e as Error).message}`);
    return connect(spec, opts);
  }
  const { reply } = daemon.request((id) => ({ t: 'open', id, spec: absoluteSpec(spec), agentSocket: process.env['SSH_AUTH_SOCK'] ?? '' }));
  let m: Reply;
  try {
    m = await reply;
  } catch (e) {
    opts.log?.(`${spec.hostName}: ${(e as Error).message}; connecting directly`);
    return connect(spec, opts);
  }
  if (m.t === 'error') {
    if (m.error.encryptedKey) return connect(spec, opts);
    throw fromWireError(m.error);
  }
  if (m.t !== 'opened') throw new Error(`persistent-connection daemon: unexpected reply ${m.t}`);
  opts.log?.(`${spec.hostName}: ${m.reused ? 'kept connection reused' : 'new connection, kept after the run'} (persistent-connection daemon)`);
  if (opts.log) daemon.logs.set(m.conn, opts.log);
  return new PersistentConnection(spec, opts, daemon, m.conn, m.reused);
}

/**
 * A Connection whose execs run on the daemon's connection. If the daemon goes away, a command that was running
 * reports rc -1 (it may or may not have finished, as when a line session breaks) and later commands take a
 * direct connection of this process.
 */
export class PersistentConnection implements Connection {
  readonly hostName: string;
  readonly kind = 'ssh' as const;
  private direct: Promise<Connection> | undefined;

  constructor(
    private readonly spec: ConnectionSpec,
    private readonly opts: SshConnectOptions,
    private readonly daemon: DaemonLink,
    private readonly conn: number,
    /** The daemon already held this connection: no handshake in this run. */
    readonly reused: boolean,
  ) {
    this.hostName = spec.hostName;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.daemon.gone) {
      this.direct ??= connect(this.spec, this.opts);
      return (await this.direct).exec(argv, opts);
    }
    const signal = opts.signal;
    if (signal?.aborted) throw abortError(signal);
    const stdin = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin).toString('base64');
    const { id, reply } = this.daemon.request((id) => ({
      t: 'exec',
      id,
      conn: this.conn,
      argv: [...argv],
      ...(opts.become !== undefined ? { become: opts.become } : {}),
      ...(opts.becomeUser !== undefined ? { becomeUser: opts.becomeUser } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    }));
    const onAbort = (): void => this.daemon.tell({ t: 'abort', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const m = await reply;
      if (signal?.aborted) throw abortError(signal);
      if (m.t === 'result') return m.result;
      throw fromWireError(m.t === 'error' ? m.error : ({ message: `unexpected reply ${m.t}` } satisfies WireError));
    } catch (e) {
      if (!(e instanceof DaemonGone)) throw e;
      if (signal?.aborted) throw abortError(signal);
      return { rc: -1, stdout: '', stderr: `vncplay: ${e.message} while the command ran; later commands connect directly\n` };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.daemon.logs.delete(this.conn);
    this.daemon.tell({ t: 'close', conn: this.conn });
    if (this.direct) await (await this.direct).close();
  }
}

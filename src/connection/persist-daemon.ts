import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { knownHostsFilesOrDefault } from './known-hosts.js';
import { buildId, daemonFiles, idleMs, jsonLines, persistDir, toWireError, type ClientMessage, type DaemonMessage } from './persist-wire.js';
import { connect, forgetPrivateKey, type SshConnection } from './ssh.js';
import type { ConnectionSpec } from './types.js';

/**
 * The persistence daemon (`vncplay __persist-daemon`, started detached by persist-client.ts): holds authenticated
 * ssh2 connections and their line sessions between runs, and exits once no client has been attached for the idle
 * time (60 s). A kept connection is handed to a run only under the same key — everything that decides where and
 * as whom it logs in and which host key it accepts: the ConnectionSpec, the content of the private key file(s),
 * of the known_hosts files and the agent socket — and only after it answered a keepalive; otherwise a new one is made.
 */

interface Kept {
  conn: Promise<SshConnection>;
  /** Clients attached now: the connection's log lines go to them. */
  clients: Set<Client>;
}

interface Client {
  socket: Socket;
  /** This client's open connections, by the id the daemon gave them. */
  conns: Map<number, { key: string; conn: SshConnection }>;
  /** Execs still running, by request id: aborted when the client asks or goes away. */
  running: Map<number, AbortController>;
}

/** How long a kept connection may take to answer its keepalive before it counts as stale. */
const PING_TIMEOUT_MS = 3000;

/**
 * The files that register session functions (line-session.ts sessionScript). A line session defines the functions
 * registered when it starts, and the daemon's sessions outlive any one run: so the daemon loads them all before
 * it serves, or calls of a function would run as `sh -c SCRIPT` (slower; wait_for's banner read needs the session).
 * test/pure/persist-session-functions.test.ts checks this list against the sources.
 */
export const SESSION_FUNCTION_MODULES = ['connection/write-file', 'modules/file-common', 'modules/wait-for-host', 'runner/invoke-module'] as const;

export async function registerSessionFunctions(): Promise<void> {
  await Promise.all([import('./write-file.js'), import('../modules/file-common.js'), import('../modules/wait-for-host.js'), import('../runner/invoke-module.js')]);
}

export async function runDaemon(): Promise<number> {
  const dir = persistDir();
  const files = daemonFiles(dir, buildId());
  const idle = idleMs();
  // One starter at a time; a lock left by a crashed starter is taken over after 10 s.
  if (!(await takeStartLock(files.starting))) return 0;
  await registerSessionFunctions();
  const token = randomBytes(32).toString('hex');
  const kept = new Map<string, Kept>();
  const clients = new Set<Client>();
  let idleTimer: NodeJS.Timeout | undefined;
  let nextConn = 1;

  const server = createServer((socket) => serve(socket));
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    if (clients.size === 0) idleTimer = setTimeout(() => void shutdown(), idle);
  };
  const shutdown = async (): Promise<void> => {
    server.close();
    await unlink(files.socket).catch(() => undefined);
    await unlink(files.token).catch(() => undefined);
    await unlink(files.pid).catch(() => undefined);
    await Promise.allSettled([...kept.values()].map(async (k) => (await k.conn).close()));
    process.exit(0);
  };

  function send(c: Client, m: DaemonMessage): void {
    if (!c.socket.destroyed) c.socket.write(`${JSON.stringify(m)}\n`);
  }

  function serve(socket: Socket): void {
    const c: Client = { socket, conns: new Map(), running: new Map() };
    let greeted = false;
    clients.add(c);
    armIdle();
    const drop = (): void => {
      if (!clients.delete(c)) return;
      // A client that went away (Ctrl-C twice, killed) takes its running commands with it, as a dropped ssh would.
      for (const a of c.running.values()) a.abort(new Error('the vncplay run ended'));
      for (const k of kept.values()) k.clients.delete(c);
      armIdle();
    };
    socket.on('close', drop);
    socket.on('error', () => socket.destroy());
    socket.on(
      'data',
      jsonLines<ClientMessage>(
        (m) => {
          if (!greeted) {
            if (m.t !== 'hello' || !sameToken(m.token, token)) return void socket.destroy();
            greeted = true;
            return send(c, { t: 'welcome', pid: process.pid });
          }
          void handle(c, m);
        },
        () => socket.destroy(),
      ),
    );
  }

  async function handle(c: Client, m: ClientMessage): Promise<void> {
    switch (m.t) {
      case 'open': {
        try {
          const { key, conn, reused } = await open(m.spec, m.agentSocket, c);
          const id = nextConn++;
          c.conns.set(id, { key, conn });
          send(c, { t: 'opened', id: m.id, conn: id, reused });
        } catch (e) {
          send(c, { t: 'error', id: m.id, error: toWireError(e) });
        }
        return;
      }
      case 'exec': {
        const held = c.conns.get(m.conn);
        if (!held) return send(c, { t: 'error', id: m.id, error: { message: 'no such connection' } });
        const abort = new AbortController();
        c.running.set(m.id, abort);
        try {
          const result = await held.conn.exec(m.argv, {
            ...(m.become !== undefined ? { become: m.become } : {}),
            ...(m.becomeUser !== undefined ? { becomeUser: m.becomeUser } : {}),
            ...(m.stdin !== undefined ? { stdin: Buffer.from(m.stdin, 'base64') } : {}),
            ...(m.timeoutMs !== undefined ? { timeoutMs: m.timeoutMs } : {}),
            signal: abort.signal,
          });
          send(c, { t: 'result', id: m.id, result });
        } catch (e) {
          send(c, { t: 'error', id: m.id, error: toWireError(e) });
        } finally {
          c.running.delete(m.id);
        }
        return;
      }
      case 'abort':
        c.running.get(m.id)?.abort(new Error('aborted by the vncplay run'));
        return;
      case 'close': {
        const held = c.conns.get(m.conn);
        c.conns.delete(m.conn);
        if (held && ![...c.conns.values()].some((h) => h.key === held.key)) kept.get(held.key)?.clients.delete(c);
        return;
      }
      case 'hello':
        return;
    }
  }

  /** The kept connection for this key if it is alive, else a new one (which replaces it). */
  async function open(spec: ConnectionSpec, agentSocket: string, c: Client): Promise<{ key: string; conn: SshConnection; reused: boolean }> {
    const key = await connectionKey(spec, agentSocket);
    const have = kept.get(key);
    if (have) {
      const conn = await have.conn.catch(() => undefined);
      if (conn && !conn.lostError && (await conn.ping(Math.min(PING_TIMEOUT_MS, spec.connectTimeoutMs)))) {
        have.clients.add(c);
        return { key, conn, reused: true };
      }
      // Stale (the host rebooted, the network dropped): closed and replaced, never reused.
      if (kept.get(key) === have) kept.delete(key);
      void conn?.close();
    }
    const attached = new Set([c]);
    const entry: Kept = {
      clients: attached,
      conn: connect(spec, {
        lineSession: true,
        agentSocket,
        log: (line) => {
          for (const client of attached) for (const [id, h] of client.conns) if (h.key === key) send(client, { t: 'log', conn: id, line });
        },
      }),
    };
    kept.set(key, entry);
    try {
      return { key, conn: await entry.conn, reused: false };
    } catch (e) {
      if (kept.get(key) === entry) kept.delete(key);
      throw e;
    }
  }

  /** Content hashes of the private key files last read, by path: a changed file is parsed again. */
  const keyFileHashes = new Map<string, string>();

  async function connectionKey(spec: ConnectionSpec, agentSocket: string): Promise<string> {
    const h = createHash('sha256').update(JSON.stringify({ spec, agentSocket }));
    const keyFiles = spec.privateKeyFile ? [spec.privateKeyFile] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(homedir(), '.ssh', n));
    for (const f of keyFiles) {
      const digest = await fileDigest(f);
      h.update(`key ${f} ${digest}\n`);
      const before = keyFileHashes.get(f);
      if (before !== undefined && before !== digest) forgetPrivateKey(f);
      keyFileHashes.set(f, digest);
    }
    for (const f of knownHostsFilesOrDefault(spec.knownHostsFiles)) h.update(`known_hosts ${f} ${await fileDigest(f)}\n`);
    return h.digest('hex');
  }

  process.on('SIGTERM', () => void shutdown());
  process.on('SIGHUP', () => undefined);
  try {
    // A daemon that started just before this one took the lock: it serves, this one is not needed.
    if (await answers(files.socket)) return 0;
    if (existsSync(files.socket)) await unlink(files.socket);
    await writeFile(`${files.token}.new`, token, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(files.socket, () => resolve());
    });
    // The token file appears with the socket: a client never reads a token of another daemon's socket.
    await rename(`${files.token}.new`, files.token);
    await writeFile(files.pid, `${process.pid}\n`, { mode: 0o600 });
  } finally {
    await rmdir(files.starting).catch(() => undefined);
  }
  armIdle();
  return new Promise<number>(() => undefined); // runs until idle or SIGTERM (shutdown exits)
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function sameToken(given: unknown, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

async function fileDigest(file: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return 'absent';
  }
}

async function takeStartLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(lock, { mode: 0o700 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < 10_000) return false;
      await rmdir(lock).catch(() => undefined);
    }
  }
  return false;
}

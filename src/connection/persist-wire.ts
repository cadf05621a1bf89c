import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionError } from '../errors.js';
import { EncryptedKeyError } from './ssh.js';
import type { ConnectionSpec, ExecResult } from './types.js';

/*
 * Persistent connections (Ansible's ControlPersist): what the CLI (persist-client.ts) and the per-user daemon
 * (persist-daemon.ts) share — where the socket lives, how that place is checked, and the messages on the socket.
 *
 * Wire: one JSON object per line each way over a Unix socket. The client's first line is `hello` with the token
 * the daemon wrote into its token file (0600, in the 0700 folder): Node cannot ask the kernel who is on the other
 * end of a socket (no SO_PEERCRED), so the folder's owner and mode keep other users out and the token proves the
 * client could read a file only this user can. A connection is opened by its ConnectionSpec; the daemon holds the
 * ssh2 connection (and its line sessions) and runs the client's execs on it — all module logic stays in the CLI.
 */

/** Lines the client sends. Ids are the client's own, unique per socket. */
export type ClientMessage =
  | { t: 'hello'; token: string }
  | { t: 'open'; id: number; spec: ConnectionSpec; agentSocket: string }
  | { t: 'exec'; id: number; conn: number; argv: string[]; become?: boolean; becomeUser?: string; stdin?: string; timeoutMs?: number }
  | { t: 'abort'; id: number }
  | { t: 'close'; conn: number };

/** Lines the daemon sends. `reused`: the ssh2 connection was already open (no handshake this run). */
export type DaemonMessage =
  | { t: 'welcome'; pid: number }
  | { t: 'opened'; id: number; conn: number; reused: boolean }
  | { t: 'result'; id: number; result: ExecResult }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'log'; conn: number; line: string };

/** A ConnectionError (or any error) as it crosses the socket. */
export interface WireError {
  code?: string;
  message: string;
  hint?: string;
  /** The key file is encrypted: the daemon cannot ask for its passphrase, the CLI connects by itself. */
  encryptedKey?: true;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof ConnectionError) {
    return { code: e.code, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}), ...(e instanceof EncryptedKeyError ? { encryptedKey: true as const } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

export function fromWireError(w: WireError): Error {
  return w.code === undefined ? new Error(w.message) : new ConnectionError(w.code, w.message, w.hint !== undefined ? { hint: w.hint } : {});
}

/**
 * Splits a byte stream into lines and parses each as JSON; a line that is not JSON ends the stream (`onBad`).
 * A line is decoded whole (a chunk may end inside a UTF-8 character) and only new bytes are searched for its end:
 * a large stdin (a copy's file, base64 in one line) arrives in thousands of chunks.
 */
export function jsonLines<T>(onMessage: (m: T) => void, onBad: () => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      parts.push(chunk.subarray(start, nl));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      start = nl + 1;
      let m: T;
      try {
        m = JSON.parse(line) as T;
      } catch {
        return onBad();
      }
      onMessage(m);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  };
}

/**
 * The folder holding the socket: $VNCPLAY_PERSIST_DIR (tests), else $XDG_RUNTIME_DIR/vncplay, else
 * /tmp/vncplay-<uid>. Created 0700; refused unless it is a real folder (not a link) owned by this user with no
 * access for group or others — in a shared /tmp anyone could have made it first.
 */
export function persistDir(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const dir = env['VNCPLAY_PERSIST_DIR'] || (env['XDG_RUNTIME_DIR'] ? path.join(env['XDG_RUNTIME_DIR'], 'vncplay') : path.join(tmpdir(), `vncplay-${uid}`));
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder (a link or file is in its place)`);
  if (st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700`);
  return dir;
}

/**
 * This build's identity: a daemon serves only clients of the same build (its socket's name says which), so an
 * upgrade or a rebuild never talks to a daemon running older code. The package version plus this file's size
 * and mtime (a build rewrites it).
 */
export function buildId(): string {
  const st = statSync(fileURLToPath(import.meta.url));
  // Two levels up from this file is the package root, from dist/connection/ and from the flat dist/bundle/ alike.
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return createHash('sha256').update(`${version} ${st.size} ${st.mtimeMs}`).digest('hex').slice(0, 16);
}

export interface DaemonFiles {
  socket: string;
  token: string;
  /** Exists while a daemon starts (mkdir is atomic: one starter at a time). */
  starting: string;
  pid: string;
}

export function daemonFiles(dir: string, build: string): DaemonFiles {
  const base = path.join(dir, `daemon-${build}`);
  return { socket: `${base}.sock`, token: `${base}.token`, starting: `${base}.starting`, pid: `${base}.pid` };
}

/** The idle time after which the daemon closes its connections and exits: 60 s (ControlPersist=60s), tests shorten it. */
export function idleMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['VNCPLAY_PERSIST_IDLE_MS']);
  return Number.isInteger(v) && v > 0 ? v : 60_000;
}

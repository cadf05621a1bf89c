// The persistent-connection daemon on its own (no hosts): where its files are and with which modes, who it talks
// to (the token), that it refuses a folder other users could reach, that one daemon wins a start race, and that it
// exits after the idle time. Its connections to real hosts: persist-fleet.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli-helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'vncplay-persist-local-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
});

function startDaemon(dir: string, idleMs: number): ChildProcess {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/vncplay.js'), '__persist-daemon'], {
    env: { ...process.env, VNCPLAY_PERSIST_DIR: dir, VNCPLAY_PERSIST_IDLE_MS: String(idleMs) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(child);
  return child;
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((resolve) => c.once('exit', (code) => resolve(code)));

async function waitForFile(dir: string, suffix: string, ms = 10_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const f = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith(suffix)) : undefined;
    if (f) return path.join(dir, f);
    if (Date.now() > until) throw new Error(`no *${suffix} in ${dir}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Says hello with `token`; resolves to the daemon's first line, or undefined when it hung up instead. */
function hello(socket: string, token: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createConnection(socket);
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) {
        s.destroy();
        resolve(got.trim());
      }
    });
    s.on('close', () => resolve(got === '' ? undefined : got.trim()));
    s.on('error', () => resolve(undefined));
    s.write(`${JSON.stringify({ t: 'hello', token })}\n`);
  });
}

describe('the persistent-connection daemon', () => {
  it('listens in a 0700 folder with a 0600 token, answers only the right token, and exits after the idle time', async () => {
    const dir = path.join(root, 'ok');
    const daemon = startDaemon(dir, 1500);
    // A second one started at the same moment finds the first (start lock or live socket) and leaves.
    const rival = startDaemon(dir, 1500);
    const socket = await waitForFile(dir, '.sock');
    const token = await waitForFile(dir, '.token');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(token).mode & 0o777).toBe(0o600);
    expect(statSync(socket).isSocket()).toBe(true);

    expect(await hello(socket, 'f'.repeat(64))).toBeUndefined();
    expect(await hello(socket, 'not even the right length')).toBeUndefined();
    const welcome = JSON.parse((await hello(socket, readFileSync(token, 'utf8'))) ?? 'null') as { t: string; pid: number };
    expect(welcome.t).toBe('welcome');
    expect([daemon.pid, rival.pid]).toContain(welcome.pid);
    const loser = welcome.pid === daemon.pid ? rival : daemon;
    const winner = loser === daemon ? rival : daemon;
    expect(await exited(loser)).toBe(0);

    // No client attached: the daemon exits after its idle time and takes its files with it.
    const t0 = Date.now();
    expect(await exited(winner)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readdirSync(dir).filter((n) => n.startsWith('daemon-'))).toEqual([]);
  }, 30_000);

  it('refuses a socket folder that group or others can reach, or that is a link', async () => {
    const open = path.join(root, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    const d1 = startDaemon(open, 1000);
    let err = '';
    d1.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    expect(await exited(d1)).not.toBe(0);
    expect(err).toMatch(/has mode 755; it must be 700/);
    expect(readdirSync(open)).toEqual([]);

    const real = path.join(root, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = path.join(root, 'link');
    symlinkSync(real, link);
    const d2 = startDaemon(link, 1000);
    err = '';
    d2.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    expect(await exited(d2)).not.toBe(0);
    expect(err).toMatch(/is not a folder/);
    expect(readdirSync(real)).toEqual([]);
  }, 30_000);
});

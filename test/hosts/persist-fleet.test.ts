// Persistent connections on the fleet (connection/persist-*.ts): a second run reuses the first run's SSH
// connections and line sessions (the same session shell, by its pid), --no-persist connects afresh,
// a known_hosts that no longer matches a kept connection's host key is never served by it, and a daemon killed
// mid-run costs the running command only. The daemon alone (modes, token, idle exit): persist-local.test.ts.
// Every other test runs with VNCPLAY_PERSIST=off (vitest.config.ts): this file turns it on for its own runs.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.js';
import { fleetAddress, fleetAvailable, fleetKnownHosts } from '../fleet/fleet.js';
import { vncplay } from '../support/cli-helpers.js';
import { sleep, taskStart, vncplayLive, writeInventory, type LiveRun } from '../support/fault-helpers.js';

const run = fleetAvailable() ? describe : describe.skip;
const HOSTS = ['h1', 'h2', 'h3'];

run('persistent connections on the fleet', () => {
  let dir: string;
  let inventory: string;
  let playbook: string;
  const persistDir = (): string => path.join(dir, 'persist');
  const env = (): NodeJS.ProcessEnv => ({ VNCPLAY_PERSIST: 'on', VNCPLAY_PERSIST_DIR: persistDir(), VNCPLAY_PERSIST_IDLE_MS: '30000' });
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-persist-'));
    inventory = await writeInventory(dir);
    playbook = path.join(dir, 'where.yml');
    // The parent of a command is the line session's shell (one per connection and user): the same pid in two runs
    // means the same session on the same SSH connection.
    await writeFile(
      playbook,
      `- hosts: fleet
  gather_facts: false
  tasks:
    - name: nap
      command: sleep {{ nap | default(0) }}
      ignore_errors: true
      changed_when: false
    - name: where
      command: sh -c 'echo "$PPID"'
      changed_when: false
`,
    );
  });

  afterAll(async () => {
    await stopDaemon();
    console.log('[persist] measured:', JSON.stringify(measured));
  });

  async function daemonPid(): Promise<number | undefined> {
    const pidFile = (await readdir(persistDir()).catch(() => [])).find((n) => n.endsWith('.pid'));
    return pidFile ? Number(await readFile(path.join(persistDir(), pidFile), 'utf8')) : undefined;
  }

  async function stopDaemon(): Promise<void> {
    const pid = await daemonPid();
    if (pid) process.kill(pid, 'SIGTERM');
  }

  const sessions = (events: RunEvent[]): Record<string, string> =>
    Object.fromEntries(
      events.flatMap((e) =>
        e.type === 'task_result' && e.task.name === 'where' && e.status === 'ok' ? [[e.host, String(e.result?.['stdout']).trim()]] : [],
      ),
    );

  async function timedRun(extra: string[] = [], knownHosts = fleetKnownHosts()): Promise<{ ports: Record<string, string>; ms: number; events: RunEvent[]; stdout: string }> {
    const t0 = Date.now();
    const r = await vncplay([playbook, '-i', inventory, '-e', `vncplay_known_hosts_file=${knownHosts}`, '--json', ...extra], { env: env() });
    return { ports: sessions(r.events), ms: Date.now() - t0, events: r.events, stdout: r.stdout + r.stderr };
  }

  it('the second run reuses the kept connections; --no-persist connects afresh', async () => {
    const first = await timedRun();
    expect(Object.keys(first.ports).sort(), first.stdout).toEqual(HOSTS);
    expect(await daemonPid()).toBeGreaterThan(0);
    const second = await timedRun();
    expect(second.ports).toEqual(first.ports);
    const fresh = await timedRun(['--no-persist']);
    for (const h of HOSTS) expect(fresh.ports[h], h).not.toBe(first.ports[h]);
    // Still kept after a --no-persist run, which never asked the daemon.
    expect((await timedRun()).ports).toEqual(first.ports);
    Object.assign(measured, { 'first run ms': first.ms, 'reused run ms': second.ms, '--no-persist run ms': fresh.ms });
  }, 120_000);

  it('a known_hosts whose key for the host no longer matches: the kept connection is not used, the host key is refused', async () => {
    const before = (await timedRun()).ports;
    // h1's address now carries h2's keys: what a re-keyed (or impostor) h1 would look like to a fresh connection.
    const lines = (await readFile(fleetKnownHosts(), 'utf8')).split('\n');
    const [h1, h2] = [fleetAddress(11), fleetAddress(12)];
    const h2Keys = lines.filter((l) => l.startsWith(`${h2} `)).map((l) => l.replace(`${h2} `, `${h1} `));
    const changed = path.join(dir, 'known_hosts_changed');
    await writeFile(changed, [...lines.filter((l) => l.trim() !== '' && !l.startsWith(`${h1} `)), ...h2Keys, ''].join('\n'));
    const r = await timedRun([], changed);
    expect(r.ports['h1']).toBeUndefined();
    expect(r.stdout).toMatch(/E_HOSTKEY_CHANGED/);
    // The other hosts' known_hosts entries did not change, but the file did: they connect afresh too (never reuse
    // a connection checked against other known_hosts content).
    for (const h of ['h2', 'h3']) expect(r.ports[h], h).not.toBe(before[h]);
    // With the right file again, the first connections are still there.
    expect((await timedRun()).ports).toEqual(before);
  }, 120_000);

  it('the daemon killed mid-run: the running command fails, the next ones connect directly, the run goes on', async () => {
    await timedRun(); // the daemon runs and holds the connections
    const pid = await daemonPid();
    expect(pid).toBeGreaterThan(0);
    const prior = { ...process.env };
    Object.assign(process.env, env());
    let live: LiveRun;
    try {
      live = vncplayLive([playbook, '-i', inventory, '-e', `vncplay_known_hosts_file=${fleetKnownHosts()}`, '-e', 'nap=3']);
    } finally {
      process.env = prior;
    }
    await live.waitFor(taskStart('h3', 'nap'));
    await sleep(500);
    process.kill(pid!, 'SIGKILL');
    const r = await live.done;
    expect(r.code, r.stderr).toBe(0);
    for (const h of HOSTS) {
      const nap = r.events.find((e) => e.type === 'task_result' && e.host === h && e.task.name === 'nap');
      expect(nap?.type === 'task_result' && nap.status, `${h}: ${JSON.stringify(nap)}`).toBe('ignored');
      expect(JSON.stringify(nap)).toMatch(/daemon went away/);
    }
    expect(Object.keys(sessions(r.events)).sort()).toEqual(HOSTS);
  }, 120_000);
});

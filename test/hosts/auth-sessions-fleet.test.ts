// Faults a real sshd causes on purpose (issue 7): a wrong user, a wrong key and an encrypted key give a clear E_AUTH
// per host at once (never the 60 s budget for dropped handshakes), counted unreachable as ansible-playbook counts
// them; and sshd's MaxSessions 1, where the line session (one kept-open channel for plain commands) would otherwise
// hold the only channel that become commands, large writes and timed probes need.
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SshConnection } from '../../src/connection/ssh.js';
import type { ConnectionSpec } from '../../src/connection/types.js';
import { writeFileAtomic } from '../../src/connection/write-file.js';
import { ConnectionError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { runPlaybook } from '../../src/runner/run.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk, type FleetHost } from '../fleet/fleet.js';
import { ansiblePlaybook, parseRecap, repoRoot, vncplay, writeVncInventory, type CliRun } from '../support/cli-helpers.js';

const execFileAsync = promisify(execFile);
const NO_SUCH_USER = 'vp-nosuchuser';
/** Generous: a refused login is answered in well under a second; the dropped-handshake budget is 60 s. */
const AUTH_BOUND_MS = 15_000;

/** A fresh ed25519 key pair made by ssh-keygen (as an operator would); returns the private key's path. */
async function newKey(dir: string, name: string, passphrase = ''): Promise<string> {
  const file = path.join(dir, name);
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
  return file;
}

/** `ED25519 SHA256:…` as ssh-keygen prints it: what the error must name so the key can be found. */
async function fingerprint(keyFile: string): Promise<string> {
  const { stdout } = await execFileAsync('ssh-keygen', ['-l', '-f', `${keyFile}.pub`]);
  const m = /^\d+ (SHA256:\S+) .* \((\w+)\)$/.exec(stdout.trim());
  if (!m) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`);
  return `${m[2]} ${m[1]}`;
}

/** The `fatal: [host]: UNREACHABLE! => {...}` line of a host in plain output, as its message. */
function fatalMessage(stdout: string, host: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`fatal: [${host}]: UNREACHABLE!`));
  if (!line) return '';
  return (JSON.parse(line.slice(line.indexOf('=>') + 2)) as { msg: string }).msg;
}

/** The CLI with a stdin that stays open and never sends a line (a cron job, a CI step holding a pipe). */
function vncplayOpenStdin(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('node', [path.join(repoRoot, 'bin/vncplay.js'), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ code: code ?? -1, stdout, stderr, events: [], recap: parseRecap(stdout, []), ms: Date.now() - started });
    });
  });
}

const yamlString = (v: string): string => JSON.stringify(v);

/** A private ssh-agent for the test (never the user's): its socket and pid. */
async function startAgent(dir: string): Promise<{ sock: string; pid: number }> {
  const sock = path.join(dir, 'agent.sock');
  const { stdout } = await execFileAsync('ssh-agent', ['-s', '-a', sock]);
  const pid = /SSH_AGENT_PID=(\d+)/.exec(stdout)?.[1];
  if (!pid) throw new Error(`ssh-agent said: ${stdout}`);
  return { sock, pid: Number(pid) };
}

/** ssh-add an encrypted key, its passphrase given through SSH_ASKPASS (no terminal here). */
async function agentAdd(dir: string, sock: string, keyFile: string, passphrase: string): Promise<void> {
  const askpass = path.join(dir, 'askpass.sh');
  await writeFile(askpass, '#!/bin/sh\nprintf "%s\\n" "$VP_TEST_PASSPHRASE"\n', { mode: 0o700 });
  await execFileAsync('ssh-add', [keyFile], {
    env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', VP_TEST_PASSPHRASE: passphrase },
  });
}

describe.skipIf(!fleetAvailable())('authentication failures on the fleet: wrong user, wrong key, encrypted key', () => {
  let dir: string;
  let hosts: FleetHost[];
  let wrongKey: string;
  let lockedKey: string;
  let playbook: string;

  /** h1 logs in as a user that does not exist, h2 offers a key sshd does not know, h3 is right. */
  async function inventoryWith(h2Key: string, name: string): Promise<string> {
    const file = path.join(dir, name);
    const [h1, h2, h3] = hosts;
    await writeFile(
      file,
      `all:
  vars:
    ansible_user: vncplay
    ansible_ssh_private_key_file: ${yamlString(fleetKey())}
    vncplay_known_hosts_file: ${yamlString(fleetKnownHosts())}
    ansible_ssh_common_args: ${yamlString(`-o UserKnownHostsFile=${fleetKnownHosts()} -o StrictHostKeyChecking=yes`)}
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    h1:
      ansible_host: ${h1!.address}
      ansible_user: ${NO_SUCH_USER}
    h2:
      ansible_host: ${h2!.address}
      ansible_ssh_private_key_file: ${yamlString(h2Key)}
    h3:
      ansible_host: ${h3!.address}
`,
    );
    return file;
  }

  const marker = (h: string): string => `/tmp/vp-auth-test-${h}`;
  const removeMarkers = async (): Promise<void> => {
    for (const h of ['h1', 'h2', 'h3']) await hostExec(h, ['rm', '-f', marker(h)]);
  };

  beforeAll(async () => {
    hosts = fleetHosts().slice(0, 3);
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-auth-'));
    wrongKey = await newKey(dir, 'wrong_ed25519');
    lockedKey = await newKey(dir, 'locked_ed25519', 'a passphrase nobody types');
    playbook = path.join(dir, 'auth.yml');
    await writeFile(
      playbook,
      `- hosts: all
  gather_facts: false
  tasks:
    - name: who
      command: id -un
      changed_when: false
    - name: marker
      copy:
        dest: /tmp/vp-auth-test-{{ inventory_hostname }}
        content: "logged in\\n"
`,
    );
  });

  afterAll(removeMarkers);

  it('wrong user and wrong key: E_AUTH per host naming user and key, recap as ansible-playbook, good host finishes, exit 3', async () => {
    const inventory = await inventoryWith(wrongKey, 'inventory.yml');
    await removeMarkers();
    const started = Date.now();
    const ours = await vncplay([playbook, '-i', inventory]);
    const ms = Date.now() - started;
    console.log(`[auth] wrong user + wrong key, whole run: ${ms} ms`);
    expect(ours.code, ours.stdout + ours.stderr).toBe(3);
    expect(ms).toBeLessThan(AUTH_BOUND_MS);

    const userMsg = fatalMessage(ours.stdout, 'h1');
    expect(userMsg).toContain('error[E_AUTH]');
    expect(userMsg).toContain(`'${NO_SUCH_USER}'`);
    expect(userMsg).toContain(`${NO_SUCH_USER}@${hosts[0]!.address}:22`);
    expect(userMsg).toContain(`publickey ${fleetKey()} (${await fingerprint(fleetKey())})`);
    expect(userMsg).toContain(`~${NO_SUCH_USER}/.ssh/authorized_keys`);
    expect(userMsg).toMatch(/hint: check ansible_user/);

    const keyMsg = fatalMessage(ours.stdout, 'h2');
    expect(keyMsg).toContain('error[E_AUTH]');
    expect(keyMsg).toContain(`vncplay@${hosts[1]!.address}:22`);
    expect(keyMsg).toContain(`publickey ${wrongKey} (${await fingerprint(wrongKey)})`);
    expect(keyMsg).toContain('ansible_ssh_private_key_file');
    expect(keyMsg).toContain('~vncplay/.ssh/authorized_keys');

    expect(ours.recap['h1']).toMatchObject({ ok: 0, changed: 0, unreachable: 1, failed: 0 });
    expect(ours.recap['h2']).toMatchObject({ ok: 0, changed: 0, unreachable: 1, failed: 0 });
    expect(ours.recap['h3']).toMatchObject({ ok: 2, changed: 1, unreachable: 0, failed: 0 });
    expect(await hostExecOk('h3', ['cat', marker('h3')])).toBe('logged in\n');
    expect((await hostExec('h2', ['test', '-e', marker('h2')])).code).not.toBe(0);

    // The same inventory and playbook through ansible-playbook: the same counters on every host.
    await removeMarkers();
    // Without ControlPersist: a master connection to h2 that an earlier ansible-playbook left (60 s by default)
    // would log in for it whatever the key says.
    const theirs = await ansiblePlaybook([playbook, '-i', inventory], { env: { ANSIBLE_SSH_ARGS: '-o ControlMaster=no -o ControlPath=none' } });
    expect(Object.keys(theirs.recap).sort(), theirs.stdout + theirs.stderr).toEqual(['h1', 'h2', 'h3']);
    expect(ours.recap).toEqual(theirs.recap);
    expect(theirs.stdout).toMatch(/fatal: \[h1\]: UNREACHABLE!.*Permission denied/);
    // ansible-playbook exits 4 for unreachable hosts; vncplay's documented code for them is 3.
    expect(theirs.code).toBe(4);
  }, 120_000);

  it('an auth failure is not retried like a dropped handshake: each fails in well under the bound', async () => {
    const cases: [string, Partial<ConnectionSpec>][] = [
      ['wrong key', { privateKeyFile: wrongKey }],
      ['wrong user', { user: NO_SUCH_USER }],
    ];
    for (const [what, over] of cases) {
      const log: string[] = [];
      const started = Date.now();
      const err = await connect(fleetConnectionSpec(hosts[1]!, over), { log: (l) => log.push(l) }).then(
        async (c) => {
          await c.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      const ms = Date.now() - started;
      console.log(`[auth] ${what}: E_AUTH after ${ms} ms`);
      expect(err, what).toBeInstanceOf(ConnectionError);
      expect(err).toMatchObject({ code: 'E_AUTH' });
      expect(ms, what).toBeLessThan(AUTH_BOUND_MS);
      expect(log.filter((l) => l.includes('dropped before the SSH handshake'))).toEqual([]);
    }
  }, 60_000);

  it('a passphrase-protected key and no terminal: clear E_AUTH for that host at once, stdin closed or held open', async () => {
    const inventory = await inventoryWith(lockedKey, 'inventory-locked.yml');
    const noAgent = { SSH_AUTH_SOCK: '' };
    const closed = await vncplay([playbook, '-i', inventory, '--limit', 'h2,h3'], { env: noAgent });
    const open = await vncplayOpenStdin([playbook, '-i', inventory, '--limit', 'h2,h3'], noAgent);
    console.log(`[auth] encrypted key, stdin held open: ${open.ms} ms`);
    expect(open.ms).toBeLessThan(AUTH_BOUND_MS);
    for (const [how, r] of [['stdin closed', closed], ['stdin held open', open]] as const) {
      expect(r.code, `${how}: ${r.stdout}${r.stderr}`).toBe(3);
      const msg = fatalMessage(r.stdout, 'h2');
      expect(msg, how).toContain('error[E_AUTH]');
      expect(msg, how).toContain(`private key ${lockedKey} is encrypted and no passphrase was given`);
      expect(msg, how).toContain('ssh-agent');
      expect(r.recap['h2'], how).toMatchObject({ ok: 0, unreachable: 1 });
      expect(r.recap['h3'], how).toMatchObject({ ok: 2, unreachable: 0, failed: 0 });
    }
  }, 120_000);

  it('an encrypted key file with ssh-agent: the agent logs in as ssh would; if it cannot, E_AUTH names the skipped file', async () => {
    // The fleet's own key, passphrase-protected: the file alone cannot be opened here, the agent has it unlocked.
    const lockedFleetKey = path.join(dir, 'fleet_locked');
    await copyFile(fleetKey(), lockedFleetKey);
    await chmod(lockedFleetKey, 0o600);
    await execFileAsync('ssh-keygen', ['-q', '-p', '-f', lockedFleetKey, '-P', '', '-N', 'agent only']);
    const agent = await startAgent(dir);
    try {
      await agentAdd(dir, agent.sock, lockedFleetKey, 'agent only');
      const withAgent = { SSH_AUTH_SOCK: agent.sock };
      const good = await vncplayOpenStdin([playbook, '-i', await inventoryWith(lockedFleetKey, 'inventory-agent.yml'), '--limit', 'h2'], withAgent);
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(good.recap['h2']).toMatchObject({ ok: 2, unreachable: 0, failed: 0 });

      // The unauthorized encrypted key and an empty agent: the file skipped, the agent refused, both named.
      await execFileAsync('ssh-add', ['-D'], { env: { ...process.env, ...withAgent } });
      const bad = await vncplayOpenStdin([playbook, '-i', await inventoryWith(lockedKey, 'inventory-agent-bad.yml'), '--limit', 'h2'], withAgent);
      console.log(`[auth] encrypted key + agent that cannot log in: ${bad.ms} ms`);
      expect(bad.code, bad.stdout + bad.stderr).toBe(3);
      expect(bad.ms).toBeLessThan(AUTH_BOUND_MS);
      const msg = fatalMessage(bad.stdout, 'h2');
      expect(msg).toContain('error[E_AUTH]');
      expect(msg).toContain(`publickey ${lockedKey} (skipped: encrypted, no passphrase given), ssh-agent`);
    } finally {
      process.kill(agent.pid);
    }
  }, 120_000);
});

/** Drop-ins are read in order and sshd keeps the first value: 00- wins over the fleet's own vncplay-fleet.conf. */
const MAX_SESSIONS_DROPIN = '/etc/ssh/sshd_config.d/00-vp-maxsessions.conf';

/** How many times sshd has (re)started listening: a reload re-execs it, and connects are refused meanwhile. */
async function sshdListens(host: string): Promise<number> {
  const log = await hostExecOk(host, ['journalctl', '-u', 'ssh', '-o', 'cat', '--no-pager']);
  return log.split('\n').filter((l) => l === 'Server listening on 0.0.0.0 port 22.').length;
}

async function setMaxSessions(host: string, n: number | undefined): Promise<void> {
  if (n === undefined) await hostExecOk(host, ['rm', '-f', MAX_SESSIONS_DROPIN]);
  else await hostExecOk(host, ['sh', '-c', `printf 'MaxSessions %d\\n' "$1" > ${MAX_SESSIONS_DROPIN}`, 'sh', String(n)]);
  const listens = await sshdListens(host);
  await hostExecOk(host, ['systemctl', 'reload', 'ssh']);
  expect(await until(async () => (await sshdListens(host)) > listens, 10_000), 'sshd listens again after the reload').toBe(true);
  const effective = await hostExecOk(host, ['sshd', '-T']);
  expect(effective).toMatch(new RegExp(`^maxsessions ${n ?? 100}$`, 'm'));
}

/** TCP connections from this test process to the host's sshd (others may share the fleet: only ours count). */
async function ourSshConnections(address: string): Promise<number> {
  const { stdout } = await execFileAsync('ss', ['-Htnp', 'dst', `${address}:22`]);
  return stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).length;
}

async function until(what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await what()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!fleetAvailable())('sshd MaxSessions 1 with the line session', () => {
  const HOST = 'h1';
  let h: FleetHost;
  let dir: string;
  const root = `/tmp/vp-maxsessions-${process.pid}`;

  beforeAll(async () => {
    h = fleetHosts()[0]!;
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-maxsessions-'));
  });
  afterEach(async () => {
    await setMaxSessions(HOST, undefined);
    await hostExec(HOST, ['rm', '-rf', root, '/etc/vp-maxsessions-root.conf']);
  });

  // MaxSessions 2 with both kept-open sessions (line + become shell) is the same trap one channel up.
  const cases: [number, boolean][] = [
    [1, false],
    [1, true],
    [2, false],
    [2, true],
  ];
  it.each(cases)('connection, MaxSessions %i, become shell session %s: plain, become, large-stdin and timed execs, in turn and at once; no channel left', async (maxSessions, shellSession) => {
    await setMaxSessions(HOST, maxSessions);
    const log: string[] = [];
    const conn: SshConnection = await connect(fleetConnectionSpec(h), { lineSession: true, shellSession, log: (l) => log.push(l) });
    try {
      expect(await ourSshConnections(h.address)).toBe(1); // the check below can see a connection
      const started = Date.now();
      expect(await conn.exec(['echo', 'plain'])).toMatchObject({ rc: 0, stdout: 'plain\n' });
      expect(conn.stats.lineExecs).toBe(1); // the line session holds the host's only channel now
      expect(await conn.exec(['id', '-u'], { become: true })).toMatchObject({ rc: 0, stdout: '0\n' });
      const afterBecome = Date.now() - started;
      expect(await conn.exec(['hostname'])).toMatchObject({ rc: 0, stdout: `${HOST}\n` });
      if (maxSessions === 1) {
        expect(log.some((l) => l.includes('closed an idle kept-open session'))).toBe(true);
        expect(conn.stats.lineExecs).toBe(1); // from now on a channel per command
      }
      const big = 'x'.repeat(100 * 1024) + '\n'; // over the line session's stdin limit: its own channel anyway
      await conn.exec(['mkdir', '-p', root]);
      await writeFileAtomic(conn, `${root}/big`, big);
      expect(await conn.exec(['sleep', '0.2'], { timeoutMs: 5000 })).toMatchObject({ rc: 0 });

      const burst = Date.now();
      const kinds = [{ become: true }, { timeoutMs: 5000 }, {}];
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) => conn.exec(['sh', '-c', `echo ${i}; id -u`], kinds[i % 3])));
      const burstMs = Date.now() - burst;
      results.forEach((r, i) => expect(r, String(i)).toMatchObject({ rc: 0, stdout: `${i}\n${i % 3 === 0 ? 0 : 1000}\n` }));
      const total = Date.now() - started;
      console.log(
        `[maxsessions] connection, MaxSessions ${maxSessions}, shell session ${shellSession}: first become exec ${afterBecome} ms, ` +
          `burst of 9 ${burstMs} ms, all ${total} ms; stats ${JSON.stringify(conn.stats)}`,
      );
      expect(total).toBeLessThan(15_000);
      expect(conn.stats.sessionsRetired).toBeGreaterThan(0);
      expect(await hostExecOk(HOST, ['wc', '-c', `${root}/big`])).toBe(`${big.length} ${root}/big\n`);
      // Idle again: only a kept-open session may still hold a channel, never an exec's.
      const kept = (): number => conn.openChannels;
      expect(await until(() => kept() <= (maxSessions === 1 ? 0 : 2), 2000), `open channels: ${kept()}`).toBe(true);
    } finally {
      await conn.close();
    }
    expect(await until(async () => (await ourSshConnections(h.address)) === 0, 5000)).toBe(true);
  }, 60_000);

  it('runner: a playbook mixing plain commands with become, copy, template and wait_for runs through, fds back to baseline', async () => {
    const inventory = await writeVncInventory(dir, [{ name: HOST, address: h.address }], { ansible_become: false }, { key: fleetKey(), knownHosts: fleetKnownHosts() });
    const template = path.join(dir, 'app.conf.j2');
    await writeFile(template, 'host={{ inventory_hostname }}\n');
    // Over the line session's 32 KiB stdin limit: this write needs a channel of its own.
    const large = path.join(dir, 'large.bin');
    await writeFile(large, 'y'.repeat(65536) + '\n');
    const pb = path.join(dir, 'mixed.yml');
    await writeFile(
      pb,
      `- hosts: vnc
  gather_facts: false
  vars:
    root: ${root}
  tasks:
    - name: plain
      command: echo plain
      changed_when: false
    - name: become command
      command: id -u
      become: true
      changed_when: false
    - name: folder
      file:
        path: "{{ root }}"
        state: directory
    - name: small copy
      copy:
        dest: "{{ root }}/small"
        content: "small\\n"
    - name: large copy
      copy:
        src: ${large}
        dest: "{{ root }}/large"
    - name: become copy
      copy:
        dest: /etc/vp-maxsessions-root.conf
        content: "root\\n"
      become: true
    - name: template
      template:
        src: ${template}
        dest: "{{ root }}/app.conf"
    - name: wait for sshd
      wait_for:
        port: 22
        host: 127.0.0.1
        timeout: 10
    - name: loop of commands
      command: echo {{ item }}
      loop: [1, 2, 3]
      changed_when: false
    - name: plain last
      command: cat {{ root }}/app.conf
      changed_when: false
`,
    );
    const playbook = await loadPlaybook(pb);
    const run = async (): Promise<{ ms: number; notes: string[]; result: Awaited<ReturnType<typeof runPlaybook>> }> => {
      await hostExec(HOST, ['rm', '-rf', root, '/etc/vp-maxsessions-root.conf']);
      const notes: string[] = [];
      const started = Date.now();
      const result = await runPlaybook({
        playbook,
        inventory: await loadInventory(inventory, dir),
        onEvent: (e) => {
          if (e.type === 'verbose') notes.push(e.message);
        },
      });
      return { ms: Date.now() - started, notes, result };
    };

    const fds = (): number => readdirSync('/proc/self/fd').length;
    const baseline = await run(); // sshd's default limits on the fleet: what the throttled run is compared with
    await setMaxSessions(HOST, 1);
    const before = fds();
    const limited = await run();
    const refused = limited.notes.filter((n) => n.includes('server refused a channel')).length;
    console.log(`[maxsessions] runner: ${baseline.ms} ms unthrottled, ${limited.ms} ms with MaxSessions 1 (${refused} refusals retried)`);

    expect(limited.result.exitCode, JSON.stringify(limited.result.stats) + limited.notes.join('\n')).toBe(0);
    expect(limited.result.stats[HOST]).toEqual(baseline.result.stats[HOST]);
    expect(limited.result.stats[HOST]).toMatchObject({ ok: 10, changed: 5, failed: 0, unreachable: 0 });
    expect(limited.notes.some((n) => n.includes('closed an idle kept-open session'))).toBe(true);
    // Far from the 60 s channel retry budget it used to wait out (then E_CHANNEL, host unreachable).
    expect(limited.ms).toBeLessThan(15_000);
    expect(await hostExecOk(HOST, ['cat', `${root}/app.conf`, `${root}/small`, '/etc/vp-maxsessions-root.conf'])).toBe(`host=${HOST}\nsmall\nroot\n`);
    expect(await hostExecOk(HOST, ['wc', '-c', `${root}/large`])).toBe(`65537 ${root}/large\n`);

    // Every connection and channel closed: no TCP connection to the host left, no fd left.
    expect(await until(async () => (await ourSshConnections(h.address)) === 0, 5000)).toBe(true);
    expect(await until(() => fds() <= before + 2, 2000), `fds ${before} → ${fds()}`).toBe(true);
  }, 120_000);
});

// wait_for without python on a real fleet host (h3), through the host's line session as the runner uses it:
// ports (open, refused, filtered, IPv6), sshd's banner, paths, drained, timeouts, msg, delay and sleep; and what a
// wait costs the host against the python3 probe it replaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionScript } from '../../src/connection/line-session.js';
import { connect, type SshConnection } from '../../src/connection/ssh.js';
import { remoteProbeArgv, waitFor, waitSpec } from '../../src/modules/wait-for.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetBridgeAddress, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { parsedArgs } from '../support/module-args.js';

const HOST = 3;
const FILE = '/tmp/vncplay-wait-host-ready';
/** A port the host's firewall drops (the test's own nft table): a connect there neither succeeds nor is refused. */
const FILTERED_PORT = 7;
const NFT_TABLE = 'vncplay_wait_for_test';
// Registered before the connection starts, so its line session defines it: `times` in the session's own shell
// reports the CPU of that shell and of every process it started and reaped.
const TIMES_SCRIPT = sessionScript('test_times', 'times', { inShell: () => true });

describe.skipIf(!fleetAvailable())('wait_for on h3 without python (line session)', () => {
  let conn: SshConnection;
  const host = fleetAvailable() ? fleetHosts()[HOST - 1]! : { address: '', name: 'h3' };
  const run = (args: Record<string, unknown>, on: SshConnection = conn): Promise<InvokeResult> =>
    invokeModule(waitFor, args, {
      hostName: host.name, conn: on, check: false, diff: false, become: false, signal: new AbortController().signal,
      vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
    });

  beforeAll(async () => {
    await hostExec(HOST, ['rm', '-f', FILE]);
    await hostExecOk(HOST, ['nft', `add table inet ${NFT_TABLE}; add chain inet ${NFT_TABLE} input { type filter hook input priority 0; }; add rule inet ${NFT_TABLE} input tcp dport ${FILTERED_PORT} drop`]);
    conn = await connect(fleetConnectionSpec(host), { lineSession: true });
  });
  afterAll(async () => {
    await hostExec(HOST, ['nft', 'delete', 'table', 'inet', NFT_TABLE]);
    await hostExec(HOST, ['rm', '-f', FILE]);
    await conn?.close();
  });

  it("port open: sshd's port answers at once, on 127.0.0.1 and on ::1", async () => {
    for (const h of ['127.0.0.1', '::1', 'localhost']) {
      const r = await run({ host: h, port: 22, timeout: 5 });
      expect([h, r.failed, r.changed, r.data['last_seen']]).toEqual([h, false, false, 'port open']);
    }
  });

  it("banner: sshd's greeting matches search_regex, with its groups (IPv4 and IPv6)", async () => {
    for (const h of ['127.0.0.1', '::1']) {
      const r = await run({ host: h, port: 22, search_regex: '^SSH-(?P<proto>2\\.0)-(\\S+)', timeout: 5 });
      expect(r.failed).toBe(false);
      expect(r.data['match_groupdict']).toEqual({ proto: '2.0' });
      expect(r.data['match_groups']).toEqual(['2.0', expect.stringMatching(/^OpenSSH_/)]);
    }
  });

  it('banner that never matches: times out with what the server sent, and the connection is closed', async () => {
    const r = await run({ port: 22, search_regex: '^RFB 003', timeout: 2, connect_timeout: 1, sleep: 0.5 });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^Timeout when waiting for search string \^RFB 003 in 127\.0\.0\.1:22 \(last seen: banner did not match: "SSH-2\.0-OpenSSH/);
    // The host's bash holds no connection or child afterwards: nothing of ours is still connected to sshd.
    const children = await conn.exec(['sh', '-c', 'ps -o pid= --ppid "$PPID" | wc -l']);
    expect(Number(children.stdout.trim())).toBeLessThanOrEqual(1);
  });

  it('refused and filtered ports say which, each within its timeout', async () => {
    const refused = await run({ port: 1, timeout: 1, sleep: 0.3 });
    expect([refused.failed, refused.msg]).toEqual([true, 'Timeout when waiting for 127.0.0.1:1 (last seen: connection refused)']);
    const started = Date.now();
    const filtered = await run({ port: FILTERED_PORT, timeout: 2, connect_timeout: 0.5, sleep: 0.2 });
    expect([filtered.failed, filtered.data['last_seen']]).toEqual([true, 'connect timed out']);
    expect(Date.now() - started).toBeLessThan(4000);
    // Filtered counts as stopped, as in Ansible (any failure to connect is "closed").
    expect((await run({ port: FILTERED_PORT, state: 'stopped', timeout: 3, connect_timeout: 0.5 })).failed).toBe(false);
  });

  it('stopped: a closed port at once; an open one times out with msg instead of the timeout message', async () => {
    expect((await run({ port: 1, state: 'stopped', timeout: 2 })).failed).toBe(false);
    const r = await run({ port: 22, state: 'stopped', timeout: 1, sleep: 0.3, msg: 'sshd is still up' });
    expect([r.failed, r.msg, r.data['last_seen']]).toEqual([true, 'sshd is still up', 'port still open']);
  });

  it('sleep sets how often the port is tried', async () => {
    const tries = async (sleep: number): Promise<number> => {
      const before = conn.stats.lineExecs;
      await run({ port: 1, timeout: 2, sleep });
      return conn.stats.lineExecs - before;
    };
    const everyHalfSecond = await tries(0.5);
    const everySecond = await tries(1);
    expect(everyHalfSecond).toBeGreaterThanOrEqual(4);
    expect(everyHalfSecond).toBeLessThanOrEqual(6);
    expect(everySecond).toBeGreaterThanOrEqual(2);
    expect(everySecond).toBeLessThanOrEqual(3);
  });

  it('delay is waited before the first check and counted in elapsed', async () => {
    const r = await run({ port: 22, delay: 1.5, timeout: 10 });
    expect([r.failed, r.data['last_seen']]).toEqual([false, 'port open']);
    expect(r.data['elapsed_seconds']).toBeGreaterThanOrEqual(1.5);
  });

  it('path: waits for a file to appear with matching content, then for it to go', async () => {
    setTimeout(() => void hostExecOk(HOST, ['sh', '-c', `printf 'booting\\nready display=:1 port=5901\\n' > ${FILE}`]), 1200);
    const r = await run({ path: FILE, search_regex: 'ready display=(?P<display>:\\d+) port=(\\d+)$', timeout: 10, sleep: 0.3 });
    expect([r.failed, r.data['match_groups'], r.data['match_groupdict']]).toEqual([false, [':1', '5901'], { display: ':1' }]);
    expect(r.data['elapsed']).toBeGreaterThanOrEqual(1);
    expect((await run({ path: FILE, timeout: 2 })).data['last_seen']).toBe('file exists');
    const stuck = await run({ path: FILE, state: 'absent', timeout: 1, sleep: 0.3 });
    expect([stuck.failed, stuck.msg]).toEqual([true, `Timeout when waiting for ${FILE} to be absent. (last seen: file still exists)`]);
    setTimeout(() => void hostExecOk(HOST, ['rm', '-f', FILE]), 800);
    expect((await run({ path: FILE, state: 'absent', timeout: 5, sleep: 0.2 })).failed).toBe(false);
    const never = await run({ path: FILE, timeout: 1, sleep: 0.3 });
    expect(never.msg).toBe(`Timeout when waiting for ${FILE} (last seen: file does not exist)`);
  });

  it('a file the user cannot read never matches', async () => {
    const r = await run({ path: '/etc/shadow', search_regex: 'root', timeout: 1, sleep: 0.3 });
    expect([r.failed, r.data['last_seen']]).toEqual([true, 'cannot read file']);
  });

  it('drained: our own SSH connection keeps port 22 busy unless the controller is excluded (by address or name)', async () => {
    const busy = await run({ port: 22, state: 'drained', timeout: 1, sleep: 0.3 });
    expect(busy.msg).toMatch(/^Timeout when waiting for 127\.0\.0\.1:22 to drain \(last seen: [1-9]\d* active connection\(s\) on port 22\)$/);
    expect((await run({ port: 22, state: 'drained', exclude_hosts: [fleetBridgeAddress()], timeout: 5 })).failed).toBe(false);
    await hostExecOk(HOST, ['sh', '-c', `grep -q vp-controller /etc/hosts || echo "${fleetBridgeAddress()} vp-controller" >> /etc/hosts`]);
    try {
      expect((await run({ port: 22, state: 'drained', exclude_hosts: ['vp-controller'], timeout: 5 })).failed).toBe(false);
    } finally {
      await hostExecOk(HOST, ['sed', '-i', '/vp-controller/d', '/etc/hosts']);
    }
  });

  it('a banner sent a byte at a time, 5 ms apart, is read whole: every wait matches at its first connection', async () => {
    // A read that timed out between two bytes used to drop the byte it was reading ("SS" + "-2.0-…"), so the
    // regex never matched and the wait took connect_timeout + sleep more: 6 s of a 0.2 s wait in the benchmark.
    const unit = 'vncplay-test-slow-banner';
    const server = String.raw`import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 2299)); s.listen(16)
while True:
    c, _ = s.accept()
    try:
        for b in b"SSH-2.0-slow\r\n":
            c.send(bytes([b])); time.sleep(0.005)
    except OSError:
        pass
    c.close()`;
    await hostExec(HOST, ['sh', '-c', `systemctl stop ${unit}; systemctl reset-failed ${unit}`]);
    await hostExecOk(HOST, ['systemd-run', '--collect', `--unit=${unit}`, 'python3', '-c', server]);
    try {
      await run({ port: 2299, timeout: 5 });
      for (let i = 0; i < 15; i++) {
        const r = await run({ port: 2299, search_regex: '^SSH-2\\.0-slow', timeout: 10, connect_timeout: 2 });
        expect([i, r.failed, r.data['last_seen']]).toEqual([i, false, 'matched']);
        expect(r.data['elapsed_seconds']).toBeLessThan(1.5);
      }
    } finally {
      await hostExec(HOST, ['systemctl', 'stop', unit]);
    }
  });

  it('metacharacters in host, path and search_regex stay data: the canary never appears', async () => {
    await hostExec(HOST, ['rm', '-f', '/tmp/pwned-wait']);
    const evil = ['$(touch /tmp/pwned-wait)', '`touch /tmp/pwned-wait`', "'; touch /tmp/pwned-wait; '", 'x\ntouch /tmp/pwned-wait'];
    for (const e of evil) {
      expect((await run({ host: e, port: 22, timeout: 0.5, sleep: 0.2 })).failed).toBe(true);
      expect((await run({ path: `/tmp/${e}`, timeout: 0.3, sleep: 0.1 })).failed).toBe(true);
      expect((await run({ port: 22, search_regex: e, timeout: 0.5, connect_timeout: 0.3 })).failed).toBe(true);
    }
    expect((await hostExec(HOST, ['test', '-e', '/tmp/pwned-wait'])).code).not.toBe(0);
  });

  it('without a line session a banner wait still works (python3 on the host), and so does a port wait (bash)', async () => {
    const channel = await connect(fleetConnectionSpec(host));
    try {
      const banner = await run({ port: 22, search_regex: '^SSH-2\\.0', timeout: 5 }, channel);
      expect([banner.failed, banner.data['last_seen']]).toEqual([false, 'matched']);
      const port = await run({ port: 1, timeout: 0.5, sleep: 0.2 }, channel);
      expect(port.data['last_seen']).toBe('connection refused');
    } finally {
      await channel.close();
    }
  });

  it('costs the host a fraction of the python3 probe it replaces (CPU and processes per wait)', async () => {
    const cpuMs = async (): Promise<number> => {
      // `times`: the shell's own user/sys, then its children's, as "0m0.012s 0m0.004s" lines.
      const out = (await conn.exec(['sh', '-c', TIMES_SCRIPT, 'times'])).stdout;
      return [...out.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
    };
    const lastPid = async (): Promise<number> => Number(await hostExecOk(HOST, ['cat', '/proc/sys/kernel/ns_last_pid']));
    const measure = async (wait: () => Promise<unknown>): Promise<{ cpuMs: number; processes: number }> => {
      const n = 10;
      const cpu0 = await cpuMs();
      const pid0 = await lastPid();
      for (let i = 0; i < n; i++) await wait();
      const pid1 = await lastPid();
      const pidCal = (await lastPid()) - pid1; // what one lastPid() itself starts
      const cpu1 = await cpuMs();
      return { cpuMs: (cpu1 - cpu0) / n, processes: (pid1 - pid0 - pidCal) / n };
    };
    const banner = { port: 22, search_regex: '^SSH-2\\.0', timeout: 5 };
    const python = await measure(() => conn.exec(remoteProbeArgv(waitSpec(parsedArgs(waitFor, banner)))));
    const bash = await measure(() => run(banner));
    const portOnly = await measure(() => run({ port: 22, timeout: 5 }));
    const path = await measure(() => run({ path: '/etc/hostname', timeout: 5 }));
    console.log(`wait_for per wait on h${HOST} (host CPU ms / processes started): python3 probe ${python.cpuMs.toFixed(1)} / ${python.processes.toFixed(1)}, ` +
      `bash banner ${bash.cpuMs.toFixed(1)} / ${bash.processes.toFixed(1)}, bash port ${portOnly.cpuMs.toFixed(1)} / ${portOnly.processes.toFixed(1)}, ` +
      `bash path ${path.cpuMs.toFixed(1)} / ${path.processes.toFixed(1)}`);
    expect(bash.cpuMs).toBeLessThan(python.cpuMs / 3);
    // Each connection to sshd also makes sshd fork its per-connection child: 1 of the 2 processes is the server's.
    expect(portOnly.processes).toBeLessThan(2.5);
    expect(path.processes).toBeLessThan(0.5);
  });
});

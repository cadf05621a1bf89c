// firewall on real fleet hosts: on h1 allow 5901 only from h2, then prove it with TCP connects from h2 and h3
// (nftables and iptables backends), plus idempotence, --check, persistence, lockout refusal and the host-side rollback.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinArgv } from '../../src/connection/quote.js';
import { connect } from '../../src/connection/ssh.js';
import type { Connection, ExecOptions, ExecResult } from '../../src/connection/types.js';
import { ARM_SCRIPT, firewall, rollbackScript, rulesFromArgs, type FirewallArgs, type FirewallFacts } from '../../src/modules/firewall/index.js';
import { nftApplyScript } from '../../src/modules/firewall/nftables.js';
import type { AnyModule, Change, ModuleContext, ModuleReturn, StepOutcome } from '../../src/modules/types.js';
import { remoteProbeArgv, waitFor, waitSpec } from '../../src/modules/wait-for.js';
import { parsedArgs } from '../support/module-args.js';
import { testContext } from '../support/module-harness.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAddress, fleetAvailable, fleetBridgeAddress, fleetConnectionSpec, fleetDir, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const sshTo = (i: number): Promise<Connection> => {
  const h = fleetHosts()[i - 1]!;
  return connect(fleetConnectionSpec(h, { become: true }));
};

/**
 * Root commands need CAP_NET_ADMIN, which the fleet's nspawn containers may not grant to processes started by their
 * own sshd. When that is so, commands run as root enter h1 with nsenter (real root on the real host, same network
 * namespace); everything run as the login user (the module's $SSH_CONNECTION read, the liveness probe) stays on the
 * real SSH connection, so the lockout check sees the real controller address and port.
 */
class RootViaNsenter implements Connection {
  readonly kind = 'ssh' as const;
  constructor(readonly hostName: string, private readonly ssh: Connection) {}
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (opts.become === false) return this.ssh.exec(argv, opts);
    return nsenterExec(this.hostName, joinArgv(argv), opts.stdin);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Like fleet.ts hostExec, but stdin errors (EPIPE from a command that never reads it) are not fatal here. */
async function nsenterExec(hostName: string, command: string, stdin?: string | Uint8Array): Promise<ExecResult> {
  const fleet = JSON.parse(readFileSync(join(fleetDir(), 'fleet.json'), 'utf8')) as { hosts: { name: string; pidFile: string }[] };
  const nspawn = readFileSync(fleet.hosts.find((h) => h.name === hostName)!.pidFile, 'utf8').trim();
  const init = readdirSync(`/proc/${nspawn}/task`).map((t) => readFileSync(`/proc/${nspawn}/task/${t}/children`, 'utf8').trim().split(/\s+/)[0]).find(Boolean)!;
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', ['-t', init, '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--', 'env', '-i',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', 'sh', '-c', command]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ rc: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function rootConnection(ssh: Connection): Promise<Connection> {
  const r = await ssh.exec(['nft', 'list', 'tables'], { become: true });
  return r.rc === 0 ? ssh : new RootViaNsenter(ssh.hostName, ssh);
}

const LISTENER = String.raw`
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5901)); s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"RFB 003.008\n"); c.close()
    except OSError:
        pass
`;

describe.skipIf(!fleetAvailable())('firewall on h1, proven from h2 and h3', () => {
  let ssh1: Connection;
  let h1: Connection;
  let viaNsenter = false;
  const addr = (i: number): string => (fleetAvailable() ? fleetHosts()[i - 1]!.address : '');

  const run = (mod: AnyModule, args: Record<string, unknown>, conn: Connection, check = false): Promise<InvokeResult> =>
    invokeModule(mod, args, {
      hostName: conn.hostName, conn, check, diff: true, become: true, signal: new AbortController().signal,
      vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
    });
  /**
   * What h2/h3 see connecting to h1:5901: wait_for's own host-side probe, run inside that host (its network
   * namespace, its address) through nsenter, so other tests restarting sshd on h2/h3 cannot disturb this one.
   */
  const probeFrom = async (i: 2 | 3): Promise<{ ok: boolean; last: string }> => {
    const spec = waitSpec(parsedArgs(waitFor, { host: addr(1), port: 5901, search_regex: '^RFB', timeout: 2, connect_timeout: 1.5, sleep: 0.5 }));
    // Other test files may be rebooting h2/h3 (fleetReset) at the same moment: wait for the host to come back.
    let r: ExecResult = { rc: -1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 20; attempt++) {
      r = await nsenterExec(`h${i}`, joinArgv(remoteProbeArgv(spec))).catch((e: Error) => ({ rc: -1, stdout: '', stderr: e.message }));
      if (r.rc === 0 && r.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    if (r.rc !== 0) throw new Error(`probe on h${i} failed (rc ${r.rc}): ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim()) as { ok: boolean; last: string };
    return { ok: out.ok, last: out.last };
  };
  const ruleset = async (): Promise<string> =>
    (await hostExecOk(1, ['nft', 'list', 'ruleset'])).replace(/# handle \d+/g, '').replace(/counter packets \d+ bytes \d+/g, 'counter');

  beforeAll(async () => {
    ssh1 = await sshTo(1);
    h1 = await rootConnection(ssh1);
    viaNsenter = h1 !== ssh1;
    await hostExecOk(1, ['sh', '-c', [
      'nft delete table inet vncplay 2>/dev/null; nft delete table inet othertool 2>/dev/null',
      'systemctl stop "vncplay-fw-rollback-*.timer" 2>/dev/null; rm -rf /run/vncplay',
      'for t in iptables ip6tables; do $t -D INPUT -j VNCPLAY 2>/dev/null; $t -F VNCPLAY 2>/dev/null; $t -X VNCPLAY 2>/dev/null; done',
      'rm -f /etc/nftables.d/vncplay.nft; sed -i "\\|/etc/nftables.d/vncplay.nft|d" /etc/nftables.conf',
      // a rule of "another tool" that must survive everything vncplay does
      'nft add table inet othertool; nft add chain inet othertool input "{ type filter hook input priority 10; policy accept; }"',
      'nft add rule inet othertool input tcp dport 6000 counter accept',
      // 5901 must be free for the test listener (another file may have left Xvnc :1 running)
      'systemctl stop tigervncserver@:1 2>/dev/null',
      'systemctl stop vncplay-fwtest-listener 2>/dev/null; systemctl reset-failed vncplay-fwtest-listener 2>/dev/null; true',
    ].join('\n')]);
    await hostExecOk(1, ['systemd-run', '--unit=vncplay-fwtest-listener', 'python3', '-c', LISTENER]);
    for (let i = 0; i < 50 && !(await probeFrom(2)).ok; i++) await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    await hostExec(1, ['sh', '-c', 'systemctl stop vncplay-fwtest-listener; nft delete table inet vncplay; nft delete table inet othertool; for t in iptables ip6tables; do $t -D INPUT -j VNCPLAY; $t -F VNCPLAY; $t -X VNCPLAY; done; rm -f /etc/nftables.d/vncplay.nft; sed -i "\\|/etc/nftables.d/vncplay.nft|d" /etc/nftables.conf']);
    await ssh1?.close();
  });

  it('both h2 and h3 reach h1:5901 before any rule', async () => {
    expect(await probeFrom(2)).toEqual({ ok: true, last: 'matched' });
    expect(await probeFrom(3)).toEqual({ ok: true, last: 'matched' });
  });

  describe.each(['nftables', 'iptables'] as const)('backend %s', (backend) => {
    const allowH2 = (): Record<string, unknown> => ({ port: '5901', source: addr(2), action: 'accept', backend, comment: 'vnc from h2' });
    const dropAll = { port: 5901, action: 'drop', backend };
    const rejectAll = { port: 5901, action: 'reject', backend };

    it('allow from h2 + drop the rest: first run changes, h2 connects, h3 times out', async () => {
      const a = await run(firewall, allowH2(), h1);
      const d = await run(firewall, dropAll, h1);
      expect([a.changed, a.failed, d.changed, d.failed]).toEqual([true, false, true, false]);
      expect(d.data['verified_by']).toMatch(/connection/);
      expect(await probeFrom(2)).toEqual({ ok: true, last: 'matched' });
      expect(await probeFrom(3)).toEqual({ ok: false, last: 'connect timed out' });
      if (backend === 'iptables') {
        // the any-source drop guards IPv6 too; the IPv4-only accept stays out of ip6tables
        const v6 = await hostExecOk(1, ['ip6tables-save', '-t', 'filter']);
        expect(v6).toContain('-A VNCPLAY -p tcp -m tcp --dport 5901 -m comment --comment "vncplay/1 tcp 5901 any drop" -j DROP');
        expect(v6).not.toContain(addr(2));
      }
    });

    it('second run changes nothing', async () => {
      expect((await run(firewall, allowH2(), h1)).changed).toBe(false);
      expect((await run(firewall, dropAll, h1)).changed).toBe(false);
    });

    it('the armed rollback was cancelled (no timer left behind, nothing undone later)', async () => {
      const timers = await hostExec(1, ['sh', '-c', 'systemctl list-units --all "vncplay-fw-rollback-*" --no-legend; ls /run/vncplay 2>/dev/null']);
      expect(timers.stdout.trim()).toBe('');
    });

    it('--check of a change reports it and leaves the rules as they were', async () => {
      const before = await ruleset();
      const ipt = await hostExecOk(1, ['iptables-save', '-t', 'filter']);
      const r = await run(firewall, { ...dropAll, state: 'absent' }, h1, true);
      expect(r.changed).toBe(true);
      expect(r.diff[0]?.before).toContain(`vncplay/1 tcp 5901 any drop`);
      expect(await ruleset()).toBe(before);
      const clean = (t: string): string => t.replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
      expect(clean(await hostExecOk(1, ['iptables-save', '-t', 'filter']))).toBe(clean(ipt));
    });

    it('drop → reject: h3 is now refused instead of timing out; h2 still connects', async () => {
      expect((await run(firewall, { ...dropAll, state: 'absent' }, h1)).changed).toBe(true);
      expect((await run(firewall, rejectAll, h1)).changed).toBe(true);
      expect(await probeFrom(3)).toEqual({ ok: false, last: 'connection refused' });
      expect(await probeFrom(2)).toEqual({ ok: true, last: 'matched' });
    });

    it('a rule that would cut vncplay\'s own SSH connection is refused (real $SSH_CONNECTION)', async () => {
      await expect(run(firewall, { port: '22', action: 'drop', backend }, h1)).rejects.toMatchObject({ code: 'E_FIREWALL_LOCKOUT' });
      await expect(run(firewall, { port: '1-1000', action: 'reject', source: fleetAddress(0) + '/24', backend }, h1)).rejects.toMatchObject({ code: 'E_FIREWALL_LOCKOUT' });
      // h3's address is not the controller's: allowed
      const ok = await run(firewall, { port: '22', action: 'drop', source: addr(3), backend }, h1);
      expect([ok.changed, ok.failed]).toEqual([true, false]);
      expect((await run(firewall, { port: '22', action: 'drop', source: addr(3), backend, state: 'absent' }, h1)).changed).toBe(true);
    });

    it('absent removes them all; both connect again; other tools\' rules untouched', async () => {
      for (const args of [rejectAll, allowH2()]) expect((await run(firewall, { ...args, state: 'absent' }, h1)).changed).toBe(true);
      for (const args of [rejectAll, allowH2()]) expect((await run(firewall, { ...args, state: 'absent' }, h1)).changed).toBe(false);
      expect(await probeFrom(3)).toEqual({ ok: true, last: 'matched' });
      expect(await ruleset()).toMatch(/table inet othertool \{[\s\S]*tcp dport 6000 counter accept/);
    });
  });

  it('nftables persistent: writes the include file once and nftables.conf still parses', async () => {
    const args = { port: '5900-5999', source: [addr(2), '2001:db8::/48'], action: 'accept', backend: 'nftables', persistent: true };
    const first = await run(firewall, args, h1);
    expect([first.changed, first.failed]).toEqual([true, false]);
    expect((await run(firewall, args, h1)).changed).toBe(false);
    const file = await hostExecOk(1, ['cat', '/etc/nftables.d/vncplay.nft']);
    expect(file).toContain(`ip saddr ${addr(2)}/32 tcp dport 5900-5999 accept`);
    expect(file).toContain('ip6 saddr 2001:db8::/48 tcp dport 5900-5999 accept');
    expect(await hostExecOk(1, ['grep', '-c', 'include "/etc/nftables.d/vncplay.nft"', '/etc/nftables.conf'])).toBe('1\n');
    await hostExecOk(1, ['nft', '-c', '-f', '/etc/nftables.conf']);
    expect((await run(firewall, { ...args, state: 'absent' }, h1)).changed).toBe(true);
  });

  it('ufw (inactive, so nothing is enforced on the shared host): rules tagged by comment, idempotent, --check, absent', async () => {
    // Enabling ufw would put h1 behind ufw's default-deny for every other test using the fleet, so only the rule
    // bookkeeping is exercised here against the real ufw; enforcement is the iptables path tested above.
    await hostExecOk(1, ['sh', '-c', 'ufw --force reset >/dev/null; ufw status | grep -q inactive']);
    const allow = { port: '5901', source: addr(2), action: 'accept', backend: 'ufw' };
    const deny = { port: '5900-5999', action: 'drop', backend: 'ufw', comment: 'vnc range' };
    for (const a of [allow, deny]) expect((await run(firewall, a, h1)).changed).toBe(true);
    for (const a of [allow, deny]) expect((await run(firewall, a, h1)).changed).toBe(false);
    const added = await hostExecOk(1, ['ufw', 'show', 'added']);
    expect(added).toContain(`ufw allow from ${addr(2)} to any port 5901 proto tcp comment 'vncplay/1 tcp 5901 ${addr(2)}/32 accept'`);
    expect(added).toContain("comment 'vncplay/1 tcp 5900-5999 any drop # vnc range'");
    expect((await run(firewall, { ...deny, state: 'absent' }, h1, true)).changed).toBe(true);
    expect(await hostExecOk(1, ['ufw', 'show', 'added'])).toBe(added);
    for (const a of [allow, deny]) expect((await run(firewall, { ...a, state: 'absent' }, h1)).changed).toBe(true);
    expect(await hostExecOk(1, ['ufw', 'show', 'added'])).toContain('(None)');
  });

  it('metacharacters in port, source and comment are refused before anything reaches the host', async () => {
    await hostExec(1, ['rm', '-f', '/tmp/pwned']);
    for (const args of [
      { port: '5901; touch /tmp/pwned' },
      { port: 5901, source: '$(touch /tmp/pwned)' },
      { port: 5901, comment: '"; touch /tmp/pwned; "' },
      { port: 5901, comment: 'x\nadd rule inet vncplay input accept' },
    ]) {
      const r = await run(firewall, args, h1);
      expect([r.failed, r.changed]).toEqual([true, false]);
    }
    expect((await hostExec(1, ['test', '-e', '/tmp/pwned'])).code).not.toBe(0);
  });

  it('iptables persistent without /etc/iptables/rules.v4 fails with a hint', async () => {
    await expect(run(firewall, { port: 5901, backend: 'iptables', persistent: true }, h1)).rejects.toMatchObject({ code: 'E_FIREWALL_NO_PERSIST' });
  });

  it('the host undoes an armed change by itself when nobody cancels it (real systemd timer)', async (t) => {
    // The timer's service is started by the host's own systemd: without CAP_NET_ADMIN in the container it cannot run nft.
    if (viaNsenter) t.skip('fleet containers lack CAP_NET_ADMIN, so a service started by their systemd cannot run nft');
    const facts: FirewallFacts = { backend: 'nftables', nft: { table: true, chain: true, entries: [] } };
    const rule = rulesFromArgs({ port: 5901, action: 'drop' });
    await hostExecOk(1, ['nft', '-f', '-'], { stdin: nftApplyScript(rule) });
    expect(await probeFrom(2)).toMatchObject({ ok: false });
    await hostExecOk(1, ['sh', '-c', ARM_SCRIPT, 'sh', 'testonly', '2'], { stdin: rollbackScript(facts, [], false) });
    await new Promise((r) => setTimeout(r, 4000));
    expect(await probeFrom(2)).toEqual({ ok: true, last: 'matched' });
    expect((await hostExec(1, ['test', '-e', '/run/vncplay/fw-rollback-testonly.sh'])).code).not.toBe(0);
  });

  it('reports how root commands reached h1', () => {
    // Not an assertion about vncplay: documents in the test log whether CAP_NET_ADMIN was available over SSH.
    console.log(viaNsenter ? 'firewall test: root commands via nsenter (fleet sshd sessions lack CAP_NET_ADMIN)' : 'firewall test: all commands over SSH');
  });
});

/**
 * The lockout path end to end, on a second sshd of h1 (port 2222) so that no other test's SSH to h1 is ever blocked:
 * with allow_lockout the rule that drops the controller's SSH goes in, the fresh-connection probe (a real new SSH
 * connection, as the runner's ctx.probeNewConnection would make) fails, and finish() rolls the change back.
 * A small driver runs gather → plan → steps → finish because the runner does not offer probeNewConnection yet.
 */
describe.skipIf(!fleetAvailable())('firewall lockout safety on h1 (private sshd on 2222)', () => {
  const PORT = 2222;
  let knownHosts = '';
  let conn: Connection;
  let root: Connection;
  const h1addr = fleetAvailable() ? fleetHosts()[0]!.address : '';
  const connect2222 = (timeoutMs = 10_000): Promise<Connection> =>
    connect({
      hostName: 'h1', connection: 'ssh', address: h1addr, port: PORT, user: 'vncplay', privateKeyFile: fleetKey(),
      become: true, becomeUser: 'root', hostKeyChecking: 'strict', knownHostsFiles: [knownHosts], connectTimeoutMs: timeoutMs,
    });
  const freshConnectionWorks = async (): Promise<boolean> => {
    try {
      const c = await connect2222(4000);
      const r = await c.exec(['true'], { become: false, timeoutMs: 4000 });
      await c.close();
      return r.rc === 0;
    } catch {
      return false;
    }
  };
  const ctxFor = (c: Connection, probe: boolean): ModuleContext => {
    return testContext(c, { hostName: 'h1', become: true, diff: false, ...(probe ? { probeNewConnection: freshConnectionWorks } : {}) });
  };
  /** gather → plan → exec steps → finish, as invokeModule does, with a ctx that has probeNewConnection. */
  const drive = async (args: FirewallArgs, ctx: ModuleContext): Promise<{ changes: Change[]; ret: ModuleReturn }> => {
    const parsed = parsedArgs(firewall, { ...args });
    const facts = await firewall.gather(parsed, ctx);
    const changes = firewall.plan(parsed, facts);
    const outcomes: StepOutcome[] = [];
    for (const step of changes.flatMap((c) => c.steps)) {
      if (step.kind !== 'exec') throw new Error(`unexpected step ${step.kind}`);
      const res = await ctx.exec(step.argv, step.stdin !== undefined ? { stdin: step.stdin } : {});
      outcomes.push({ step, exec: res });
      if (res.rc !== 0) throw new Error(`step ${step.argv.join(' ')} failed: ${res.stderr}`);
    }
    return { changes, ret: changes.length ? await firewall.finish!(parsed, facts, outcomes, ctx) : {} };
  };
  const ourRules = async (): Promise<string> => (await hostExec(1, ['nft', 'list', 'table', 'inet', 'vncplay'])).stdout;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-fw-'));
    knownHosts = join(dir, 'known_hosts');
    const lines = readFileSync(fleetKnownHosts(), 'utf8').split('\n').filter((l) => l.startsWith(`${h1addr} `));
    writeFileSync(knownHosts, lines.map((l) => l.replace(`${h1addr} `, `[${h1addr}]:${PORT} `)).join('\n') + '\n');
    await hostExecOk(1, ['sh', '-c', [
      'nft delete table inet vncplay 2>/dev/null',
      'systemctl stop "vncplay-fw-rollback-*.timer" 2>/dev/null; rm -rf /run/vncplay',
      'systemctl stop vncplay-fwtest-sshd 2>/dev/null; systemctl reset-failed vncplay-fwtest-sshd 2>/dev/null',
      `systemd-run --unit=vncplay-fwtest-sshd /usr/sbin/sshd -D -p ${PORT}`,
      `for i in $(seq 50); do ss -Hltn "sport = :${PORT}" | grep -q . && break; sleep 0.1; done`,
    ].join('\n')]);
    conn = await connect2222();
    root = await rootConnection(conn);
  });
  afterAll(async () => {
    await conn?.close();
    await hostExec(1, ['sh', '-c', 'systemctl stop vncplay-fwtest-sshd; nft delete table inet vncplay; systemctl stop "vncplay-fw-rollback-*.timer"']);
  });

  it(`the controller's SSH connection is seen on port ${PORT}; a rule against it is refused`, async () => {
    await expect(drive({ port: PORT, action: 'drop', backend: 'nftables' }, ctxFor(root, true))).rejects.toMatchObject({
      code: 'E_FIREWALL_LOCKOUT',
      message: expect.stringContaining(`to port ${PORT}`),
    });
    expect(await ourRules()).not.toContain(`dport ${PORT}`);
  });

  it('a harmless change is verified by a fresh connection and its armed rollback is cancelled', async () => {
    const { ret } = await drive({ port: 5999, action: 'drop', backend: 'nftables' }, ctxFor(root, true));
    expect([ret.failed, ret.msg, (ret.data ?? {})['verified_by']]).toEqual([undefined, expect.any(String), 'a fresh SSH connection']);
    expect((await hostExec(1, ['sh', '-c', 'systemctl list-units --all "vncplay-fw-rollback-*" --no-legend; ls /run/vncplay 2>/dev/null'])).stdout.trim()).toBe('');
    await drive({ port: 5999, action: 'drop', backend: 'nftables', state: 'absent' }, ctxFor(root, true));
  });

  it('with allow_lockout the change goes in, the fresh connection fails, and it is rolled back', async () => {
    const args: FirewallArgs = { port: PORT, action: 'drop', source: fleetBridgeAddress(), allow_lockout: true, backend: 'nftables', rollback_timeout: 5 };
    // Over real SSH the rule also cuts the connection vncplay is using: either the apply step never answers (the
    // runner would mark the host unreachable) or finish() cannot roll back over it. Both leave the armed timer.
    let how: string;
    try {
      const { changes, ret } = await drive(args, ctxFor(root, true));
      expect(changes[0]!.steps.map((s) => (s.kind === 'exec' ? s.argv[0] : ''))).toEqual(['sh', 'nft']);
      expect(ret.failed).toBe(true);
      expect(ret.msg).toMatch(/after the change a fresh SSH connection to h1 failed; (rolled back now|the host undoes it by itself within 5s \(armed rollback\))/);
      how = String(ret.msg);
    } catch (e) {
      expect(e).toMatchObject({ code: 'E_UNREACHABLE' });
      how = 'connection lost during the apply step';
    }
    let gone = false;
    for (let i = 0; i < 30 && !gone; i++) {
      gone = !(await ourRules()).includes(`dport ${PORT}`);
      if (!gone) await new Promise((r) => setTimeout(r, 500));
    }
    expect(gone, `rule still present (${how})`).toBe(true);
    expect(await freshConnectionWorks()).toBe(true);
    expect((await hostExec(1, ['sh', '-c', 'systemctl list-units --all "vncplay-fw-rollback-*" --no-legend | grep -v -e dead -e inactive; ls /run/vncplay 2>/dev/null'])).stdout.trim()).toBe('');
  });
});

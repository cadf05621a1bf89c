// systemd + wait_for on a real fleet host: restart a real Xvnc under tigervncserver@:1 and read its RFB banner.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { connect } from '../../src/connection/ssh.js';
import type { Connection } from '../../src/connection/types.js';
import { systemd } from '../../src/modules/systemd.js';
import type { AnyModule } from '../../src/modules/types.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const UNIT = 'tigervncserver@:1';
const RFB = '^RFB 003\\.00[38]';

/** A VNC password file: DES of the password with VNC's fixed (bit-reversed) key; openssl's legacy provider has DES. */
function vncPasswd(pw: string): Buffer {
  return execFileSync('openssl', ['enc', '-des-ecb', '-K', 'e84ad660c4721ae0', '-nopad', '-provider', 'legacy', '-provider', 'default'], {
    input: Buffer.from(pw.padEnd(8, '\0').slice(0, 8)),
  });
}

const SETUP = String.raw`
set -e
install -d -o vncplay -g vncplay -m 0700 /home/vncplay/.vnc
base64 -d > /home/vncplay/.vnc/passwd
printf '#!/bin/sh\nexec sleep infinity\n' > /home/vncplay/.vnc/xstartup
printf '$localhost = "no";\n' > /home/vncplay/.vnc/tigervnc.conf
chown vncplay:vncplay /home/vncplay/.vnc/passwd /home/vncplay/.vnc/xstartup /home/vncplay/.vnc/tigervnc.conf
chmod 600 /home/vncplay/.vnc/passwd; chmod 755 /home/vncplay/.vnc/xstartup
grep -qx ':1=vncplay' /etc/tigervnc/vncserver.users || echo ':1=vncplay' >> /etc/tigervnc/vncserver.users
systemctl stop tigervncserver@:1 || true
systemctl disable tigervncserver@:1 2>/dev/null || true
rm -f /tmp/pwned /tmp/pwned.service
`;

describe.skipIf(!fleetAvailable())('systemd + wait_for on h1 (real tigervncserver@:1)', () => {
  let conn: Connection;
  const h1 = fleetAvailable() ? fleetHosts()[0]! : { address: '', name: 'h1' };

  const run = (mod: AnyModule, args: Record<string, unknown>, opts: { check?: boolean; via?: Connection } = {}): Promise<InvokeResult> =>
    invokeModule(mod, args, {
      hostName: 'h1',
      conn: opts.via ?? conn,
      check: opts.check ?? false,
      diff: true,
      become: true,
      signal: new AbortController().signal,
      vars: {},
      render: (t) => t,
      findFile: (rel) => Promise.resolve(rel),
      log: () => undefined,
    });
  const activeState = async (): Promise<string> => (await hostExec(1, ['systemctl', 'is-active', UNIT])).stdout.trim();

  beforeAll(async () => {
    await hostExecOk(1, ['sh', '-c', SETUP], { stdin: vncPasswd('secret12').toString('base64') });
    conn = await connect(fleetConnectionSpec(h1, { become: true }));
  });
  afterAll(async () => {
    await hostExec(1, ['sh', '-c', 'systemctl stop tigervncserver@:1; systemctl disable tigervncserver@:1; printf "#!/bin/sh\\nexec sleep infinity\\n" > /home/vncplay/.vnc/xstartup']);
    await conn?.close();
  });

  it('--check on a stopped unit reports the start and leaves it stopped', async () => {
    const r = await run(systemd, { name: UNIT, state: 'started' }, { check: true });
    expect([r.changed, r.failed]).toEqual([true, false]);
    expect(r.diff[0]).toMatchObject({ before: { state: 'stopped' }, after: { state: 'started' } });
    expect(await activeState()).toBe('inactive');
  });

  it('started: first run changes, second run does not; status is returned', async () => {
    const first = await run(systemd, { name: UNIT, state: 'started' });
    expect([first.changed, first.failed, first.msg]).toEqual([true, false, undefined]);
    expect(await activeState()).toBe('active');
    const second = await run(systemd, { name: UNIT, state: 'started' });
    expect([second.changed, second.failed]).toEqual([false, false]);
    expect((second.data['status'] as Record<string, string>)['ActiveState']).toBe('active');
    expect((second.data['status'] as Record<string, string>)['Id']).toBe(`${UNIT}.service`);
  });

  it('wait_for on the host reads the real RFB banner of Xvnc on 5901', async () => {
    const r = await run(waitFor, { port: 5901, search_regex: '^RFB (\\d{3})\\.(\\d{3})', timeout: 20 });
    expect([r.changed, r.failed]).toEqual([false, false]);
    expect(r.data['match_groups']).toEqual(['003', '008']);
    expect(typeof r.data['elapsed']).toBe('number');
  });

  it('wait_for delegated to the controller probes h1:5901 from here with node:net', async () => {
    const local = new LocalConnection({ hostName: 'localhost' });
    const r = await run(waitFor, { host: h1.address, port: 5901, search_regex: RFB, timeout: 20 }, { via: local });
    expect([r.changed, r.failed]).toEqual([false, false]);
    await local.close();
  });

  it('restarted always changes and gives a new Xvnc (new MainPID)', async () => {
    const pid = async (): Promise<string> => (await hostExecOk(1, ['systemctl', 'show', '-p', 'MainPID', '--value', UNIT])).trim();
    const before = await pid();
    const r = await run(systemd, { name: UNIT, state: 'restarted' });
    expect([r.changed, r.failed]).toEqual([true, false]);
    const after = await pid();
    expect(after).not.toBe(before);
    expect(after).not.toBe('0');
    expect((await run(waitFor, { port: 5901, search_regex: RFB, timeout: 20 })).failed).toBe(false);
  });

  it('enabled: changes once, then not; --check of disable leaves it enabled', async () => {
    expect((await run(systemd, { name: UNIT, enabled: true })).changed).toBe(true);
    expect((await run(systemd, { name: UNIT, enabled: true })).changed).toBe(false);
    expect((await hostExec(1, ['systemctl', 'is-enabled', UNIT])).stdout.trim()).toBe('enabled');
    expect((await run(systemd, { name: UNIT, enabled: false }, { check: true })).changed).toBe(true);
    expect((await hostExec(1, ['systemctl', 'is-enabled', UNIT])).stdout.trim()).toBe('enabled');
  });

  it('stopped, then wait_for state=stopped sees the port closed', async () => {
    expect((await run(systemd, { name: UNIT, state: 'stopped', enabled: false })).changed).toBe(true);
    expect((await run(systemd, { name: UNIT, state: 'stopped', enabled: false })).changed).toBe(false);
    const r = await run(waitFor, { port: 5901, state: 'stopped', timeout: 10 });
    expect(r.failed).toBe(false);
  });

  it('a unit that dies after starting fails the task with its state and the last journal lines', async () => {
    await hostExecOk(1, ['sh', '-c', 'printf "#!/bin/sh\\nexit 0\\n" > /home/vncplay/.vnc/xstartup']);
    const r = await run(systemd, { name: UNIT, state: 'started' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/tigervncserver@:1\.service is not running after the change: ActiveState=\w+/);
    expect(r.msg).toMatch(/last 20 journal lines:\n[\s\S]*tigervnc/);
    await hostExecOk(1, ['sh', '-c', 'printf "#!/bin/sh\\nexec sleep infinity\\n" > /home/vncplay/.vnc/xstartup']);
  });

  it('a unit whose start job fails: the failed step itself carries Result and the journal tail', async () => {
    await hostExecOk(1, ['sh', '-c', 'cat > /etc/systemd/system/vncplay-fail-test.service && systemctl daemon-reload'], {
      stdin: "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo vncplay-boom; exit 3'\n",
    });
    const r = await run(systemd, { name: 'vncplay-fail-test', state: 'started' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/ActiveState=failed/);
    expect(r.msg).toMatch(/Result=exit-code/);
    expect(r.msg).toMatch(/last 20 journal lines:[\s\S]*vncplay-boom/);
    await hostExecOk(1, ['sh', '-c', 'rm -f /etc/systemd/system/vncplay-fail-test.service; systemctl daemon-reload; systemctl reset-failed vncplay-fail-test 2>/dev/null; true']);
  });

  it('wait_for times out saying what it saw (refused; wrong banner)', async () => {
    const refused = await run(waitFor, { port: 5999, timeout: 2, sleep: 0.5 });
    expect(refused.failed).toBe(true);
    expect(refused.msg).toBe('Timeout when waiting for 127.0.0.1:5999 (last seen: connection refused)');
    const wrong = await run(waitFor, { port: 22, search_regex: RFB, timeout: 2, connect_timeout: 1 });
    expect(wrong.msg).toMatch(/banner did not match: .*SSH-2\.0-OpenSSH/);
  });

  it('masked: mask once (a masked unit cannot start), unmask once', async () => {
    expect((await run(systemd, { name: UNIT, masked: true })).changed).toBe(true);
    expect((await run(systemd, { name: UNIT, masked: true })).changed).toBe(false);
    expect((await hostExec(1, ['systemctl', 'is-enabled', UNIT])).stdout.trim()).toBe('masked');
    const start = await run(systemd, { name: UNIT, state: 'started' });
    expect(start.failed).toBe(true);
    expect(start.msg).toMatch(/masked/);
    expect((await run(systemd, { name: UNIT, masked: false })).changed).toBe(true);
    expect((await run(systemd, { name: UNIT, masked: false })).changed).toBe(false);
    expect((await hostExec(1, ['systemctl', 'is-enabled', UNIT])).stdout.trim()).toBe('disabled');
  });

  it('daemon_reload picks up an edited unit file before the restart (NeedDaemonReload cleared)', async () => {
    const unit = (cmd: string): string => `[Service]\nExecStart=/bin/sh -c '${cmd}'\n`;
    await hostExecOk(1, ['sh', '-c', 'cat > /etc/systemd/system/vncplay-reload-test.service && systemctl daemon-reload'], { stdin: unit('exec sleep 1000') });
    expect((await run(systemd, { name: 'vncplay-reload-test', state: 'started', daemon_reload: true })).changed).toBe(true);
    await hostExecOk(1, ['sh', '-c', 'cat > /etc/systemd/system/vncplay-reload-test.service'], { stdin: unit('exec sleep 2000') });
    expect((await hostExecOk(1, ['systemctl', 'show', '-p', 'NeedDaemonReload', '--value', 'vncplay-reload-test'])).trim()).toBe('yes');
    const r = await run(systemd, { name: 'vncplay-reload-test', state: 'restarted', daemon_reload: true });
    expect([r.changed, r.failed]).toEqual([true, false]);
    expect((await hostExecOk(1, ['systemctl', 'show', '-p', 'NeedDaemonReload', '--value', 'vncplay-reload-test'])).trim()).toBe('no');
    expect(await hostExecOk(1, ['systemctl', 'show', '-p', 'ExecStart', '--value', 'vncplay-reload-test'])).toContain('sleep 2000');
    // a name-less daemon_reload is not a change (as in Ansible)
    expect((await run(systemd, { daemon_reload: true })).changed).toBe(false);
    await hostExecOk(1, ['sh', '-c', 'systemctl stop vncplay-reload-test; rm -f /etc/systemd/system/vncplay-reload-test.service; systemctl daemon-reload']);
  });

  it('scope: user manages a unit of the login user\'s own manager (become: false, linger on)', async () => {
    await hostExecOk(1, ['sh', '-c', [
      'loginctl enable-linger vncplay',
      'install -d -o vncplay -g vncplay /home/vncplay/.config /home/vncplay/.config/systemd /home/vncplay/.config/systemd/user',
      "printf '[Service]\\nExecStart=/bin/sleep 1000\\n' > /home/vncplay/.config/systemd/user/vncplay-user-test.service",
      'chown vncplay:vncplay /home/vncplay/.config/systemd/user/vncplay-user-test.service',
      'for i in $(seq 50); do [ -S /run/user/1000/systemd/private ] && break; sleep 0.2; done',
    ].join('\n')]);
    const asUser = (args: Record<string, unknown>): Promise<InvokeResult> =>
      invokeModule(systemd, { ...args, scope: 'user' }, {
        hostName: 'h1', conn, check: false, diff: false, become: false, signal: new AbortController().signal,
        vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
      });
    const first = await asUser({ name: 'vncplay-user-test', state: 'started', daemon_reload: true });
    expect([first.changed, first.failed, first.msg]).toEqual([true, false, undefined]);
    expect((await asUser({ name: 'vncplay-user-test', state: 'started' })).changed).toBe(false);
    expect((await asUser({ name: 'vncplay-user-test', state: 'stopped' })).changed).toBe(true);
    await hostExec(1, ['sh', '-c', 'loginctl disable-linger vncplay; rm -f /home/vncplay/.config/systemd/user/vncplay-user-test.service']);
  });

  it.each(['; touch /tmp/pwned', '$(touch /tmp/pwned)', "x'; touch /tmp/pwned; '", 'a\ntouch /tmp/pwned', '`touch /tmp/pwned`'])(
    'unit name %j fails cleanly and runs nothing',
    async (name) => {
      // plan() throws a ModuleError; the runner turns it into this host's task failure.
      await expect(run(systemd, { name, state: 'started' })).rejects.toMatchObject({
        code: 'E_SYSTEMD_NOT_FOUND',
        message: expect.stringMatching(/^Could not find the requested service/),
      });
      expect((await hostExec(1, ['sh', '-c', 'ls /tmp/pwned* 2>/dev/null'])).stdout).toBe('');
    },
  );
});

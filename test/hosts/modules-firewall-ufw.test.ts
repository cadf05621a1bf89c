// The ufw backend on an ENABLED ufw (h3). Safe for the shared fleet: ufw's default incoming policy is set to allow
// before it is enabled, so only the rules this test adds filter anything; afterwards ufw is disabled and reset.
// Proven with TCP connects from h2 (allowed) and h1 (rejected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection/ssh.js';
import type { Connection } from '../../src/connection/types.js';
import { firewall } from '../../src/modules/firewall/index.js';
import type { AnyModule } from '../../src/modules/types.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const HOST = 3;
const LISTENER = 'import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5901)); s.listen(16)\nwhile True:\n    c,_=s.accept(); c.sendall(b"RFB 003.008\\n"); c.close()\n';

const sshTo = (i: number): Promise<Connection> => {
  const h = fleetHosts()[i - 1]!;
  return connect(fleetConnectionSpec(h, { become: true }));
};

describe.skipIf(!fleetAvailable())('firewall backend ufw on h3 (enabled, default allow)', () => {
  let h1: Connection;
  let h2: Connection;
  let h3: Connection;
  const addr = (i: number): string => fleetHosts()[i - 1]!.address;
  const run = (mod: AnyModule, args: Record<string, unknown>, conn: Connection, check = false): Promise<InvokeResult> =>
    invokeModule(mod, args, {
      hostName: conn.hostName, conn, check, diff: true, become: true, signal: new AbortController().signal,
      vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
    });
  const probeFrom = async (conn: Connection): Promise<string> =>
    String((await run(waitFor, { host: addr(HOST), port: 5901, search_regex: '^RFB', timeout: 2, connect_timeout: 1.5, sleep: 0.5 }, conn)).data['last_seen']);
  const added = async (): Promise<string> => hostExecOk(HOST, ['ufw', 'show', 'added']);

  beforeAll(async () => {
    await hostExecOk(HOST, ['sh', '-c', [
      'systemctl stop firewalld 2>/dev/null',
      'ufw --force reset >/dev/null',
      'ufw default allow incoming >/dev/null',
      'ufw --force enable >/dev/null',
      'systemctl stop vncplay-fwtest-listener 2>/dev/null; systemctl reset-failed vncplay-fwtest-listener 2>/dev/null; true',
    ].join('\n')]);
    await hostExecOk(HOST, ['systemd-run', '--unit=vncplay-fwtest-listener', 'python3', '-c', LISTENER]);
    [h1, h2, h3] = await Promise.all([sshTo(1), sshTo(2), sshTo(HOST)]);
    for (let i = 0; i < 30 && (await probeFrom(h2)) !== 'matched'; i++) await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    await hostExec(HOST, ['sh', '-c', 'systemctl stop vncplay-fwtest-listener; ufw --force disable >/dev/null; ufw --force reset >/dev/null; ufw default deny incoming >/dev/null']);
    // A host reset by another test file mid-run must not hang the hook on a dead connection.
    await Promise.race([Promise.all([h1, h2, h3].map((c) => c?.close())), new Promise((r) => setTimeout(r, 5000))]);
  });

  it('auto picks ufw when it is enabled; allow from h2 + reject the rest: h2 connects, h1 is refused', async () => {
    const a = await run(firewall, { port: 5901, source: addr(2), action: 'accept' }, h3);
    const r = await run(firewall, { port: 5901, action: 'reject', comment: 'vnc' }, h3);
    expect([a.changed, a.failed, r.changed, r.failed, r.data['backend']]).toEqual([true, false, true, false, 'ufw']);
    expect(await probeFrom(h2)).toBe('matched');
    expect(await probeFrom(h1)).toBe('connection refused');
  });

  it('second run changes nothing; a changed comment replaces the rule; --check leaves ufw alone', async () => {
    expect((await run(firewall, { port: 5901, source: addr(2), action: 'accept' }, h3)).changed).toBe(false);
    expect((await run(firewall, { port: 5901, action: 'reject', comment: 'vnc' }, h3)).changed).toBe(false);
    expect((await run(firewall, { port: 5901, action: 'reject', comment: 'vnc ports' }, h3)).changed).toBe(true);
    expect(await added()).toContain("comment 'vncplay/1 tcp 5901 any reject # vnc ports'");
    const before = await added();
    expect((await run(firewall, { port: 5901, action: 'reject', state: 'absent' }, h3, true)).changed).toBe(true);
    expect(await added()).toBe(before);
  });

  it('absent removes both; h1 connects again', async () => {
    expect((await run(firewall, { port: 5901, action: 'reject', state: 'absent' }, h3)).changed).toBe(true);
    expect((await run(firewall, { port: 5901, source: addr(2), action: 'accept', state: 'absent' }, h3)).changed).toBe(true);
    expect(await added()).not.toContain('vncplay/1');
    expect(await probeFrom(h1)).toBe('matched');
  });
});

// The firewalld backend on a real firewalld (h3). Safe for the shared fleet: the default zone is switched to
// `trusted` (accept everything) before firewalld starts, so only the rich rules this test adds filter anything;
// afterwards firewalld is stopped and the zone restored. Proven with TCP connects from h2 (allowed) and h1 (dropped).
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

describe.skipIf(!fleetAvailable())('firewall backend firewalld on h3 (zone trusted)', () => {
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
  const rich = async (permanent = false): Promise<string> =>
    (await hostExecOk(HOST, ['firewall-cmd', ...(permanent ? ['--permanent'] : []), '--list-rich-rules'])).trim();

  beforeAll(async () => {
    await hostExecOk(HOST, ['sh', '-c', [
      'systemctl stop firewalld 2>/dev/null',
      'firewall-offline-cmd --set-default-zone=trusted >/dev/null',
      'systemctl start firewalld',
      'systemctl stop vncplay-fwtest-listener 2>/dev/null; systemctl reset-failed vncplay-fwtest-listener 2>/dev/null; true',
    ].join('\n')]);
    await hostExecOk(HOST, ['systemd-run', '--unit=vncplay-fwtest-listener', 'python3', '-c', LISTENER]);
    [h1, h2, h3] = await Promise.all([sshTo(1), sshTo(2), sshTo(HOST)]);
    for (let i = 0; i < 30 && (await probeFrom(h2)) !== 'matched'; i++) await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    await hostExec(HOST, ['sh', '-c', [
      'systemctl stop vncplay-fwtest-listener',
      'for r in $(seq 10); do firewall-cmd --permanent --list-rich-rules | grep -q 5901 || break; firewall-cmd --permanent --remove-rich-rule="$(firewall-cmd --permanent --list-rich-rules | grep 5901 | head -1)" >/dev/null; done',
      'systemctl stop firewalld',
      'firewall-offline-cmd --set-default-zone=public >/dev/null',
    ].join('\n')]);
    // A host reset by another test file mid-run must not hang the hook on a dead connection.
    await Promise.race([Promise.all([h1, h2, h3].map((c) => c?.close())), new Promise((r) => setTimeout(r, 5000))]);
  });

  it('auto picks firewalld when it runs; allow from h2 + drop the rest: h2 connects, h1 times out', async () => {
    const a = await run(firewall, { port: 5901, source: addr(2), action: 'accept', persistent: true }, h3);
    const d = await run(firewall, { port: 5901, action: 'drop', persistent: true }, h3);
    expect([a.changed, a.failed, d.changed, d.failed, d.data['backend']]).toEqual([true, false, true, false, 'firewalld']);
    expect(await rich()).toContain(`rule priority="-10" family="ipv4" source address="${addr(2)}/32" port port="5901" protocol="tcp" accept`);
    expect(await rich(true)).toContain('port port="5901" protocol="tcp" drop');
    expect(await probeFrom(h2)).toBe('matched');
    expect(await probeFrom(h1)).toBe('connect timed out');
  });

  it('second run changes nothing; --check of the removal reports it and changes nothing', async () => {
    expect((await run(firewall, { port: 5901, source: addr(2), action: 'accept', persistent: true }, h3)).changed).toBe(false);
    expect((await run(firewall, { port: 5901, action: 'drop', persistent: true }, h3)).changed).toBe(false);
    const before = await rich();
    expect((await run(firewall, { port: 5901, action: 'drop', persistent: true, state: 'absent' }, h3, true)).changed).toBe(true);
    expect(await rich()).toBe(before);
  });

  it('absent removes runtime and permanent rules; h1 connects again', async () => {
    for (const args of [{ port: 5901, action: 'drop' }, { port: 5901, source: addr(2), action: 'accept' }]) {
      expect((await run(firewall, { ...args, persistent: true, state: 'absent' }, h3)).changed).toBe(true);
    }
    expect(await rich()).not.toContain('5901');
    expect(await rich(true)).not.toContain('5901');
    expect(await probeFrom(h1)).toBe('matched');
  });
});

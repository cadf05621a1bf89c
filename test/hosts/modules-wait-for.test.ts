// wait_for on a real fleet host (h2): path states, drained with exclude_hosts, delay, and that it never changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection/ssh.js';
import type { Connection } from '../../src/connection/types.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetBridgeAddress, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const HOST = 2;
const FILE = '/tmp/vncplay-waitfor-ready';

describe.skipIf(!fleetAvailable())('wait_for on h2', () => {
  let conn: Connection;
  const host = fleetAvailable() ? fleetHosts()[HOST - 1]! : { address: '', name: 'h2' };
  const run = (args: Record<string, unknown>, check = false): Promise<InvokeResult> =>
    invokeModule(waitFor, args, {
      hostName: host.name, conn, check, diff: false, become: true, signal: new AbortController().signal,
      vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
    });

  beforeAll(async () => {
    await hostExec(HOST, ['rm', '-f', FILE]);
    conn = await connect({
      hostName: host.name, connection: 'ssh', address: host.address, port: 22, user: 'vncplay', privateKeyFile: fleetKey(),
      become: true, becomeUser: 'root', hostKeyChecking: 'strict', knownHostsFiles: [fleetKnownHosts()], connectTimeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await hostExec(HOST, ['rm', '-f', FILE]);
    await conn?.close();
  });

  it('path: waits until a file appears with matching content, returns its groups (and runs under --check)', async () => {
    // The file appears 1.5 s after the wait starts, written on the host.
    setTimeout(() => void hostExecOk(HOST, ['sh', '-c', `printf 'booting\\nready display=:1 port=5901\\n' > ${FILE}`]), 1500);
    const r = await run({ path: FILE, search_regex: 'ready display=(?P<display>:\\d+) port=(\\d+)', timeout: 20, sleep: 0.5 }, true);
    expect([r.changed, r.failed, r.skipped]).toEqual([false, false, false]);
    expect(r.data['match_groups']).toEqual([':1', '5901']);
    expect(r.data['match_groupdict']).toEqual({ display: ':1' });
    expect(r.data['elapsed']).toBeGreaterThanOrEqual(1);
  });

  it('path absent: times out while the file exists, succeeds once removed', async () => {
    const stuck = await run({ path: FILE, state: 'absent', timeout: 1, sleep: 0.3 });
    expect([stuck.failed, stuck.msg]).toEqual([true, `Timeout when waiting for ${FILE} to be absent. (last seen: file still exists)`]);
    await hostExecOk(HOST, ['rm', '-f', FILE]);
    expect((await run({ path: FILE, state: 'absent', timeout: 5 })).failed).toBe(false);
  });

  it('drained: our own SSH connections keep port 22 busy unless the controller is excluded', async () => {
    const busy = await run({ port: 22, state: 'drained', timeout: 1, sleep: 0.3 });
    expect(busy.failed).toBe(true);
    expect(busy.msg).toMatch(/Timeout when waiting for 127\.0\.0\.1:22 to drain \(last seen: \d+ active connection\(s\) on port 22\)/);
    const excluded = await run({ port: 22, state: 'drained', exclude_hosts: [fleetBridgeAddress()], timeout: 5 });
    expect(excluded.failed).toBe(false);
  });

  it('delay is waited before the first probe and counted in elapsed', async () => {
    const r = await run({ port: 22, delay: 2, timeout: 10 });
    expect([r.failed, r.changed]).toEqual([false, false]);
    expect(r.data['elapsed']).toBeGreaterThanOrEqual(2);
  });

  it('metacharacters in host, path and search_regex stay data: the canary never appears', async () => {
    await hostExec(HOST, ['rm', '-f', '/tmp/pwned']);
    const evil = ['$(touch /tmp/pwned)', '`touch /tmp/pwned`', "'; touch /tmp/pwned; '", '"; touch /tmp/pwned; "', 'x\ntouch /tmp/pwned'];
    for (const e of evil) {
      expect((await run({ host: e, port: 22, timeout: 0.5, sleep: 0.2 })).failed).toBe(true);
      expect((await run({ path: `/tmp/${e}`, timeout: 0.3, sleep: 0.1 })).failed).toBe(true);
      expect((await run({ port: 22, search_regex: e, timeout: 0.5, connect_timeout: 0.3 })).failed).toBe(true);
    }
    expect((await hostExec(HOST, ['test', '-e', '/tmp/pwned'])).code).not.toBe(0);
  });

  it('an invalid python regex fails with a clear message', async () => {
    const r = await run({ port: 22, search_regex: '(unclosed', timeout: 2 });
    expect([r.failed, r.msg]).toEqual([true, expect.stringMatching(/^wait_for: search_regex does not compile/)]);
  });
});

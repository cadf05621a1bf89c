import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetAddress, fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { vncplay } from '../support/cli-helpers.js';

describe.skipIf(!fleetAvailable())('firewall through the runner', () => {
  it('proves with a second, fresh SSH connection that the host still lets vncplay in, so the rollback is cancelled', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-fw-'));
    const h1 = fleetHosts()[0]!;
    const inventory = path.join(dir, 'inventory.ini');
    await writeFile(
      inventory,
      `h1 ansible_host=${h1.address} ansible_user=vncplay ansible_become=true ansible_ssh_private_key_file=${fleetKey()} vncplay_known_hosts_file=${fleetKnownHosts()}\n`,
    );
    const rule = (state: string) => `- hosts: h1
  gather_facts: false
  tasks:
    - firewall:
        port: "5999"
        source: ${fleetAddress(250)}
        action: drop
        backend: nftables
        rollback_timeout: 5
        state: ${state}
`;
    const pb = path.join(dir, 'fw.yml');
    await writeFile(pb, rule('present'));
    // The journal from here on (a cursor, not a time: a second can hold logins of the test file that ran before).
    const cursor = /^-- cursor: (.*)$/m.exec(await hostExecOk(1, ['journalctl', '-u', 'ssh', '-n', '0', '--show-cursor']))?.[1];
    expect(cursor).toBeDefined();
    try {
      const r = await vncplay([pb, '-i', inventory]);
      expect(r.code, r.stdout).toBe(0);
      expect(r.recap['h1']!.changed).toBe(1);
      const log = await hostExecOk(1, ['journalctl', '-u', 'ssh', `--after-cursor=${cursor!}`, '--no-pager', '-o', 'cat']);
      // The run's own connection and the lockout probe's.
      expect(log.match(/Accepted publickey for vncplay/g)?.length, log).toBe(2);
      // Past the 5 s rollback timer the rule is still there: the probe succeeded and finish() disarmed it.
      await new Promise((r) => setTimeout(r, 7000));
      expect(await hostExecOk(1, ['nft', 'list', 'table', 'inet', 'vncplay'])).toContain(`${fleetAddress(250)} `);
    } finally {
      await writeFile(pb, rule('absent'));
      await vncplay([pb, '-i', inventory]);
      await hostExec(1, ['nft', 'delete', 'table', 'inet', 'vncplay']);
    }
  });
});

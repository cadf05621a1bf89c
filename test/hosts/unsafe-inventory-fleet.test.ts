import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { RunEvent } from '../../src/runner/events.js';
import { runPlaybook } from '../../src/runner/run.js';

/**
 * Over real SSH: every connection setting of h1 written `!unsafe` (address, user, key, known_hosts file) still
 * connects and becomes root, and a group_vars password written `!unsafe` lands byte for byte in a file on the
 * host, with its `$( )` never run and its `{{`/`{%` never rendered.
 */

const PW = "a{%b{{c $(touch /tmp/vncplay-unsafe-canary) 'q\"";

describe.skipIf(!fleetAvailable())('!unsafe inventory values on a fleet host', () => {
  it('connects with !unsafe connection vars and writes the !unsafe password literally', async () => {
    const h1 = fleetHosts()[0]!;
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-unsafe-fleet-'));
    const dest = `/tmp/vncplay-unsafe-${process.pid}-${Date.now()}.txt`;
    const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
    mkdirSync(path.join(dir, 'group_vars'));
    writeFileSync(
      path.join(dir, 'hosts.yml'),
      [
        'vnc:',
        '  hosts:',
        '    h1:',
        `      ansible_host: !unsafe ${q(h1.address)}`,
        '      ansible_user: !unsafe vncplay',
        `      ansible_ssh_private_key_file: !unsafe ${q(fleetKey())}`,
        `      vncplay_known_hosts_file: !unsafe ${q(fleetKnownHosts())}`,
        "      ansible_become: !unsafe 'true'",
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'group_vars', 'vnc.yml'), `vnc_password: !unsafe ${q(PW)}\n`);
    writeFileSync(
      path.join(dir, 'play.yml'),
      `- hosts: vnc
  gather_facts: false
  tasks:
    - name: whoami
      command: id -u
      register: who
      changed_when: false
    - name: put
      copy:
        content: "{{ vnc_password }}"
        dest: ${dest}
        mode: "0600"
`,
    );
    await hostExec(h1.name, ['rm', '-f', '/tmp/vncplay-unsafe-canary']);
    const inventory = await loadInventory(path.join(dir, 'hosts.yml'), dir);
    const events: RunEvent[] = [];
    try {
      const r = await runPlaybook({ playbook: await loadPlaybook(path.join(dir, 'play.yml')), inventory, onEvent: (e) => events.push(e) });
      const results = events.filter((e): e is Extract<RunEvent, { type: 'task_result' }> => e.type === 'task_result');
      expect(r.exitCode, JSON.stringify(results)).toBe(0);
      expect(results.find((e) => e.task.name === 'whoami')?.result?.['stdout']).toBe('0');
      expect(await hostExecOk(h1.name, ['cat', dest])).toBe(PW);
      expect((await hostExec(h1.name, ['test', '-e', '/tmp/vncplay-unsafe-canary'])).code).not.toBe(0);
    } finally {
      await hostExec(h1.name, ['rm', '-f', dest]);
    }
  }, 60_000);
});

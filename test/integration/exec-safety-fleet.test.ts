import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts } from '../fleet/fleet.js';
import { vncplay } from './cli-helpers.js';

/**
 * Issue 13's execution items through the real CLI and the real line session on fleet host h1: bare connection
 * names never redirect SSH (M8).
 */

const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-exec-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An inventory for h1 with its ansible_* connection variables and the extra host variables given. */
function inventory(extra: Record<string, unknown>): string {
  const h1 = fleetHosts()[0]!;
  const file = path.join(dir, 'inventory.yml');
  const vars = {
    ansible_host: h1.address,
    ansible_user: 'vncplay',
    ansible_ssh_private_key_file: fleetKey(),
    ansible_ssh_known_hosts_file: fleetKnownHosts(),
    ...extra,
  };
  writeFileSync(file, JSON.stringify({ vnc: { hosts: { h1: vars } } }));
  return file;
}

function playbook(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!fleetAvailable())('execution safety on a fleet host', () => {
  it('M8: bare host/port/user/connection variables (inventory and -e) are ordinary variables, as in Ansible', async () => {
    const inv = inventory({ port: 5901, user: 'nobody', remote_user: 'nobody' });
    const play = playbook(
      'bare-vars.yml',
      `- hosts: vnc
  gather_facts: false
  tasks:
    - command: hostname
      register: where
    - debug:
        msg: "{{ where.stdout }} {{ port }} {{ host }} {{ user }}"
`,
    );
    const r = await vncplay([play, '-i', inv, '-e', 'port=5902', '-e', 'host=198.18.0.250', '-e', 'connection=local', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const msg = r.events.flatMap((e) => (e.type === 'task_result' && e.result?.['msg'] !== undefined ? [e.result['msg']] : []));
    expect(msg).toEqual(['h1 5902 198.18.0.250 nobody']);
  }, 60_000);
});

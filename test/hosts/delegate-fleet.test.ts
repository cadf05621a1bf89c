import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';

/**
 * delegate_to another inventory host, on the real fleet, side by side with ansible-playbook (issue 16). Each task
 * checks what it ran into with failed_when, so the same recap under both tools means the same behaviour:
 * h2 is reached with its own address and become variables (h1 does not become, h2 does), delegate_to may be a
 * template, delegate_facts sends facts to the delegated host, run_once + delegate_to runs once, a name the
 * inventory lacks is connected to by name with group all's variables, and inventory_hostname stays the task's host.
 */
describe.skipIf(!fleetAvailable())('delegate_to on the fleet', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-delegate-'));
    await chmod(dir, 0o755);
    const [h1, h2, h3] = fleetHosts();
    await writeFile(
      path.join(dir, 'hosts.yml'),
      `all:
  vars:
    ansible_user: vncplay
    ansible_ssh_private_key_file: ${fleetKey()}
    ansible_python_interpreter: /usr/bin/python3
    ansible_ssh_common_args: -o UserKnownHostsFile=${fleetKnownHosts()} -o StrictHostKeyChecking=yes
  children:
    web:
      hosts:
        h1: { ansible_host: ${h1!.address} }
    db:
      hosts:
        h2: { ansible_host: ${h2!.address}, ansible_become: true }
        h3: { ansible_host: ${h3!.address} }
`,
    );
    await writeFile(
      path.join(dir, 'delegate.yml'),
      `- hosts: web
  gather_facts: false
  tasks:
    - name: runs on the delegated host
      command: hostname
      delegate_to: h2
      register: there
      changed_when: false
      failed_when: there.stdout != 'h2'
    - name: with the delegated host's become variables
      command: id -un
      delegate_to: h2
      register: who
      changed_when: false
      failed_when: who.stdout != 'root'
    - name: not delegated, h1 does not become
      command: id -un
      register: here
      changed_when: false
      failed_when: here.stdout != 'vncplay'
    - name: templated delegate_to, inventory_hostname stays the task's host
      command: echo {{ inventory_hostname }}
      delegate_to: "{{ groups['db'][1] }}"
      register: templated
      changed_when: false
      failed_when: templated.stdout != 'h1'
    - name: a block's delegate_to
      block:
        - name: inside the block
          command: hostname
          register: in_block
          changed_when: false
          failed_when: in_block.stdout != 'h3'
      delegate_to: h3
    - name: facts gathered on h3 for h3
      setup:
      delegate_to: h3
      delegate_facts: true
    - name: set_fact for h2
      set_fact:
        marker: from-h1
      delegate_to: h2
      delegate_facts: true
    - name: facts without delegate_facts stay on h1
      set_fact:
        mine: kept
      delegate_to: h2
    - name: where the facts went
      assert:
        that:
          - hostvars['h3'].ansible_facts.hostname == 'h3'
          - ansible_facts.hostname is not defined
          - hostvars['h2'].marker == 'from-h1'
          - marker is not defined
          - mine == 'kept'
    - name: a host the inventory lacks, reached by its address with group all's variables
      command: hostname
      delegate_to: ${h3!.address}
      register: by_address
      changed_when: false
      failed_when: by_address.stdout != 'h3'

- hosts: db
  gather_facts: false
  tasks:
    - name: once, on h1
      command: hostname
      run_once: true
      delegate_to: h1
      register: once
      changed_when: false
      failed_when: once.stdout != 'h1'
    - name: every host has the one result
      assert:
        that:
          - once.stdout == 'h1'
`,
    );
  });

  async function both(args: string[]): Promise<{ ours: CliRun; theirs: CliRun }> {
    const theirs = await ansiblePlaybook(args, { cwd: dir, env: { ANSIBLE_HOST_KEY_CHECKING: 'True' } });
    const ours = await vncplay(args, { cwd: dir });
    return { ours, theirs };
  }

  it('runs delegated tasks with the delegated host\'s connection and become, as ansible-playbook does', async () => {
    const { ours, theirs } = await both(['delegate.yml', '-i', 'hosts.yml']);
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    expect(ours.recap['h1']).toMatchObject({ ok: 10, failed: 0 });
    expect(ours.recap['h2']).toMatchObject({ ok: 2, failed: 0 });
    // Both show where a delegated task ran.
    for (const out of [ours.stdout, theirs.stdout]) expect(out).toMatch(/ok: \[h1 -> h2[\](]/);
    expect(ours.stdout + ours.stderr).toMatch(new RegExp(`'${h3Address().replace(/\./g, '\\.')}' is not an inventory host`));
  });

  it('refuses a literal delegate_to that is neither an inventory host nor a resolvable name, before connecting', async () => {
    await writeFile(
      path.join(dir, 'typo.yml'),
      `- hosts: web
  gather_facts: false
  tasks:
    - name: first
      command: hostname
    - name: typo
      command: hostname
      delegate_to: h22
`,
    );
    const ours = await vncplay(['typo.yml', '-i', 'hosts.yml'], { cwd: dir });
    expect(ours.code).toBe(4);
    expect(ours.stderr).toContain(`typo.yml:8:20: error[E_UNKNOWN_DELEGATE]: delegate_to: 'h22' is not an inventory host, and the name does not resolve to an address`);
    expect(ours.stderr).toContain("did you mean 'h2'?");
    expect(ours.stdout).not.toContain('first');
  });
});

function h3Address(): string {
  return fleetHosts()[2]!.address;
}

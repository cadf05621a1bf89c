import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { localInventory, writeProject } from '../support/module-parity.js';

/**
 * Issue 16: `any_errors_fatal` on a task and on a block, besides the play, as Ansible inherits it (task, then its
 * blocks, then the play; a task's own `false` wins). A failure that a rescue catches does not end the play; one on
 * a fatal task ends it for every host of the batch and stops the playbook. Three hosts on the controller
 * (ansible_connection=local): the same recap for each host and the same exit code from both tools.
 */

const playbook = `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: a rescued failure does not end the play
      block:
        - name: fails on h3
          fail: msg=rescueme
          when: inventory_hostname == 'h3'
      rescue:
        - name: rescued
          debug: msg=rescued
    - name: a task that says false overrides the play
      fail: msg=notfatal
      when: inventory_hostname == 'h1'
      any_errors_fatal: false
    - name: still running
      debug: msg=on
- hosts: all
  gather_facts: false
  tasks:
    - name: play two runs on the hosts left
      debug: msg=two
    - block:
        - name: fatal in a block
          fail: msg=fatal
          when: inventory_hostname == 'h2'
        - name: not reached
          debug: msg=no
      any_errors_fatal: true
    - name: never
      debug: msg=never
- hosts: all
  gather_facts: false
  tasks:
    - name: the playbook has stopped
      debug: msg=three
`;

const dir = writeProject({ 'pb.yml': playbook, 'inv.ini': localInventory(['h1', 'h2', 'h3']) });

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('any_errors_fatal on tasks and blocks, as ansible-playbook applies it', () => {
  it('ends the play for every host where Ansible does: the same recaps and exit code', async () => {
    const args = ['-i', 'inv.ini', 'pb.yml'];
    const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir }), await vncplay(args, { cwd: dir })];
    expect(ours.recap, ours.stdout + ours.stderr).toEqual(theirs.recap);
    expect(ours.code).toBe(theirs.code);
    expect(ours.code).toBe(2);
    expect(ours.recap['h3']).toMatchObject({ ok: 3, failed: 0, rescued: 1 });
    expect(ours.stdout).not.toMatch(/TASK \[(never|not reached|the playbook has stopped)\]/);
  });
});

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { counts, runBoth, writeProject, type ParityRun } from '../support/module-parity.js';

/**
 * Issue 16: `module_defaults` on a play, a block and a task, as Ansible applies them: names resolved (`debug`,
 * `ansible.builtin.debug` and `ansible.legacy.debug` are one entry), the innermost entry for a module taken whole,
 * the task's own arguments over it, values templated when the task runs; role tasks and included tasks inherit
 * them; a default may give a required parameter (stat's path), so the load-time check counts it (also for files
 * and roles an include loads when the run reaches it). Both tools run
 * the same playbook on the controller: the same recap and the same values the tasks received.
 */

const files = {
  'roles/r/tasks/main.yml': '- name: role task sees the play defaults\n  stat:\n  register: from_role\n',
  'inc.yml': '- name: included task sees the block defaults\n  debug:\n  register: from_include\n',
  // Loaded when the run reaches it: its check too counts the defaults around the include.
  'inc-stat.yml': '- name: included stat takes its path from the play\n  stat:\n  register: inc_stat\n',
};

const playbook = `
- hosts: localhost
  gather_facts: false
  vars:
    word: templated
  module_defaults:
    stat: {path: /etc/hostname}
    ansible.builtin.debug: {msg: from play}
  roles: [r]
  tasks:
    - name: stat from play defaults
      stat:
      register: s1
    - name: debug default
      debug:
      register: d1
    - block:
        - name: the block replaces the play's entry
          debug:
          register: d2
        - name: the task's own argument wins
          debug: msg=own
          register: d3
        - name: task-level defaults under the legacy name
          debug:
          module_defaults:
            ansible.legacy.debug: {msg: "{{ word }}"}
          register: d4
        - include_tasks: inc.yml
      module_defaults:
        debug: {msg: from block}
    - include_tasks: "{{ 'inc-stat.yml' }}"
    - include_role: {name: r}
    - name: show
      debug: msg="{{ [from_role.stat.path, s1.stat.path, d1.msg, d2.msg, d3.msg, d4.msg, from_include.msg, inc_stat.stat.path] }}"
`;

const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

describe('module_defaults, as ansible-playbook applies them', () => {
  it('gives each task the same arguments', async () => {
    run = await runBoth(playbook, { inventory, host: 'localhost', files });
    expect(run.theirsOutput).not.toMatch(/ERROR!/);
    expect(counts(run.oursRecap), run.oursOutput).toEqual(counts(run.theirsRecap));
    expect(run.ours['show']?.['msg']).toEqual(run.theirs['show']?.['msg']);
    expect(run.ours['show']?.['msg']).toEqual(['/etc/hostname', '/etc/hostname', 'from play', 'from block', 'own', 'templated', 'from block', '/etc/hostname']);
  });

  it('a name that is no module is refused at load, as Ansible refuses it', async () => {
    const dir = writeProject({ 'pb.yml': '- hosts: localhost\n  module_defaults:\n    no_such_module: {x: 1}\n  tasks: []\n', 'inv.ini': inventory.text });
    try {
      const args = ['-i', 'inv.ini', '--syntax-check', 'pb.yml'];
      const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir }), await vncplay(args, { cwd: dir })];
      expect(theirs.stderr).toMatch(/Could not resolve action ansible\.legacy\.no_such_module in module_defaults/);
      expect(theirs.code).not.toBe(0);
      expect(ours.code).not.toBe(0);
      expect(ours.stderr).toMatch(/^pb\.yml:3:5: error\[E_UNKNOWN_MODULE\]: Could not resolve action ansible\.legacy\.no_such_module in module_defaults/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

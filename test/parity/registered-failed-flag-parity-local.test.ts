import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, debugMessages, vncplay } from '../support/cli-helpers.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * What `register:` stores, side by side with ansible-playbook: `failed: false` on every result of a module that ran
 * (roles read `result.failed` directly: evrardjp's keepalived role does), each loop item's included, but not on a
 * task its `when` skipped nor on a loop's summary.
 */
const files: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - stat: path=/etc/hostname
      register: r_stat
    - set_fact: x=1
      register: r_fact
    - command: "true"
      register: r_cmd
    - command: "false"
      register: r_false
      ignore_errors: true
    - command: "true"
      when: false
      register: r_skipped
    - command: "echo {{ item }}"
      loop: [a, b]
      register: r_loop
    - command: "echo {{ item }}"
      loop: [a]
      when: false
      register: r_loop_skipped
    - debug:
        msg: "{{ [r_stat, r_fact, r_cmd, r_false, r_skipped, r_loop, r_loop_skipped] | map(attribute='failed', default='absent') | list }} {{ r_loop.results | map(attribute='failed') | list }} {{ r_loop_skipped.results | map(attribute='failed', default='absent') | list }} {{ r_stat.failed is sameas false }}"
`,
};

describe('registered results carry failed: false as Ansible registers them', () => {
  const dir = tempTree(files, 'vncplay-registered-');

  it('on module results and loop items, not on skipped tasks or loop summaries', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dir });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(debugMessages(ours)).toEqual(debugMessages(theirs));
    expect(debugMessages(ours)).toEqual([`"msg": "[False, False, False, True, 'absent', 'absent', 'absent'] [False, False] ['absent'] True"`]);
    expect(ours.recap).toEqual(theirs.recap);
  });
});

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * A loop whose terms read an undefined variable, on a task whose `when` is false, is skipped: Ansible's
 * TaskExecutor.run keeps the loop's AnsibleUndefinedVariable aside (`_loop_eval_error`), evaluates `when` without
 * an item, and raises the loop's error only when the task would run (`when` true, or `when` failing itself, e.g.
 * reading `item`). The error is then the task's failed result, which ignore_errors ignores (a looped include_role is
 * a skipped result then, and with no items too). with_first_found leaves
 * out a whole term (a mapping of files and paths too) that reads an undefined variable. The load-time
 * undefined-variable pass must not refuse what Ansible skips.
 */

const playbook = `
- hosts: target
  gather_facts: false
  tasks:
    - name: undefined loop, when false
      debug: msg="{{ item }}"
      loop: "{{ not_defined_anywhere }}"
      when: false
      register: skipped_loop
    - name: undefined with_items, when false on a variable
      debug: msg="{{ item }}"
      with_items: "{{ facts_not_gathered.packages }}"
      when: run_it | default(false)
    - name: looped include, when false
      include_tasks: inc.yml
      loop: "{{ not_defined_anywhere }}"
      when: false
    - name: looped include_role, when false
      include_role: {name: r}
      loop: "{{ not_defined_anywhere }}"
      when: false
    - name: looped include_role, no items
      include_role: {name: r}
      loop: []
    - name: first_found mapping term with an undefined name
      debug: msg="{{ item }}"
      with_first_found:
        - files: ["{{ ansible_distribution }}.yml", "default.yml"]
          paths: ["{{ playbook_dir }}"]
      when: false
      ignore_errors: true
    - name: first_found plain terms
      debug: msg="{{ item }}"
      with_first_found:
        - "{{ ansible_distribution }}.yml"
        - default.yml
      when: false
    - name: when reads the item
      debug: msg="{{ item }}"
      with_items: "{{ not_defined_anywhere }}"
      when: item == 1
      ignore_errors: true
    - name: when true
      debug: msg="{{ item }}"
      loop: "{{ not_defined_anywhere }}"
      when: true
      ignore_errors: true
    - name: registered
      debug: var=skipped_loop
`;

let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

describe('a loop over an undefined variable under a false when, as ansible-playbook runs it', () => {
  it('skips the task, and fails (ignorably) only where the task would run: same results and recap', async () => {
    run = await runBoth(playbook, {
      inventory: { text: 'target ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
      host: 'target',
      files: { 'default.yml': '', 'inc.yml': '- debug: msg=included\n', 'roles/r/tasks/main.yml': '- debug: msg=in_the_role\n' },
    });
    const output = `--- ansible\n${run.theirsOutput}\n--- vncplay\n${run.oursOutput}`;
    expect(counts(run.oursRecap), output).toEqual(counts(run.theirsRecap));
    expect(counts(run.oursRecap)).toEqual({ ok: 4, changed: 0, failed: 0, skipped: 6, ignored: 3 });
    const fields = ['skipped', 'skip_reason', 'failed'];
    expect(pick(run.ours, fields), output).toEqual(pick(run.theirs, fields));
    expect(run.ours['undefined loop, when false']).toEqual({ changed: false, skipped: true, skip_reason: 'Conditional result was False' });
    expect(run.ours['first_found mapping term with an undefined name']?.['msg']).toMatch(/no file was found/i);
  });
});

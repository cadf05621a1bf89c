import { describe, expect, it } from 'vitest';
import { tempTree } from '../support/temp-tree.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Issue 16, one effective task plan (src/playbook/plan.ts): what --list-tasks, --list-tags and a run make of tags,
 * `when` and keywords handed down through nested blocks, roles, import_tasks and include_tasks, side by side with
 * ansible-playbook on a local play.
 */

const files: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'roles/r1/tasks/main.yml': `
- name: role task
  debug: msg=r
  tags: [rt]
- block:
    - name: role block task
      debug: msg=rb
  tags: [rb]
- import_tasks: imp.yml
  tags: [rimp]
`,
  'roles/r1/tasks/imp.yml': '- name: role imported\n  debug: msg=ri\n',
  'imp.yml': `
- name: imported one
  debug: msg=i1
  tags: [own]
- block:
    - name: imported block task
      debug: msg=ib
      when: true
  tags: [iblock]
`,
  'inc.yml': '- name: included one\n  debug: msg=inc\n',
  'p.yml': `
- hosts: all
  gather_facts: false
  tags: [playtag]
  roles:
    - role: r1
      tags: [roletag]
  pre_tasks:
    - name: pre
      debug: msg=pre
      tags: [pre]
  tasks:
    - block:
        - name: outer block task
          debug: msg=o
          tags: [t1]
        - block:
            - name: inner block task
              debug: msg=in
              tags: [t2]
            - import_tasks: imp.yml
              tags: [imptag]
            - include_tasks: inc.yml
              tags: [inctag]
              when: true
          tags: [inner]
          when: true
      rescue:
        - name: rescuer
          debug: msg=r
          tags: [resc]
      always:
        - name: always task
          debug: msg=a
      tags: [outer]
    - name: never one
      debug: msg=n
      tags: [never, nv]
    - name: always one
      debug: msg=al
      tags: [always]
    - include_role:
        name: r1
      tags: [incrole]
  post_tasks:
    - debug: msg=post
- hosts: localhost
  gather_facts: false
  tasks:
    - name: second play
      debug: msg=2
      tags: [p2]
`,
  'run.yml': `
- hosts: all
  gather_facts: false
  vars: { go: false }
  environment: { PLAYENV: play }
  tasks:
    - block:
        - name: env in block
          command: sh -c 'echo "$PLAYENV $BLOCKENV"'
          register: envout
        - debug: msg="env={{ envout.stdout }}"
        - block:
            - debug: msg=inner-skipped-by-when
          when: go
        - include_tasks: inc.yml
          when: not go
          tags: [inctag]
        - import_tasks: imp.yml
          when: go
        - fail: msg=boom
          tags: [t1]
      rescue:
        - debug: msg="rescued '{{ ansible_failed_task.name }}'"
      always:
        - debug: msg=always-ran
      environment: { BLOCKENV: block }
      tags: [outer]
`,
};

describe('one effective task plan, as ansible-playbook resolves it', () => {
  const dir = tempTree(files, 'vncplay-plan-');

  // Each selection is one ansible-playbook run: the whole output (headers, tasks, tags) must be the same.
  it.each([
    ['--list-tasks'],
    ['--list-tags'],
    ['--list-tasks', '--list-tags', '--tags', 'inner'],
    ['--list-tasks', '--skip-tags', 'outer'],
    ['--list-tags', '--tags', 'never', '--skip-tags', 't2'],
  ])('nested blocks, roles, import_tasks and include_tasks: the same %s output', async (...flags) => {
    const args = ['-i', 'inv', 'p.yml', ...flags];
    const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('a run: the when chain, block environment, rescue and always give the same messages and recap', async () => {
    const args = ['-i', 'inv', 'run.yml'];
    const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
    const messages = (out: string): string[] => out.split('\n').filter((l) => l.trimStart().startsWith('"msg"'));
    expect(messages(ours.stdout)).toEqual(messages(theirs.stdout));
    expect(messages(ours.stdout)).toContain(`    "msg": "env=play block"`);
    expect(ours.recap).toEqual(theirs.recap);
  });
});

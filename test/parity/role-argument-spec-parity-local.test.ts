import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { counts, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * Issue 16 (corpus: devsec os_hardening and ssh_hardening list one task more under Ansible): a role whose entry
 * point has an argument spec (meta/argument_specs.yml, or `argument_specs` in meta/main.yml) starts with Ansible's
 * "Validating arguments against arg spec 'ENTRY' - DESCRIPTION" task, tagged always, which checks the role's
 * variables and parameters. Both tools run the same project on the controller: the same --list-tasks (with and
 * without --tags), the same recap, and the same checks passing or failing.
 */

const role = {
  'roles/greeter/meta/argument_specs.yml': `argument_specs:
  main:
    short_description: Greets a user.
    options:
      user: {type: str, required: true}
      port: {type: int, default: 5900}
      mood: {type: str, choices: [happy, sad]}
      names: {type: list, elements: str}
  other:
    options:
      level: {type: int}
`,
  // A string the spec converts to an int, as Ansible converts it.
  'roles/greeter/defaults/main.yml': 'port: "5901"\n',
  'roles/greeter/tasks/main.yml': '- name: greet\n  debug: msg="hi {{ user }} on {{ port }}"\n  tags: [greet]\n',
  'roles/greeter/tasks/other.yml': '- name: other\n  debug: msg="level {{ level }}"\n',
  'roles/greeter/tasks/nospec.yml': '- name: no spec for this entry point\n  debug: msg=none\n',
  // The spec in meta/main.yml, as older roles write it.
  'roles/legacy/meta/main.yml': 'argument_specs:\n  main:\n    options:\n      size: {type: int, required: true}\n',
  'roles/legacy/tasks/main.yml': '- name: sized\n  debug: msg="{{ size }}"\n',
};

const playbook = `
- hosts: localhost
  gather_facts: false
  roles:
    - role: greeter
      user: bob
      names: a,b
    - role: legacy
      size: "3"
  tasks:
    - import_role: {name: greeter, tasks_from: other}
      vars: {level: "3"}
    - import_role: {name: greeter, tasks_from: nospec}
    - block:
        - include_role: {name: greeter}
          vars: {user: amy, mood: angry}
      rescue:
        - name: choices refused
          debug: msg="{{ ansible_failed_result.argument_errors | length }} {{ ansible_failed_result.validate_args_context.argument_spec_name }}"
    - block:
        - include_role: {name: greeter, tasks_from: other}
          vars: {level: [1]}
      rescue:
        - name: type refused
          debug: msg="{{ ansible_failed_result.argument_errors | length }} {{ ansible_failed_result.validate_args_context.argument_spec_name }}"
- hosts: localhost
  gather_facts: false
  roles:
    - role: greeter
      user: bob
      extra: 1
`;

const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

describe("a role's argument spec, checked by the task Ansible prepends", () => {
  it('runs the checks: the same recap, the same checks failing', async () => {
    run = await runBoth(playbook, { inventory, host: 'localhost', files: role });
    expect(run.theirsOutput).not.toMatch(/ERROR!/);
    expect(counts(run.oursRecap), run.oursOutput).toEqual(counts(run.theirsRecap));
    expect(counts(run.oursRecap)).toEqual({ ok: 9, changed: 0, failed: 1, skipped: 0, ignored: 0 });
    for (const name of ['choices refused', 'type refused']) expect(run.ours[name]?.['msg']).toBe(run.theirs[name]?.['msg']);
    expect(run.ours['choices refused']?.['msg']).toBe('1 main');
    // The last play: a role parameter the spec does not name.
    const check = "greeter : Validating arguments against arg spec 'main' - Greets a user.";
    expect(run.theirs[check]?.['argument_errors']).toEqual(['extra. Supported parameters include: mood, names, port, user.']);
    expect(run.ours[check]?.['argument_errors']).toEqual(['unknown parameter `extra` for role `greeter`']);
    expect(run.ours[check]?.['validate_args_context']).toEqual(run.theirs[check]?.['validate_args_context']);
    expect(run.ours[check]?.['failed']).toBe(true);
  });

  it('--list-tasks shows the check first in each role, tagged always, as ansible-playbook does', async () => {
    for (const extra of [[], ['--tags', 'greet']]) {
      const args = ['-i', path.join(run.dir, 'inventory.ini'), '--list-tasks', 'pb.yml', ...extra];
      const [ours, theirs] = [await vncplay(args, { cwd: run.dir }), await ansiblePlaybook(args, { cwd: run.dir })];
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(theirs.stdout.replace(/^No config file found.*\n/m, ''));
    }
  });
});

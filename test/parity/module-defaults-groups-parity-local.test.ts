import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveActionGroup } from '../../src/modules/action-groups.js';
import { findModule } from '../../src/modules/registry.js';
import { moduleDefaultsKey } from '../../src/playbook/module-defaults.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { counts, pick, runBoth, writeProject, type ParityRun } from '../support/module-parity.js';

/**
 * module_defaults for an action group (`group/NAME`), as Ansible 2.14 applies them (Base._resolve_group,
 * get_action_args_with_defaults): the group's actions come from its collection's meta/runtime.yml `action_groups`
 * (a short group name is ansible.builtin's, whose groups extend the collections' ones); a task gets the entries of
 * the groups holding its module first, then its module's own entry over them, then its own arguments. A group no
 * collection has is refused at load; a variable used in any module_defaults value is checked before the run, since
 * Ansible renders every entry for every task that runs a module. ansible-core's own `testgroup` holds `ping`, which
 * runs on the controller.
 */

const playbook = `
- hosts: localhost
  gather_facts: false
  vars:
    word: templated
  module_defaults:
    group/testgroup: {data: "{{ word }} from the group"}
  tasks:
    - name: the group's entry
      ping:
    - name: the module's own entry over the group's
      ping:
      module_defaults:
        ansible.builtin.ping: {data: own entry}
    - name: the task's own argument over both
      ping: data=task
    - name: a group by its FQCN, in a block
      block:
        - name: the block's group entry replaces the play's
          ping:
      module_defaults:
        group/ansible.builtin.testgroup: {data: from the block}
    - name: a module outside the group
      debug: msg=untouched
`;

const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

async function refusedByBoth(text: string): Promise<{ ours: string; theirs: string }> {
  const dir = writeProject({ 'pb.yml': text, 'inv.ini': inventory.text });
  try {
    const args = ['-i', 'inv.ini', 'pb.yml'];
    const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir }), await vncplay(args, { cwd: dir })];
    expect(theirs.code).not.toBe(0);
    expect(ours.code).not.toBe(0);
    return { ours: ours.stdout + ours.stderr, theirs: theirs.stdout + theirs.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('module_defaults for action groups, as ansible-playbook applies them', () => {
  it('gives each task the same arguments', async () => {
    run = await runBoth(playbook, { inventory, host: 'localhost' });
    const output = `--- ansible\n${run.theirsOutput}\n--- vncplay\n${run.oursOutput}`;
    expect(counts(run.oursRecap), output).toEqual(counts(run.theirsRecap));
    expect(pick(run.ours, ['ping', 'msg']), output).toEqual(pick(run.theirs, ['ping', 'msg']));
    expect(run.ours['the group\'s entry']?.['ping']).toBe('templated from the group');
    expect(run.ours['the block\'s group entry replaces the play\'s']?.['ping']).toBe('from the block');
  });

  it('refuses a group no installed collection has, at its key', async () => {
    const { ours, theirs } = await refusedByBoth('- hosts: localhost\n  gather_facts: false\n  module_defaults:\n    group/no_such_group: {x: 1}\n  tasks: [{ping: }]\n');
    expect(theirs).toMatch(/could not resolve the module_defaults group ansible\.builtin\.no_such_group/);
    expect(ours).toMatch(/^pb\.yml:4:5: error\[E_UNKNOWN_GROUP\]: Error loading module_defaults: could not resolve the module_defaults group ansible\.builtin\.no_such_group/m);
  });

  it('refuses an undefined variable in any module_defaults value before the run, where Ansible fails every task', async () => {
    const { ours, theirs } = await refusedByBoth('- hosts: localhost\n  gather_facts: false\n  module_defaults:\n    file: {owner: "{{ nobody_defines_it }}"}\n  tasks:\n    - debug: msg=hi\n');
    expect(theirs).toMatch(/The field 'module_defaults' has an invalid value, which includes an undefined variable/);
    expect(ours).toMatch(/^pb\.yml:4:19: error\[E_TEMPLATE_UNDEFINED\]: .*undefined variable 'nobody_defines_it'/m);
    expect(ours).not.toMatch(/TASK \[/);
  });

  it("knows the collections' groups, vncplay's own modules that Ansible has in them included", () => {
    const docker = resolveActionGroup('docker');
    expect(docker.fqcn).toBe('ansible.builtin.docker');
    expect(docker.actions?.has(moduleDefaultsKey('docker_container', findModule)!)).toBe(true);
    expect(resolveActionGroup('amazon.aws.aws').actions?.has('amazon.aws.ec2_instance')).toBe(true);
    expect(resolveActionGroup('aws').actions?.has('community.aws.ec2_vpc_vpn')).toBe(true);
    expect(resolveActionGroup('no_such_group').actions).toBeUndefined();
  });
});

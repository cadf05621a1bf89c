import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { TaskDef } from '../../src/playbook/model.js';
import { pick, runBoth, writeProject } from '../support/module-parity.js';

/**
 * A collection of the test's own in `collections/` beside the playbook (Ansible's playbook collections path, searched
 * before collections_path and the system's): its module imports collection module_utils absolutely and relatively,
 * one of them in a folder without __init__.py, and reports the Python name it runs as and the name Ansible passes
 * it; both tools run it on localhost with the same results.
 */
const COLLECTION = 'collections/ansible_collections/vp/tools';

const files: Record<string, string> = {
  [`${COLLECTION}/plugins/modules/greet.py`]: [
    '#!/usr/bin/python',
    'from ansible.module_utils.basic import AnsibleModule',
    'from ..module_utils.words import greeting',
    'from ansible_collections.vp.tools.plugins.module_utils.sub.deep import shout',
    '',
    'def main():',
    "    m = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True)), supports_check_mode=True)",
    "    m.exit_json(changed=not m.check_mode, greeting=shout(greeting(m.params['name'])), module_fqn=_module_fqn, module_name=m._name, runs_as=__spec__.name)",
    '',
    "if __name__ == '__main__':",
    '    main()',
    '',
  ].join('\n'),
  [`${COLLECTION}/plugins/module_utils/words.py`]: "def greeting(name):\n    return 'hello ' + name\n",
  [`${COLLECTION}/plugins/module_utils/sub/deep.py`]: "from ..words import greeting\n\ndef shout(text):\n    return text.upper() + '!'\n",
  // An action plugin of the module's name: Ansible runs it on the controller, which vncplay does not.
  [`${COLLECTION}/plugins/modules/greet_action.py`]: '#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\nAnsibleModule(argument_spec={}).exit_json()\n',
  [`${COLLECTION}/plugins/action/greet_action.py`]: 'from ansible.plugins.action import ActionBase\nclass ActionModule(ActionBase):\n    pass\n',
  [`${COLLECTION}/galaxy.yml`]: 'namespace: vp\nname: tools\nversion: 1.0.0\nreadme: README.md\nauthors: [vncplay]\n',
};

const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: greet
      vp.tools.greet: {name: world}
    - name: greet in check mode
      vp.tools.greet: {name: check}
      check_mode: true
`;

describe('a collection beside the playbook: parity with ansible-playbook on localhost', () => {
  it('runs its module with its module_utils, as the same Python name, with the same results', async () => {
    const run = await runBoth(playbook, { inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' }, host: 'localhost', files });
    const fields = ['changed', 'failed', 'msg', 'greeting', 'module_fqn', 'module_name', 'runs_as'];
    const theirs = pick(run.theirs, fields);
    expect(theirs['greet'], run.theirsOutput.slice(-3000)).toEqual({
      changed: true,
      failed: undefined,
      msg: undefined,
      greeting: 'HELLO WORLD!',
      module_fqn: 'ansible_collections.vp.tools.plugins.modules.greet',
      module_name: 'vp.tools.greet',
      runs_as: 'ansible_collections.vp.tools.plugins.modules.greet',
    });
    expect(theirs['greet in check mode']).toMatchObject({ changed: false, greeting: 'HELLO CHECK!' });
    expect(pick(run.ours, fields), run.oursOutput.slice(-3000)).toEqual(theirs);
  }, 200_000);

  it('loads it from the playbook\'s collections/, and refuses its action plugin at the task, naming the file', async () => {
    const dir = writeProject({
      ...files,
      'pb.yml': '- hosts: all\n  tasks:\n    - vp.tools.greet: {name: x}\n    - name: mkdir\n      vp.tools.greet_action: {}\n',
    });
    const err = await loadPlaybook(path.join(dir, 'pb.yml'), { collectionsPath: [], collectionsScanSysPath: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ErrorList);
    const text = (err as ErrorList).errors.map((e) => e.format()).join('\n');
    expect(text).toContain(
      `pb.yml:5:7: error[E_MODULE_NOT_IMPLEMENTED]: \`vp.tools.greet_action\` is an Ansible module vncplay does not implement yet, and it cannot run from its collection: vp.tools has an action plugin of that name (${path.join(dir, COLLECTION, 'plugins/action/greet_action.py')})`,
    );
    expect((err as ErrorList).errors).toHaveLength(1);
    // Without the action-plugin task the playbook loads, its module file the one beside the playbook.
    const ok = writeProject({ ...files, 'pb.yml': '- hosts: all\n  tasks:\n    - vp.tools.greet: {name: x}\n' });
    const pb = await loadPlaybook(path.join(ok, 'pb.yml'), { collectionsPath: [], collectionsScanSysPath: false });
    const task = pb.plays[0]!.tasks[0] as TaskDef;
    expect(task).toMatchObject({ module: 'vp.tools.greet', libraryFile: path.join(ok, COLLECTION, 'plugins/modules/greet.py'), args: { name: 'x' } });
    // An argument its AnsibleModule does not take (its module_utils imported relatively, as when it runs): refused
    // before the run with the message Ansible fails the task with.
    const wrong = writeProject({ ...files, 'pb.yml': '- hosts: all\n  tasks:\n    - vp.tools.greet: {name: x, color: red}\n' });
    const refused = await loadPlaybook(path.join(wrong, 'pb.yml'), { collectionsPath: [], collectionsScanSysPath: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((refused as ErrorList).errors.map((e) => e.format()).join('\n')).toContain('pb.yml:3:33: error[E_UNKNOWN_PARAM]: Unsupported parameters for (vp.tools.greet) module: color. Supported parameters include: name.');
  });

  it("a collection beside the playbook shadows the system's copy of it (Ansible's playbook paths come first)", async () => {
    // nagios: a module vncplay has not written (a native module, such as make, is vncplay's own wherever it is).
    const mine = 'collections/ansible_collections/community/general/plugins/modules/nagios.py';
    const dir = writeProject({ [mine]: files[`${COLLECTION}/plugins/modules/greet.py`]!, 'pb.yml': '- hosts: all\n  tasks:\n    - nagios: {action: command, command: x}\n' });
    const pb = await loadPlaybook(path.join(dir, 'pb.yml'), { collectionsPath: [], collectionsScanSysPath: true });
    expect(pb.plays[0]!.tasks[0]).toMatchObject({ module: 'nagios', libraryFile: path.join(dir, mine) });
  });
});

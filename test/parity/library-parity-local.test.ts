import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../support/temp-tree.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Modules shipped as files, at load time and on the controller, side by side with ansible-playbook: --list-tasks and
 * --syntax-check of the fixture role (test/fixtures/library), where Ansible looks for module files (a role's
 * library/ serves the whole run once the role is loaded, and not before; a library/ module shadows a builtin, even
 * under its ansible.builtin name; ANSIBLE_LIBRARY), and a module whose module_utils import cannot be found.
 */
const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'library');

const files: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  // Answers like ping, but says who answered.
  'roles/shadow/library/ping.py': `#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(data=dict(type="str", default="pong")), supports_check_mode=True)
module.exit_json(ping="shadowed " + module.params["data"])
`,
  'roles/shadow/tasks/main.yml': '- name: the role pings\n  ping:\n  register: in_role\n',
  'roles/late/library/late_mod.py': '#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\nAnsibleModule(argument_spec={}).exit_json(changed=False)\n',
  'roles/late/tasks/main.yml': '- name: late\n  late_mod:\n',
  // A role included at run time brings its library/ then, for its own tasks.
  'roles/inc_lib/library/inc_mod.sh': '#!/bin/sh\n# WANT_JSON\necho \'{"changed": true, "included": "yes"}\'\n',
  'roles/inc_lib/tasks/main.yml': '- name: the included role runs its module\n  inc_mod:\n  register: inc\n',
  'configured/cfg_mod.sh': '#!/bin/sh\n# WANT_JSON\necho \'{"changed": false, "from": "ANSIBLE_LIBRARY"}\'\n',
  'library/vp_warn.py': '#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\nm = AnsibleModule(argument_spec={})\nm.warn("careful now")\nm.exit_json(changed=False)\n',
  'library/vp_missing_utils.py': '#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\nfrom ansible.module_utils.vp_nowhere import thing\n',
  'shadow.yml': `
- hosts: localhost
  gather_facts: false
  roles: [shadow]
  tasks:
    - name: the play pings
      ping: {data: play}
      register: in_play
    - name: the builtin pings
      ansible.builtin.ping:
      register: builtin
    - name: a module from ANSIBLE_LIBRARY
      cfg_mod:
      register: configured
    - name: a module_utils import nobody has
      vp_missing_utils:
      ignore_errors: true
      register: missing
    - include_role: {name: inc_lib}
    - name: a module that warns
      vp_warn:
    - debug:
        msg: "{{ [in_role.ping, in_play.ping, builtin.ping, configured.from, inc.included, missing.failed, missing.msg] }}"
`,
  // A module of a role that a LATER play applies: Ansible resolves task modules as it loads, play by play.
  'too-early.yml': `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: before the role is loaded
      late_mod:
- hosts: localhost
  gather_facts: false
  roles: [late]
`,
};

describe('library/ modules at load time and on the controller, as ansible-playbook', () => {
  it.each([['--list-tasks'], ['--syntax-check']])('the fixture role: the same %s output', async (flag) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-library-'));
    cpSync(FIXTURE, dir, { recursive: true });
    const args = ['pb.yml', flag];
    const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('a role module shadows a builtin (short name and ansible.builtin) for the whole run; ANSIBLE_LIBRARY; include_role; warnings; missing module_utils', async () => {
    const dir = tempTree(files, 'vncplay-library-');
    const env = { ANSIBLE_LIBRARY: path.join(dir, 'configured') };
    const args = ['-i', 'inv', 'shadow.yml'];
    const [ours, theirs] = [await vncplay(args, { cwd: dir, env }), await ansiblePlaybook(args, { cwd: dir, env })];
    const message = (out: string): string | undefined => /"msg": \[\n([\s\S]*?)\n\s*\]\n/.exec(out)?.[1]?.replace(/\s+/g, ' ').trim();
    expect(message(theirs.stdout), theirs.stdout).toBe(
      '"shadowed pong", "shadowed play", "shadowed pong", "ANSIBLE_LIBRARY", "yes", true, "Could not find imported module support code for ansible.modules.vp_missing_utils. Looked for ([\'ansible.module_utils.vp_nowhere.thing\', \'ansible.module_utils.vp_nowhere\'])"',
    );
    // vncplay says the same, with the module's file:line:col before it.
    expect(message(ours.stdout), ours.stdout).toMatch(/^"shadowed pong", "shadowed play", "shadowed pong", "ANSIBLE_LIBRARY", "yes", true, ".*vp_missing_utils\.py:3:0: error\[E_LIBRARY_IMPORT\]: Could not find imported module support code for ansible\.modules\.vp_missing_utils\. Looked for/);
    expect(ours.recap['localhost']).toEqual(theirs.recap['localhost']);
    // AnsibleModule.warn() is shown as Ansible's callback shows it.
    for (const out of [theirs.stdout + theirs.stderr, ours.stdout]) expect(out).toContain('[WARNING]: careful now');
  });

  it('a role module is unknown to the tasks loaded before the role, as in Ansible', async () => {
    const dir = tempTree(files, 'vncplay-library-');
    const args = ['-i', 'inv', 'too-early.yml', '--syntax-check'];
    const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toContain("couldn't resolve module/action 'late_mod'");
    expect(ours.code).not.toBe(0);
    expect(ours.stderr).toMatch(/too-early\.yml:6:7: error\[E_UNKNOWN_MODULE\]: unknown module `late_mod`/);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * seboolean, seport and selinux side by side with ansible-playbook on this machine (local connection), which has no
 * SELinux, like the fleet's hosts (an nspawn container cannot load a policy): what both do there is fail the
 * boolean and port tasks, and edit the configuration file only, saying a reboot is needed. Ansible's modules import
 * libselinux's Python bindings, which setup.sh installs (python3-selinux, python3-semanage), so Ansible reaches the
 * same "SELinux is disabled" answers. seport's seobject library (policycoreutils) is not installed: there Ansible
 * fails on the missing library and vncplay on the disabled SELinux; both fail.
 */
const CONFIG = '/tmp/vncplay-selinux-config';
const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: config file
      copy: {dest: ${CONFIG}, content: "# SELinux\\nSELINUX=enforcing\\nSELINUXTYPE=targeted\\n", mode: '0640'}
    - name: boolean
      seboolean: {name: httpd_can_network_connect, state: true, persistent: true}
      ignore_errors: true
    - name: boolean ignoring the state
      ansible.posix.seboolean: {name: httpd_can_network_connect, state: true, ignore_selinux_state: true}
      ignore_errors: true
    - name: port
      community.general.seport: {ports: [8080, 8081], proto: tcp, setype: http_port_t}
      ignore_errors: true
    - name: disabled in check mode
      selinux: {state: disabled, configfile: ${CONFIG}}
      check_mode: true
    - name: disabled
      ansible.posix.selinux: {state: disabled, conf: ${CONFIG}}
    - name: disabled again
      selinux: {state: disabled, file: ${CONFIG}}
    - name: permissive needs a reboot
      selinux: {state: permissive, policy: targeted, configfile: ${CONFIG}}
    - name: enforcing without a policy
      selinux: {state: enforcing, configfile: ${CONFIG}}
      ignore_errors: true
    - name: a policy that is not installed
      selinux: {state: disabled, policy: mls, configfile: ${CONFIG}}
      ignore_errors: true
    - name: the default configuration file is missing
      selinux: {state: disabled}
      ignore_errors: true
    - name: the file
      command: stat -c '%a' ${CONFIG}
      register: mode
      changed_when: false
    - name: its content
      command: cat ${CONFIG}
      changed_when: false
    - name: removed
      file: {path: ${CONFIG}, state: absent}
`;

describe('SELinux modules on a host without SELinux: parity with ansible-playbook (local)', () => {
  afterAll(() => rmSync(CONFIG, { force: true }));

  it('fails, changes and registers the same', async () => {
    const run = await runBoth(playbook, {
      inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
      host: 'localhost',
    });
    const fields = ['changed', 'failed', 'msg', 'configfile', 'policy', 'state', 'reboot_required', 'name', 'persistent', 'ports', 'proto', 'setype', 'stdout', 'details'];
    const theirs = pick(run.theirs, fields);
    const ours = pick(run.ours, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(14);
    // What Ansible did, spelled out.
    expect(theirs['boolean']).toMatchObject({ failed: true, msg: 'SELinux is disabled on this host.' });
    expect(theirs['boolean ignoring the state']).toMatchObject({ failed: true, msg: 'Failed to get list of boolean names' });
    expect(theirs['disabled']).toMatchObject({ changed: true, msg: "Config SELinux state changed from 'enforcing' to 'disabled'", reboot_required: false });
    expect(theirs['permissive needs a reboot']).toMatchObject({ changed: true, reboot_required: true });
    expect(theirs['its content']!['stdout']).toBe('# SELinux\nSELINUX=permissive\nSELINUXTYPE=targeted');
    // The helper tasks' messages are copy's, command's and file's own (other modules' parity, not these).
    for (const task of ['config file', 'the file', 'its content', 'removed']) for (const side of [theirs, ours]) delete side[task]!['msg'];
    // seport: Ansible fails on its missing seobject library, vncplay on SELinux being disabled.
    expect(String(theirs['port']!['msg'])).toContain('policycoreutils-python');
    expect(ours['port']).toMatchObject({ failed: true, msg: 'SELinux is disabled on this host.' });
    delete theirs['port'];
    delete ours['port'];
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 240_000);
});

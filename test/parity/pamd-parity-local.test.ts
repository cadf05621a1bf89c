import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * pamd side by side with ansible-playbook on a local play, on a service file in a folder of the test's own (`path`):
 * update a rule's control and arguments, insert before and after (with Ansible's dropping of the comments between
 * rules), add and remove arguments, remove a rule, check mode, an invalid result; the file each leaves behind
 * (without the `# Updated by Ansible` time).
 */
const start = `# PAM test service
auth       required   pam_env.so readenv=1
# the unix one
auth       [success=1 default=ignore] pam_unix.so nullok
auth       requisite  pam_deny.so
account    required   pam_unix.so
@include common-session
session    optional   pam_motd.so motd=/run/motd.dynamic
`;

describe('pamd: parity with ansible-playbook on a local play', () => {
  it('edits the same rules, registers the same fields, and leaves the same file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vp-pamd-'));
    const playbook = `
- hosts: localhost
  gather_facts: false
  vars:
    p: {name: vp-test, path: "{{ dir }}"}
  tasks:
    - name: the same start
      copy: {content: ${JSON.stringify(start)}, dest: "{{ dir }}/vp-test"}
    - name: update control
      pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: requisite, module_path: pam_deny.so, new_control: required}
    - name: update control again
      pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: requisite, module_path: pam_deny.so, new_control: required}
    - name: update a bracketed rule's arguments
      community.general.pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: '[success=1 default=ignore]', module_path: pam_unix.so, module_arguments: [nullok, try_first_pass]}
    - name: insert before
      pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: '[success=1 default=ignore]', module_path: pam_unix.so, state: before, new_type: auth, new_control: optional, new_module_path: pam_faildelay.so, module_arguments: delay=2000000}
    - name: insert after
      pamd: {name: vp-test, path: "{{ dir }}", type: account, control: required, module_path: pam_unix.so, state: after, new_type: account, new_control: optional, new_module_path: pam_permit.so}
    - name: insert after again
      pamd: {name: vp-test, path: "{{ dir }}", type: account, control: required, module_path: pam_unix.so, state: after, new_type: account, new_control: optional, new_module_path: pam_permit.so}
    - name: arguments present
      pamd: {name: vp-test, path: "{{ dir }}", type: session, control: optional, module_path: pam_motd.so, state: args_present, module_arguments: [noupdate, motd=/etc/motd]}
    - name: arguments absent
      pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: required, module_path: pam_env.so, state: args_absent, module_arguments: readenv=1}
    - name: rule absent in check mode
      pamd: {name: vp-test, path: "{{ dir }}", type: account, control: optional, module_path: pam_permit.so, state: absent}
      check_mode: true
    - name: rule absent
      pamd: {name: vp-test, path: "{{ dir }}", type: account, control: optional, module_path: pam_permit.so, state: absent}
    - name: an invalid control
      pamd: {name: vp-test, path: "{{ dir }}", type: auth, control: required, module_path: pam_env.so, new_control: sometimes}
      ignore_errors: true
    - name: the file left
      shell: grep -v '^# Updated by Ansible' {{ dir }}/vp-test
      register: left
      changed_when: false
`;
    const run = await runBoth(playbook, { inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' }, host: 'localhost', args: ['-e', `dir=${dir}`] });
    const fields = ['changed', 'failed', 'change_count', 'stdout'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(13);
    expect(pick(run.ours, fields), run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(String(run.ours['an invalid control']!['msg'])).toContain('Rule control, sometimes, is not valid in rule auth       sometimes pam_env.so');
    expect(run.theirs['an invalid control']!['msg']).toBe('Rule control, sometimes, is not valid in rule auth       sometimes pam_env.so');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  });
});

import { describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventory, fleetKnownHosts } from '../fleet/fleet.js';
import { tempTree } from '../support/temp-tree.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Issue 16, roles and includes on the real fleet, side by side with ansible-playbook: a role in the geerlingguy.*
 * layout picks its setup file by the facts each host reports (setup-{{ ansible_os_family }}.yml: Debian here, while
 * its Archlinux file uses a module vncplay does not have, its RedHat file yum), is run through a templated include_role, writes
 * a file, and its handler includes a file of the role's tasks/. Both tools must give the same recap, and the hosts
 * are left as they were (the file is removed at the end of the play).
 */

const dest = '/tmp/vncplay-roles-fleet-motd';

const project: Record<string, string> = {
  'roles/motd/tasks/main.yml': [
    '- name: Include OS-specific setup',
    '  include_tasks: "setup-{{ ansible_os_family }}.yml"',
    '- include_tasks: setup-RedHat.yml',
    "  when: ansible_os_family == 'RedHat'",
    '- name: write the motd',
    '  copy:',
    '    content: "{{ motd_text }} on {{ ansible_hostname }}\\n"',
    `    dest: ${dest}`,
    '    mode: 0644',
    '  notify: motd changed',
    '',
  ].join('\n'),
  'roles/motd/tasks/setup-Debian.yml': '- name: coreutils is installed\n  command: dpkg-query -W -f=${Status} coreutils\n  changed_when: false\n',
  'roles/motd/tasks/setup-Archlinux.yml': '- name: coreutils\n  pacman: name=coreutils state=present\n',
  'roles/motd/tasks/setup-RedHat.yml': '- name: coreutils\n  yum: name=coreutils state=present\n',
  'roles/motd/tasks/check.yml': `- name: read it back\n  command: cat ${dest}\n  changed_when: false\n`,
  'roles/motd/handlers/main.yml': '- name: motd changed\n  include_tasks: check.yml\n',
  'roles/motd/defaults/main.yml': 'motd_text: managed by a role\n',
  'roles/motd/meta/main.yml': 'galaxy_info: {author: test}\ndependencies: []\n',
  'site.yml': [
    '- hosts: fleet',
    '  become: true',
    '  vars:',
    '    which_role: motd',
    '  pre_tasks:',
    `    - file: {path: ${dest}, state: absent}`,
    '  tasks:',
    '    - name: the role, named by a variable',
    '      include_role:',
    '        name: "{{ which_role }}"',
    '  post_tasks:',
    `    - file: {path: ${dest}, state: absent}`,
    '',
  ].join('\n'),
};

describe.skipIf(!fleetAvailable())('a role with other platforms\' setup files, on the fleet', () => {
  it('runs through a templated include_role with the same recap as ansible-playbook; the files it cannot load are never reached', async () => {
    const dir = tempTree(project, 'vncplay-roles-fleet-');
    const theirs = await ansiblePlaybook(['site.yml', '-i', fleetInventory()], { cwd: dir });
    const ours = await vncplay(['site.yml', '-i', fleetInventory(), '-e', `ansible_ssh_known_hosts_file=${fleetKnownHosts()}`], { cwd: dir });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    // facts, absent, include, dpkg-query, skipped RedHat include, copy (changed), handler include, cat, absent (changed).
    for (const host of ['h1', 'h2', 'h3']) expect(ours.recap[host]).toMatchObject({ ok: 8, changed: 2, skipped: 1, failed: 0 });
    // The role is named by a variable: nothing of it is known before the run, so nothing is reported about it.
    expect(ours.stderr).toBe('');
  });
});

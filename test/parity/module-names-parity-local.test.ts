import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Module names side by side with ansible-playbook --syntax-check: the FQCNs Ansible resolves (through its redirects)
 * load in both; an FQCN no collection has is refused by both, at the same line and column, with Ansible's words.
 */
const header = '- hosts: localhost\n  gather_facts: false\n  tasks:\n';

function playbook(tasks: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-names-parity-'));
  writeFileSync(path.join(dir, 'pb.yml'), header + tasks);
  return { dir, file: 'pb.yml' };
}

describe('module names: parity with ansible-playbook --syntax-check', () => {
  it('accepts the FQCNs Ansible has (community.general.supervisorctl, ansible.builtin.supervisorctl redirected)', async () => {
    const { dir, file } = playbook(
      '    - community.general.supervisorctl: {name: x, state: started}\n    - ansible.builtin.supervisorctl: {name: x, state: started}\n    - ansible.builtin.stat: {path: /}\n',
    );
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
  });

  it('refuses community.general.copy at the same place, with the same words', async () => {
    // One task only: after another task, Ansible points at the end of the task before (its position is rough).
    const { dir, file } = playbook('    - community.general.copy: {src: a, dest: b}\n');
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    expect(theirs.code).toBe(4);
    expect(ours.code).toBe(4);
    const ansibleSays = "couldn't resolve module/action 'community.general.copy'";
    expect(theirs.stderr + theirs.stdout).toContain(ansibleSays);
    expect(theirs.stderr + theirs.stdout).toMatch(/line 4,\s+column 7/);
    expect(ours.stderr).toContain('pb.yml:4:7: error[E_UNKNOWN_MODULE]');
    expect(ours.stderr).toContain(ansibleSays);
    expect(ours.stderr).toContain('hint: `copy` is `ansible.builtin.copy`');
  });

  it('accepts a module vncplay does not implement when the controller has its collection, as Ansible does: short, redirected and FQCN', async () => {
    const { dir, file } = playbook(
      '    - pacman: {name: vim}\n    - apache2_module: {name: rewrite}\n    - community.mysql.mysql_db: {name: x}\n    - ansible.builtin.apt_key: {id: ABCD, state: absent}\n    - ansible.legacy.debconf: {name: tzdata}\n    - action: community.general.make chdir=/tmp\n',
    );
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
  });

  it('refuses, positioned and saying why, what vncplay cannot run from a collection: an action plugin, a PowerShell module', async () => {
    // kubernetes.core's action plugin is ported (kubernetes-action-parity-local); community.general's shutdown is not.
    const { dir, file } = playbook('    - name: power off\n      community.general.shutdown: {delay: 0}\n    - ansible.windows.win_ping:\n');
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code).toBe(4);
    expect(ours.stderr).toMatch(
      /pb\.yml:5:7: error\[E_MODULE_NOT_IMPLEMENTED\]: `community\.general\.shutdown` is an Ansible module vncplay does not implement yet, and it cannot run from its collection: community\.general has an action plugin of that name \(\S+\/ansible_collections\/community\/general\/plugins\/action\/shutdown\.py\), Python that Ansible runs on the controller, which vncplay does not/,
    );
    expect(ours.stderr).toMatch(/pb\.yml:6:7: error\[E_MODULE_NOT_IMPLEMENTED\]: `ansible\.windows\.win_ping` is an Ansible module vncplay does not implement yet, and it is a PowerShell module \(\S+\/win_ping\.ps1\) for Windows hosts: vncplay runs modules on Linux hosts only/);
  });

  it('without the collection (an empty collections path, sys.path not scanned), refuses it as not installed, naming what to install', async () => {
    const { dir, file } = playbook('    - community.mysql.mysql_db: {name: x}\n');
    const env = { ANSIBLE_COLLECTIONS_PATH: path.join(dir, 'empty'), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'false' };
    mkdirSync(path.join(dir, 'empty', 'ansible_collections'), { recursive: true });
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir, env });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir, env });
    // Ansible refuses it too: its loader cannot resolve the name without the collection.
    expect(theirs.code).toBe(4);
    expect(theirs.stderr + theirs.stdout).toContain("couldn't resolve module/action 'community.mysql.mysql_db'");
    expect(ours.code).toBe(4);
    expect(ours.stderr).toContain(
      `pb.yml:4:7: error[E_MODULE_NOT_IMPLEMENTED]: \`community.mysql.mysql_db\` is an Ansible module vncplay does not implement yet, and its collection community.mysql is not installed on the controller to run it from (looked in: ${path.join(dir, 'empty')} (collections_scan_sys_path is false`,
    );
    expect(ours.stderr).toContain("hint: install Debian's `ansible` package (apt-get install ansible) or `ansible-galaxy collection install community.mysql`");
  });
});

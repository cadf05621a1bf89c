import { mkdtempSync, writeFileSync } from 'node:fs';
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

  it('names a real module vncplay does not implement: Ansible loads it, vncplay says what it is', async () => {
    const { dir, file } = playbook('    - pacman: {name: vim}\n');
    const theirs = await ansiblePlaybook(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    const ours = await vncplay(['--syntax-check', '-i', 'localhost,', file], { cwd: dir });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code).toBe(4);
    expect(ours.stderr).toContain('pb.yml:4:7: error[E_MODULE_NOT_IMPLEMENTED]: `pacman` is an Ansible module vncplay does not implement yet (Ansible runs community.general.pacman)');
  });
});

import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * -c / --connection side by side with ansible-playbook: the connection of hosts whose inventory does not say; a
 * host's ansible_connection still wins (variables over the command line), and so does a play's `connection:`.
 */
const files: Record<string, string> = {
  // web2's sshd is nowhere (port 1 on loopback): unreachable whatever -c says.
  inv: 'web1\nweb2 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\n[all:vars]\nansible_python_interpreter=/usr/bin/python3\n',
  'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: "true"
- hosts: web1
  gather_facts: false
  connection: ssh
  tasks:
    - command: "true"
      vars:
        ansible_host: 127.0.0.1
        ansible_port: 1
`,
};

describe('-c / --connection as ansible-playbook takes it', () => {
  const dir = tempTree(files, 'vncplay-connection-option-');

  it('applies where the inventory and the play say nothing', async () => {
    for (const args of [['-c', 'local'], ['--connection=local'], ['-c', 'ansible.builtin.local']]) {
      const ours = await vncplay(['-i', 'inv', 'play.yml', ...args], { cwd: dir });
      const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml', ...args], { cwd: dir });
      expect(theirs.recap, theirs.stdout).toEqual({
        web1: expect.objectContaining({ ok: 1, unreachable: 1 }),
        web2: expect.objectContaining({ ok: 0, unreachable: 1 }),
      });
      expect(ours.recap, ours.stdout + ours.stderr).toEqual(theirs.recap);
      // vncplay's exit code for an unreachable host is its own (README: Exit codes), Ansible's is 4.
      expect([ours.code, theirs.code]).toEqual([3, 4]);
    }
  });

  it('refuses a connection vncplay does not have, as a usage error', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml', '-c', 'winrm'], { cwd: dir });
    expect(ours.code).toBe(5);
    expect(ours.stderr).toContain("--connection must be ssh or local (smart, paramiko and ansible.builtin.* names too), got 'winrm'");
  });
});

import { describe, expect, it } from 'vitest';
import { gitModule, sshCommand } from '../../src/modules/git.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

describe('git arguments', () => {
  it('builds GIT_SSH_COMMAND as Ansible does from key_file, ssh_opts and the host-key choices', () => {
    const none = { accept_hostkey: false, accept_newhostkey: false, key_file: undefined, ssh_opts: undefined };
    expect(sshCommand(none)).toBeUndefined();
    expect(sshCommand({ ...none, accept_hostkey: true })).toBe('ssh -o StrictHostKeyChecking=no');
    expect(sshCommand({ ...none, accept_newhostkey: true, ssh_opts: '-p 2222' })).toBe('ssh -p 2222 -o StrictHostKeyChecking=accept-new');
    // ssh_opts that already decide keep their choice.
    expect(sshCommand({ ...none, accept_hostkey: true, ssh_opts: '-o StrictHostKeyChecking=accept-new' })).toBe('ssh -o StrictHostKeyChecking=accept-new');
    expect(sshCommand({ ...none, key_file: "/home/u/my key" })).toBe("ssh -i '/home/u/my key' -o IdentitiesOnly=yes");
  });

  it('refuses what Ansible refuses before running', () => {
    expect(checkArgs(gitModule, { repo: 'https://h/r.git' })).toBe('git: the destination directory must be specified unless clone=no');
    expect(checkArgs(gitModule, { repo: 'https://h/r.git', clone: false })).toBeUndefined();
    expect(checkArgs(gitModule, { repo: 'r', dest: '/x', accept_hostkey: true, accept_newhostkey: true })).toMatch(/mutually exclusive/);
  });
});

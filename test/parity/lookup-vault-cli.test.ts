import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../support/tools.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * lookup('file') and lookup('template') of a vault-encrypted controller file (made by ansible-vault), on a
 * local play: both tools write the decrypted text to a file; vncplay never prints it.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-lookup-vault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'lookup-canary-L4k9';
const TEMPLATED = 'tpl-canary-M2';

describe('lookup of a vault-encrypted file', () => {
  writeFileSync(path.join(dir, 'pass'), 'lookup vault pass\n');
  writeFileSync(path.join(dir, 'wrong'), 'not it\n');
  writeFileSync(path.join(dir, 'secret.txt'), `${SECRET}\n`);
  writeFileSync(path.join(dir, 'secret.j2'), `{{ prefix }}-${TEMPLATED}\n`);
  execFileSync(requireProgram('ansible-vault'), ['encrypt', '--vault-password-file', 'pass', 'secret.txt', 'secret.j2'], { cwd: dir, stdio: 'pipe' });
  writeFileSync(path.join(dir, 'local.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
  const play = (tool: string): string => `- hosts: localhost
  gather_facts: false
  vars:
    prefix: pre
  tasks:
    - copy:
        content: "{{ lookup('file', 'secret.txt') }}|{{ lookup('template', 'secret.j2') }}"
        dest: ${path.join(dir, `out-${tool}.txt`)}
    - debug:
        msg: "{{ lookup('file', 'secret.txt') }} {{ lookup('template', 'secret.j2') }}"
`;

  it('is decrypted with the run’s vault password, as ansible-playbook does, and its text is a secret', async () => {
    writeFileSync(path.join(dir, 'play-ansible.yml'), play('ansible'));
    writeFileSync(path.join(dir, 'play-vncplay.yml'), play('vncplay'));
    const theirs = await ansiblePlaybook(['play-ansible.yml', '-i', 'localhost,', '-c', 'local', '--vault-password-file', 'pass'], { cwd: dir });
    expect(theirs.code, theirs.stdout + theirs.stderr).toBe(0);
    for (const json of [false, true]) {
      const ours = await vncplay(['play-vncplay.yml', '-i', 'local.yml', '--vault-password-file', 'pass', '-vvv', ...(json ? ['--json'] : [])], { cwd: dir, env: { NO_COLOR: '1' } });
      expect(ours.code, ours.stdout + ours.stderr).toBe(0);
      expect(readFileSync(path.join(dir, 'out-vncplay.txt'), 'utf8')).toBe(readFileSync(path.join(dir, 'out-ansible.txt'), 'utf8'));
      expect(ours.stdout + ours.stderr).not.toContain(SECRET);
      expect(ours.stdout + ours.stderr).not.toContain(TEMPLATED);
      expect(ours.stdout).toContain('******** ********');
    }
    expect(readFileSync(path.join(dir, 'out-vncplay.txt'), 'utf8')).toBe(`${SECRET}|pre-${TEMPLATED}\n`);
  });

  it('without the right password the task fails, naming the file, as in ansible-playbook', async () => {
    writeFileSync(path.join(dir, 'play-vncplay.yml'), play('vncplay'));
    for (const args of [['--vault-password-file', 'wrong'], []]) {
      const ours = await vncplay(['play-vncplay.yml', '-i', 'local.yml', ...args, '--json'], { cwd: dir });
      expect(ours.code).toBe(2);
      const failed = ours.events.find((e) => e.type === 'task_result' && e.status === 'failed');
      expect(failed && failed.type === 'task_result' ? failed.msg : '').toMatch(
        args.length ? /lookup\('file'\): .*secret\.txt: decryption failed/ : /lookup\('file'\): .*secret\.txt: vault-encrypted data found and no vault password was given/,
      );
      expect(ours.stdout).not.toContain(SECRET);
    }
    const theirs = await ansiblePlaybook(['play-vncplay.yml', '-i', 'localhost,', '-c', 'local', '--vault-password-file', 'wrong'], { cwd: dir });
    expect(theirs.code).toBe(2);
    expect(theirs.stdout).toMatch(/Decryption failed/);
  });
});

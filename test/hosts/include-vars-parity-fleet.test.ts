import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni } from '../fleet/fleet.js';
import { requireProgram } from '../support/tools.js';
import { counts, pick, runBoth, writeProject } from '../support/module-parity.js';

/**
 * include_vars side by side with ansible-playbook on fleet host h1: a file found in the playbook's vars/, a role's
 * vars/ folder, a folder walk (files_matching, ignore_files, depth, extensions), `name:`, a vault-encrypted file,
 * values that refer to each other (rendered when read), and the variables used in a command on the host.
 */
const playbook = `
- hosts: h1
  gather_facts: false
  roles: [web]
  tasks:
    - name: a file from vars/
      include_vars: common.yml
      register: r_file
    - name: values render when read, on the host
      command: echo "{{ greeting }} {{ port }} {{ ports | join(',') }}"
      register: r_echo
      changed_when: false
    - name: a folder, under one name
      include_vars: {dir: conf.d, name: conf, ignore_unknown_extensions: true}
      register: r_dir
    - name: files_matching and extensions
      include_vars: {dir: conf.d, files_matching: '^2', extensions: [json]}
      register: r_match
    - name: depth and ignore_files
      include_vars: {dir: conf.d, depth: 1, ignore_files: ['.*\\.txt']}
      register: r_depth
    - name: an unknown extension fails
      include_vars: {dir: conf.d}
      register: r_bad
      ignore_errors: true
    - name: a vault-encrypted file
      include_vars: {file: secret.yml}
      register: r_vault
      no_log: false
    - name: the secret reaches the host
      command: test "{{ db_password }}" = s3cret-value
      changed_when: false
    - name: the role's vars
      command: echo "{{ role_port }} {{ conf.c }} {{ c }}"
      register: r_role
      changed_when: false
`;

const files = {
  'vars/common.yml': 'greeting: hello\nbase: 5900\nport: "{{ base + 1 }}"\nports: [1, 2]\n',
  'conf.d/10.yml': 'c: three\n',
  'conf.d/readme.txt': 'not vars\n',
  'conf.d/sub/20.json': '{"c": "four", "e": 5}\n',
  'roles/web/vars/main.yml': 'role_port: 8080\n',
  'roles/web/vars/extra.yml': 'role_extra: yes\n',
  'roles/web/tasks/main.yml': '- name: role include_vars from its vars/\n  include_vars: extra.yml\n  register: r_rolefile\n',
  'vault-pass': 'parity-pass\n',
};

/** The text of `plain` encrypted by ansible-vault with `password` (both tools then read the same bytes). */
function vaultEncrypted(plain: string, password: string): string {
  const dir = writeProject({ 'plain.yml': plain, pass: `${password}\n` });
  const res = spawnSync(requireProgram('ansible-vault'), ['encrypt', '--vault-password-file', 'pass', 'plain.yml'], { cwd: dir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  return readFileSync(path.join(dir, 'plain.yml'), 'utf8');
}

describe.skipIf(!fleetAvailable())('include_vars: parity with ansible-playbook on a fleet host', () => {
  it('registers the same ansible_facts and files, and the variables work the same on the host', async () => {
    const run = await runBoth(playbook, {
      inventory: { file: fleetInventoryIni() },
      host: 'h1',
      files: { ...files, 'vars/secret.yml': vaultEncrypted('db_password: s3cret-value\n', 'parity-pass') },
      args: ['--vault-password-file', 'vault-pass'],
    });
    const fields = ['changed', 'failed', 'ansible_facts', 'ansible_included_var_files', 'message', 'stdout'];
    const theirs = pick(run.theirs, fields);
    // Absolute paths differ only by the project folder, which is the same for both runs.
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(10);
    expect(theirs['values render when read, on the host']!['stdout']).toBe('hello 5901 1,2');
    expect(theirs['a folder, under one name']!['ansible_facts']).toEqual({ conf: { c: 'four', e: 5 } });
    expect(theirs['an unknown extension fails']!['message']).toBe(`${run.dir}/conf.d/readme.txt does not have a valid extension: yaml, yml, json`);
    expect(theirs['the role\'s vars']!['stdout']).toBe('8080 four three');
    expect(pick(run.ours, fields), run.oursOutput).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * slurp and getent side by side with ansible-playbook on a local play: the same registered content/source/encoding,
 * the same getent_* facts (colon and whitespace databases, one key, a missing key with and without fail_key), the
 * same failures.
 */
describe('slurp and getent: parity with ansible-playbook on a local play', () => {
  it('registers the same fields and facts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vp-read-parity-'));
    writeFileSync(path.join(dir, 'data.bin'), Buffer.from([0, 1, 2, 0xff, 0x0a, 0x41]));
    const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: slurp a file
      slurp: {src: ${dir}/data.bin}
    - name: slurp by its alias, decoded
      slurp: {path: ${dir}/data.bin}
      register: s
    - name: decoded length
      debug: msg="length {{ s.content | b64decode | length }}"
    - name: slurp a missing file
      slurp: {src: ${dir}/nope}
      ignore_errors: true
    - name: slurp a folder
      slurp: {src: ${dir}}
      ignore_errors: true
    - name: getent passwd root
      getent: {database: passwd, key: root}
    - name: root's shell
      debug: msg="{{ getent_passwd.root[5] }}"
    - name: getent group
      getent: {database: group, key: root, split: ':'}
    - name: getent services by whitespace
      getent: {database: services, key: ssh}
    - name: getent a missing key
      getent: {database: passwd, key: vp-no-such-user}
      ignore_errors: true
    - name: getent a missing key without failing
      getent: {database: passwd, key: vp-no-such-user, fail_key: false}
    - name: getent an unknown database
      getent: {database: nosuchdb}
      ignore_errors: true
`;
    const run = await runBoth(playbook, { inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' }, host: 'localhost' });
    const fields = ['changed', 'failed', 'content', 'source', 'encoding', 'ansible_facts', 'msg'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(12);
    expect(theirs['slurp a file']!['content']).toBe('AAEC/wpB');
    expect(theirs['decoded length']!['msg']).toBe('length 6');
    expect(theirs['root\'s shell']!['msg']).toBe('/bin/bash');
    expect(pick(run.ours, fields), run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  });
});

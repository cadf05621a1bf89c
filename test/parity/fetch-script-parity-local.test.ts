import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * fetch and script side by side with ansible-playbook on the controller (local connection: no pty, so the script's
 * stdout and stderr stay apart and the whole results compare). The fleet test (fetch-script-parity-fleet) runs them
 * over SSH with become.
 */
const work = path.join(tmpdir(), `vncplay-fetch-script-${process.pid}`);

const files = {
  'files/s.sh': '#!/bin/sh\necho "args: $*"; echo err >&2; pwd; exit ${EXIT:-0}\n',
};

const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: a script with shell arguments
      script: s.sh "a b" $((1 + 2))
    - name: a script in a folder that creates
      script: {cmd: s.sh x, chdir: ${work}, creates: ${work}/nothing}
    - name: a failing script
      script: s.sh
      environment: {EXIT: 3}
      ignore_errors: true
    - name: a script skipped by removes
      script: s.sh
      args: {removes: ${work}/nothing}
    - name: fetch
      fetch: {src: ${work}/src.txt, dest: out}
    - name: fetch again
      fetch: {src: ${work}/src.txt, dest: out}
    - name: fetch flat
      fetch: {src: ${work}/src.txt, dest: out/flat/, flat: true}
    - name: fetch a missing file
      fetch: {src: ${work}/missing, dest: out}
      ignore_errors: true
    - name: fetch a missing file without failing
      fetch: {src: ${work}/missing, dest: out, fail_on_missing: false}
    - name: remove the fetched files
      file: {path: "{{ playbook_dir }}/out", state: absent}
`;

describe('fetch and script: parity with ansible-playbook on the controller', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('give the same results', async () => {
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'src.txt'), 'hello\n');
    const run = await runBoth(playbook, { inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' }, host: 'localhost', files });
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-3000)).toEqual(names);
    const fields = ['changed', 'failed', 'skipped', 'msg', 'rc', 'stdout', 'stdout_lines', 'stderr', 'stderr_lines', 'dest', 'file', 'checksum', 'md5sum', 'remote_checksum', 'remote_md5sum'];
    const theirs = pick(run.theirs, fields);
    expect(theirs['a script with shell arguments']).toMatchObject({ stdout: `args: a b 3\n${run.dir}\n`, stderr: 'err\n' });
    expect(theirs['fetch']).toMatchObject({ changed: true, dest: `${run.dir}/out/localhost${work}/src.txt`, md5sum: 'b1946ac92492d2347c6235b4d2611184' });
    // The cleanup is the file module's; its msg is vncplay's own.
    const ours = pick(run.ours, fields);
    for (const r of [theirs, ours]) delete r['remove the fetched files']!['msg'];
    expect(ours).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 120_000);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { counts, pick, runBoth } from '../support/module-parity.js';
import { requireProgram } from '../support/tools.js';

/**
 * community.general.make side by side with ansible-playbook on a local play, in a folder of the test's own with a
 * small Makefile: check mode (the `make -q` answer only), the first build, the re-run (up to date), a target with
 * jobs and variables, a failing recipe and a missing target; each result's fields as Ansible registers them.
 */
const makefile = 'out.txt:\n\techo built > out.txt\n\techo to-stderr >&2\nclean:\n\trm -f out.txt\nfail:\n\techo failing; false\n';

describe('make: parity with ansible-playbook on a local play', () => {
  it('builds only what make -q says is out of date, and registers the same fields and failures', async () => {
    requireProgram('make');
    const dir = mkdtempSync(path.join(tmpdir(), 'vp-make-'));
    const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: no Makefile yet
      file: {path: "{{ dir }}/Makefile", state: absent}
      changed_when: false
    - name: the same start
      copy: {content: ${JSON.stringify(makefile)}, dest: "{{ dir }}/Makefile"}
    - name: nothing built yet
      file: {path: "{{ dir }}/out.txt", state: absent}
      changed_when: false
    - name: first target in check mode
      make: {chdir: "{{ dir }}"}
      check_mode: true
    - name: first target
      make: {chdir: "{{ dir }}"}
    - name: first target again
      community.general.make: {chdir: "{{ dir }}"}
    - name: a target with jobs and variables
      make: {chdir: "{{ dir }}", target: clean, jobs: 2, params: {X: 1, Y: true, NAME: a b}}
    - name: a failing recipe
      make: {chdir: "{{ dir }}", target: fail}
      ignore_errors: true
    - name: a missing target in a folder that is not there
      make: {chdir: "{{ dir }}/nonesuch", target: x, file: "{{ dir }}/Makefile"}
      ignore_errors: true
`;
    const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
    const run = await runBoth(playbook, { inventory, host: 'localhost', args: ['-e', `dir=${dir}`] });
    const fields = ['changed', 'failed', 'msg', 'rc', 'cmd', 'command', 'stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'target', 'params', 'chdir', 'file', 'jobs'];
    const theirs = pick(run.theirs, fields);
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toEqual(names);
    // What Ansible did, spelled out.
    expect(theirs['first target']).toMatchObject({ changed: true, stdout: 'echo built > out.txt\necho to-stderr >&2', stderr: 'to-stderr', command: expect.stringMatching(/make ''$/) });
    expect(theirs['first target again']!['changed']).toBe(false);
    expect(theirs['a target with jobs and variables']!['command']).toMatch(/make -j 2 clean X=1 Y=True 'NAME=a b'$/);
    expect(theirs['a failing recipe']).toMatchObject({ failed: true, changed: false, rc: 2, stdout: 'echo failing; false\nfailing\n' });
    const ours = pick(run.ours, fields);
    // vncplay's runner says what a file change did where Ansible's modules say nothing.
    for (const r of [theirs, ours]) for (const n of ['no Makefile yet', 'the same start']) delete r[n]!['msg'];
    expect(ours, run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  });
});

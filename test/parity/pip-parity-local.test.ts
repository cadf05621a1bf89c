import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../support/tools.js';
import { counts, pick, runBoth } from '../support/module-parity.js';
import { buildWheel } from '../support/python-wheel.js';

/**
 * pip side by side with ansible-playbook's pip on this machine (local connection), offline: two versions of a tiny
 * wheel written here (a wheel is a zip: the module, METADATA, WHEEL, RECORD), installed with --no-index
 * --find-links into a virtualenv. `python3 -m venv` spends 30 s here copying pip into a new virtualenv, so the
 * test's virtualenv is made without pip, sees the system's (Debian's python3-pip) and gets a bin/pip3 that runs it;
 * each tool also creates a virtualenv of its own (without pip, so both then fail the same way).
 */
let work: string;

const playbook = (dir: string): string => `
- hosts: localhost
  gather_facts: false
  environment: {PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1'}
  vars:
    venv: ${dir}/venv
    offline: --no-index --find-links ${dir}/wheels
  tasks:
    - name: a new virtualenv without pip
      pip: {name: vp-left, virtualenv: ${dir}/new-venv, virtualenv_command: python3 -m venv --without-pip}
      ignore_errors: true
    - name: new virtualenv removed
      file: {path: ${dir}/new-venv, state: absent}
    - name: into the virtualenv
      pip: {name: vp-left, version: 1.0.0, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: again
      ansible.builtin.pip: {name: vp-left==1.0.0, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: check mode, another version
      pip: {name: "vp-left==1.1.0", virtualenv: "{{ venv }}"}
      check_mode: true
    - name: latest
      pip: {name: vp-left, state: latest, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: requirements file
      pip: {requirements: reqs.txt, chdir: ${dir}, virtualenv: venv, extra_args: "{{ offline }}"}
    - name: version
      command: "{{ venv }}/bin/python -c 'import vp_left; print(vp_left.VERSION)'"
      changed_when: false
    - name: remove
      pip: {name: vp-left, state: absent, virtualenv: "{{ venv }}"}
    - name: unknown package
      pip: {name: vp-no-such-package, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
      ignore_errors: true
`;

describe('pip: parity with ansible-playbook (local, offline)', () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'vncplay-pip-'));
    const wheels = path.join(work, 'wheels');
    spawnSync(requireProgram('sh'), ['-c', 'mkdir "$1"', 'sh', wheels]);
    buildWheel(wheels, 'vp_left', '1.0.0');
    buildWheel(wheels, 'vp_left', '1.1.0');
    const setup = [
      'cd "$1" && echo vp-left==1.0.0 > reqs.txt && python3 -m venv --without-pip --system-site-packages venv',
      'printf \'#!/bin/sh\\nexec "$(dirname "$0")/python" -m pip "$@"\\n\' > venv/bin/pip3 && chmod +x venv/bin/pip3',
    ];
    const r = spawnSync(requireProgram('sh'), ['-c', setup.join('\n'), 'sh', work], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the virtualenv: ${r.stderr}`);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('changes the same and registers the same', async () => {
    const run = await runBoth(playbook(work), {
      inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
      host: 'localhost',
    });
    const fields = ['changed', 'failed', 'name', 'version', 'state', 'requirements', 'virtualenv', 'cmd'];
    const theirs = pick(run.theirs, fields);
    const ours = pick(run.ours, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(10);
    expect(Object.entries(theirs).filter(([, r]) => r['changed']).map(([task]) => task)).toEqual([
      'new virtualenv removed', 'into the virtualenv', 'check mode, another version', 'latest', 'requirements file', 'remove',
    ]);
    expect(run.theirs['version']!['stdout']).toBe('1.0.0');
    expect(ours, run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(run.ours['version']!['stdout']).toBe('1.0.0');
    expect(String(run.ours['unknown package']!['msg'])).toContain('No matching distribution found for vp-no-such-package');
    expect(run.ours['a new virtualenv without pip']!['msg']).toBe(run.theirs['a new virtualenv without pip']!['msg']);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../support/tools.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * npm side by side with ansible-playbook's community.general.npm on this machine (local connection), offline:
 * two versions of a tiny package packed here with `npm pack`, a project whose package.json depends on one of them
 * by file, then install, again, a tarball by path, ci, removal, and an unknown name npm cannot fetch offline.
 */
let work: string;

function packVersion(version: string): void {
  const src = path.join(work, `src-${version}`);
  mkdirSync(src);
  writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name: 'vp-left', version, main: 'index.js' }));
  writeFileSync(path.join(src, 'index.js'), `module.exports = '${version}';\n`);
  const r = spawnSync(requireProgram('npm'), ['pack', '--silent', '--pack-destination', work], { cwd: src, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack: ${r.stderr}`);
}

const playbook = (dir: string): string => `
- hosts: localhost
  gather_facts: false
  environment: {npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_offline: 'true'}
  vars:
    proj: ${dir}/proj
  tasks:
    - name: project folder
      file: {path: "{{ proj }}", state: directory}
    - name: project
      copy: {dest: "{{ proj }}/package.json", content: '{"name": "vp-app", "version": "1.0.0", "dependencies": {"vp-left": "file:${dir}/vp-left-1.0.0.tgz"}}'}
    - name: dependencies check mode
      npm: {path: "{{ proj }}"}
      check_mode: true
    - name: dependencies
      community.general.npm: {path: "{{ proj }}"}
    - name: named and installed
      npm: {path: "{{ proj }}", name: vp-left}
    - name: named with the installed version
      npm: {path: "{{ proj }}", name: vp-left, version: 1.0.0}
    - name: a tarball by path
      npm: {path: "{{ proj }}", name: ${dir}/vp-left-1.1.0.tgz}
    - name: version
      command: node -p "require('vp-left')"
      args: {chdir: "{{ proj }}"}
      changed_when: false
    - name: ci
      npm: {path: "{{ proj }}", ci: true}
    - name: remove
      npm: {path: "{{ proj }}", name: vp-left, state: absent}
    - name: unknown package
      npm: {path: "{{ proj }}", name: vp-no-such-package-xyz}
      ignore_errors: true
    - name: project removed
      file: {path: "{{ proj }}", state: absent}
`;

describe('npm: parity with ansible-playbook (local, offline)', () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'vncplay-npm-'));
    packVersion('1.0.0');
    packVersion('1.1.0');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('changes the same and fails the same', async () => {
    const run = await runBoth(playbook(work), {
      inventory: { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
      host: 'localhost',
    });
    const theirs = pick(run.theirs, ['changed', 'failed', 'stdout']);
    const ours = pick(run.ours, ['changed', 'failed', 'stdout']);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(12);
    // What Ansible did, spelled out: a tarball by path is never "installed" by its name, so it always installs.
    expect(Object.entries(theirs).filter(([, r]) => r['changed']).map(([task]) => task)).toEqual([
      'project folder', 'project', 'dependencies check mode', 'dependencies', 'a tarball by path', 'ci', 'remove', 'project removed',
    ]);
    expect(theirs['version']!['stdout']).toBe('1.1.0');
    expect(ours, run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(String(run.ours['unknown package']!['msg'])).toContain('ENOTCACHED');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 180_000);
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { installControllerPackages } from '../fleet/web-server.js';
import { requireProgram } from '../support/tools.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * unarchive side by side with ansible-playbook on fleet host h3: a .tar.gz and a .zip from the controller (listed,
 * then again: nothing to do), a .tar.xz already on the host (remote_src), --strip-components in extra_opts, creates,
 * check mode, a missing folder and a file that is no archive. The host unpacks with tar, xz and unzip (the last two
 * repacked from the controller for the test).
 */
const D = '/tmp/vp-unar';

/** The archives, made on the controller with python's tarfile and zipfile (fixed times, modes, owner root). */
const MAKE_ARCHIVES = `
import io, sys, tarfile, zipfile
out = sys.argv[1]
files = {'pkg/README': b'readme\\n', 'pkg/bin/run.sh': b'#!/bin/sh\\necho run\\n', 'pkg/etc/app.conf': b'x = 1\\n'}
def add(tar):
    for d in ['pkg', 'pkg/bin', 'pkg/etc']:
        i = tarfile.TarInfo(d); i.type = tarfile.DIRTYPE; i.mode = 0o755; i.mtime = 1700000000; tar.addfile(i)
    for name, data in files.items():
        i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o755 if name.endswith('.sh') else 0o644; i.mtime = 1700000000
        tar.addfile(i, io.BytesIO(data))
for mode, name in (('w:gz', 'app.tar.gz'), ('w:xz', 'app.tar.xz')):
    with tarfile.open(out + '/' + name, mode, format=tarfile.GNU_FORMAT) as t: add(t)
with zipfile.ZipFile(out + '/app.zip', 'w') as z:
    for name, data in files.items():
        i = zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20)); i.external_attr = (0o100755 if name.endswith('.sh') else 0o100644) << 16
        z.writestr(i, data)
open(out + '/plain.txt', 'w').write('not an archive\\n')
`;

const playbook = (files: string): string => `
- hosts: h3
  gather_facts: false
  tasks:
    - name: folders
      shell: rm -rf ${D} && mkdir -p ${D}/t1 ${D}/t2 ${D}/t3 ${D}/z1 ${D}/check
    - name: tar.gz from the controller
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/t1, list_files: true}
    - name: tar.gz again
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/t1}
    - name: a changed file
      shell: echo changed > ${D}/t1/pkg/README
    - name: tar.gz brings it back
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/t1}
    - name: tar.xz to the host
      copy: {src: ${files}/app.tar.xz, dest: ${D}/app.tar.xz}
    - name: tar.xz on the host
      unarchive: {src: ${D}/app.tar.xz, dest: ${D}/t2, remote_src: true}
    - name: strip components
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/t3, extra_opts: ['--strip-components=1']}
    - name: strip components again
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/t3, extra_opts: ['--strip-components=1']}
    - name: zip from the controller
      unarchive: {src: ${files}/app.zip, dest: ${D}/z1, list_files: true}
    - name: zip again
      unarchive: {src: ${files}/app.zip, dest: ${D}/z1}
    - name: creates
      unarchive: {src: ${files}/app.zip, dest: ${D}/z1, creates: ${D}/z1/pkg}
    - name: check mode
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/check}
      check_mode: true
    - name: missing folder
      unarchive: {src: ${files}/app.tar.gz, dest: ${D}/nope}
      ignore_errors: true
    - name: not an archive
      unarchive: {src: ${files}/plain.txt, dest: ${D}/t1}
      ignore_errors: true
    - name: the files
      shell: cd ${D} && find t1 t2 t3 z1 check -printf '%p %m\\n' | sort
      register: listing
    - name: a clean end
      file: {path: ${D}, state: absent}
`;

describe.skipIf(!fleetAvailable())('unarchive: parity with ansible-playbook on a fleet host', () => {
  let removeTools: (() => Promise<void>) | undefined;
  const files = mkdtempSync(path.join(tmpdir(), 'vp-unar-files-'));
  beforeAll(async () => {
    execFileSync(requireProgram('python3'), ['-c', MAKE_ARCHIVES, files]);
    removeTools = await installControllerPackages(3, ['unzip', 'xz-utils']);
  }, 180_000);
  afterAll(async () => {
    rmSync(files, { recursive: true, force: true });
    if (!fleetAvailable()) return;
    await hostExec(3, ['rm', '-rf', D]);
    await removeTools?.();
  }, 120_000);

  it('unpacks the same files, only when needed, with the same registered fields', async () => {
    const run = await runBoth(playbook(files), { inventory: { file: fleetInventoryIni() }, host: 'h3' });
    const fields = ['changed', 'failed', 'skipped', 'handler', 'dest', 'files', 'state', 'mode', 'owner', 'stdout'];
    expect(run.ours['creates']!['msg']).toBe(run.theirs['creates']!['msg']);
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(17);
    const ours = pick(run.ours, fields);
    // The file and copy modules' own results are not what this test is about.
    for (const helper of ['a clean end', 'tar.xz to the host']) {
      delete theirs[helper];
      delete ours[helper];
    }
    // Both skip a tar archive in check mode; the reason is worded by each.
    expect(run.theirs['check mode']!['msg']).toBe('remote module (ansible.legacy.unarchive) does not support check mode when using gtar');
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    for (const name of ['missing folder', 'not an archive']) expect(String(run.ours[name]!['msg']).slice(0, 27)).toBe(String(run.theirs[name]!['msg']).slice(0, 27));
    expect((run.ours['tar.gz brings it back']!['extract_results'] as { rc: number }).rc).toBe(0);
    expect(theirs['the files']!['stdout']).toContain('t3/bin/run.sh 755');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetInventoryIni, fleetReset, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';
import { requireProgram } from '../support/tools.js';

/**
 * npm side by side with ansible-playbook's community.general.npm on fleet host h1, against a registry of static
 * files served over HTTP on the bridge (a packument per package name, tarballs packed here with `npm pack`). The
 * host image has no Node.js, and Debian's npm needs some 460 packages: the controller's own node and npm (the same
 * Debian release) are copied into the host instead, and the host is reset afterwards.
 */
const HOST = 1;
const VERSIONS = ['1.0.0', '1.1.0'];

const playbook = (registry: string): string => `
- hosts: h${HOST}
  gather_facts: false
  environment: {npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false'}
  vars:
    proj: /opt/vp-app
    registry: ${registry}
  tasks:
    - name: project folder
      file: {path: "{{ proj }}", state: directory}
    - name: project
      copy: {dest: "{{ proj }}/package.json", content: '{"name": "vp-app", "version": "1.0.0", "dependencies": {"vp-left": "^1.0.0"}}'}
    - name: dependencies check mode
      npm: {path: "{{ proj }}", registry: "{{ registry }}"}
      check_mode: true
    - name: dependencies
      community.general.npm: {path: "{{ proj }}", registry: "{{ registry }}"}
    - name: named and installed
      npm: {path: "{{ proj }}", name: vp-left, registry: "{{ registry }}"}
    - name: an older version
      npm: {path: "{{ proj }}", name: vp-left, version: 1.0.0, registry: "{{ registry }}"}
    - name: latest
      npm: {path: "{{ proj }}", name: vp-left, state: latest, registry: "{{ registry }}"}
    - name: version
      command: node -p "require('vp-left')"
      args: {chdir: "{{ proj }}"}
      changed_when: false
    - name: global
      npm: {name: vp-left, global: true, registry: "{{ registry }}"}
    - name: global again
      npm: {name: vp-left, global: true, registry: "{{ registry }}"}
    - name: global removed
      npm: {name: vp-left, global: true, state: absent}
    - name: remove
      npm: {path: "{{ proj }}", name: vp-left, state: absent}
    - name: unknown package
      npm: {path: "{{ proj }}", name: vp-no-such-package-xyz, registry: "{{ registry }}"}
      ignore_errors: true
    - name: project removed
      file: {path: "{{ proj }}", state: absent}
`;

/** Packs vp-left VERSION into `dir`/tarballs; returns its packument entry, the tarball's URL relative to the registry. */
async function packVersion(work: string, dir: string, version: string): Promise<{ name: string; version: string; dist: Record<string, string> }> {
  const src = path.join(work, `src-${version}`);
  await mkdir(src);
  const manifest = { name: 'vp-left', version, main: 'index.js' };
  await writeFile(path.join(src, 'package.json'), JSON.stringify(manifest));
  await writeFile(path.join(src, 'index.js'), `module.exports = '${version}';\n`);
  const r = spawnSync(requireProgram('npm'), ['pack', '--silent', '--pack-destination', path.join(dir, 'tarballs')], { cwd: src, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack: ${r.stderr}`);
  const tgz = await readFile(path.join(dir, 'tarballs', `vp-left-${version}.tgz`));
  const dist = {
    tarball: `tarballs/vp-left-${version}.tgz`,
    shasum: createHash('sha1').update(tgz).digest('hex'),
    integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
  };
  return { ...manifest, dist };
}

describe.skipIf(!fleetAvailable())('npm: parity with ansible-playbook on a fleet host', () => {
  let served: ServedRepo | undefined;
  let work = '';

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'vncplay-npm-registry-'));
    const dir = path.join(work, 'registry');
    await mkdir(path.join(dir, 'tarballs'), { recursive: true });
    // The controller's node and npm, as one archive the host fetches (written before the server lists its files).
    const archive = "import sys, tarfile\nwith tarfile.open(sys.argv[1], 'w') as t:\n    for p in sys.argv[2:]: t.add(p, arcname=p.lstrip('/'))";
    const tar = spawnSync(requireProgram('python3'), ['-c', archive, path.join(dir, 'node.tar'), requireProgram('node'), '/usr/lib/node_modules/npm', '/usr/bin/npm'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`archiving node and npm: ${tar.stderr}`);
    const versions: Record<string, Awaited<ReturnType<typeof packVersion>>> = {};
    for (const v of VERSIONS) versions[v] = await packVersion(work, dir, v);
    // The registry's address is known once it listens: the packument (whose tarball URLs name it) is listed up front
    // as an empty file and filled in then.
    await writeFile(path.join(dir, 'vp-left'), '');
    served = await serveRepo(dir);
    for (const entry of Object.values(versions)) entry.dist['tarball'] = served.url + entry.dist['tarball']!;
    await writeFile(path.join(dir, 'vp-left'), JSON.stringify({ name: 'vp-left', 'dist-tags': { latest: VERSIONS.at(-1) }, versions }));
    const fetch = "import sys, urllib.request\nsys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())";
    await hostExecOk(HOST, ['sh', '-c', 'python3 -c "$1" "$2" | tar -x -C / && node --version && npm --version', 'sh', fetch, `${served.url}node.tar`], { timeoutMs: 120_000 });
  }, 240_000);

  afterAll(async () => {
    await served?.close();
    if (work) await rm(work, { recursive: true, force: true });
    // node, npm, the cache and the global packages: a clean root again.
    if (fleetAvailable()) await fleetReset(HOST);
  }, 120_000);

  it('changes the same, registers the same and fails the same', async () => {
    const run = await runBoth(playbook(served!.url), { inventory: { file: fleetInventoryIni() }, host: `h${HOST}` });
    const theirs = pick(run.theirs, ['changed', 'failed', 'stdout']);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(14);
    // What Ansible did, spelled out, so a change on either side shows here.
    // (`latest` updates from 1.0.0 back to 1.1.0; a package already installed, locally or globally, is left alone.)
    expect(Object.entries(theirs).filter(([, r]) => r['changed']).map(([task]) => task)).toEqual([
      'project folder', 'project', 'dependencies check mode', 'dependencies', 'an older version', 'latest', 'global', 'global removed', 'remove',
      'project removed',
    ]);
    expect(theirs['version']!['stdout']).toBe('1.1.0');
    expect(pick(run.ours, ['changed', 'failed', 'stdout']), run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(String(run.ours['unknown package']!['msg'])).toContain('E404');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 300_000);
});

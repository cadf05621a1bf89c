import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachHost, buildRepo, detachHost, hostPackageState, purgePackages, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetBridgeAddress, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay, writeVncInventory, type CliRun } from '../support/cli-helpers.js';

/**
 * apt and package on a real fleet host against a real repository (test/fleet/deb-repo.ts: debs built here, served on
 * the bridge), side by side with ansible-playbook: the same tasks give the same ok/changed on the first run and the
 * re-run, and the same registered fields playbooks read.
 */
const HOST = 3;
const RESULTS = '/tmp/vncplay-apt-results.json';

/** The fields of each registered result the comparison looks at (values that differ by nature are reduced to types). */
const PLAYBOOK = `
- hosts: vnc
  gather_facts: false
  become: true
  tasks:
    - name: update the cache
      apt: { update_cache: true }
      register: r_update
    - name: update again, the cache is fresh
      apt: { update_cache: true, cache_valid_time: 3600 }
      register: r_valid
    - name: two packages, one call, one needs a dependency
      apt: { name: [vp-hello=1.0, vp-dep], state: present }
      register: r_install
    - name: the same again
      apt: { name: [vp-hello=1.0, vp-dep] }
      register: r_again
    - name: latest
      apt: { name: vp-hello, state: latest }
      register: r_latest
    - name: latest again
      apt: { name: vp-hello, state: latest, update_cache: true, cache_valid_time: 3600 }
      register: r_latest_again
    - name: a version floor that holds
      apt: { name: "vp-hello>=1.1" }
      register: r_floor
    - name: the dependency, asked for by name
      apt: { name: vp-base }
      register: r_base
    - name: check mode
      apt: { name: vp-conf }
      check_mode: true
      register: r_check
    - name: a package with a conffile
      apt: { name: vp-conf, install_recommends: false }
      register: r_conf
    - name: remove keeps the conffile
      apt: { name: vp-conf, state: absent }
      register: r_remove
    - name: purge removes it
      apt: { name: vp-conf, state: absent, purge: true }
      register: r_purge
    - name: purge again
      apt: { name: vp-conf, state: absent, purge: true }
      register: r_purge_again
    - name: an unknown package
      apt: { name: vp-no-such-package }
      register: r_unknown
      ignore_errors: true
    - name: a version that does not exist
      apt: { name: vp-hello=9.9 }
      register: r_noversion
      ignore_errors: true
    - name: package removes through apt
      package: { name: [vp-hello, vp-dep], state: absent }
      register: r_pkg_remove
    - name: a .deb by URL
      apt: { deb: "{{ repo_url }}vp-hello_1.0_all.deb" }
      register: r_deb
    - name: the same .deb again
      apt: { deb: "{{ repo_url }}vp-hello_1.0_all.deb" }
      register: r_deb_again
    - name: package installs through apt
      package: { name: vp-conf }
      register: r_pkg
    - name: hold
      dpkg_selections: { name: vp-hello, selection: hold }
      register: r_hold
    - name: held, latest leaves it
      apt: { name: vp-hello, state: latest }
      register: r_held_latest
      ignore_errors: true
    - name: hold again
      dpkg_selections: { name: vp-hello, selection: hold }
      register: r_hold_again
    - name: release
      dpkg_selections: { name: vp-hello, selection: install }
      register: r_release
    - name: collect
      copy:
        dest: ${RESULTS}
        content: "{{ {'update': r_update, 'valid': r_valid, 'install': r_install, 'again': r_again, 'latest': r_latest, 'latest_again': r_latest_again, 'floor': r_floor, 'base': r_base, 'check': r_check, 'conf': r_conf, 'remove': r_remove, 'purge': r_purge, 'purge_again': r_purge_again, 'unknown': r_unknown, 'noversion': r_noversion, 'pkg_remove': r_pkg_remove, 'deb': r_deb, 'deb_again': r_deb_again, 'pkg': r_pkg, 'hold': r_hold, 'held_latest': r_held_latest, 'hold_again': r_hold_again, 'release': r_release} | to_json }}"
`;

type Registered = Record<string, Record<string, unknown>>;

/** What a playbook reads of a registered apt result: changed/failed/msg, the cache fields, which output keys exist. */
function readable(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { changed: r['changed'], failed: r['failed'] ?? false };
  if ('cache_updated' in r) out['cache_updated'] = r['cache_updated'];
  if ('cache_update_time' in r) out['cache_update_time'] = typeof r['cache_update_time'];
  // A failed apt-get is "'COMMAND' failed: STDERR": the command line is each tool's own spelling.
  if (r['failed']) out['msg'] = String(r['msg']).replace(/^'.*?' failed: /s, "'…' failed: ").trim();
  for (const k of ['before', 'after']) if (k in r) out[k] = r[k];
  for (const k of ['stdout', 'stderr', 'stdout_lines', 'stderr_lines']) if (k in r) out[k] = typeof r[k];
  return out;
}

describe.skipIf(!fleetAvailable())('apt and package on the fleet, against ansible-playbook', () => {
  let dir: string;
  let repo: ServedRepo;
  let inventory: string;
  let playbook: string;
  const runs: Record<string, { run: CliRun; rerun: CliRun; registered: Registered; states: Record<string, string> }> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-apt-fleet-'));
    repo = await serveRepo(await buildRepo());
    await attachHost(HOST, repo, { ansibleDeps: true });
    const host = fleetHosts().find((h) => h.index === HOST)!;
    inventory = await writeVncInventory(dir, [host], {
      ansible_python_interpreter: '/usr/bin/python3',
      ansible_ssh_common_args: `-o UserKnownHostsFile=${fleetKnownHosts()} -o StrictHostKeyChecking=yes`,
      repo_url: repo.url,
    }, {
      key: fleetKey(),
      knownHosts: fleetKnownHosts(),
    });
    playbook = path.join(dir, 'apt.yml');
    await writeFile(playbook, PLAYBOOK);
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      await purgePackages(HOST);
      // The repo's lists gone and the folder an hour old: the first update_cache changes the cache, as on a new host.
      await hostExecOk(HOST, ['sh', '-c', `rm -f /var/lib/apt/lists/${fleetBridgeAddress()}:* && touch -d '-1 hour' /var/lib/apt/lists`]);
      const first = await run(['-i', inventory, playbook], { cwd: dir });
      const written = await hostExec(HOST, ['cat', RESULTS]);
      if (written.code !== 0) throw new Error(`${tool} did not get to the end:\n${first.stdout}\n${first.stderr}`);
      const registered = JSON.parse(written.stdout) as Registered;
      await hostExecOk(HOST, ['rm', '-f', RESULTS]);
      const states: Record<string, string> = {};
      for (const name of ['vp-hello', 'vp-base', 'vp-dep', 'vp-conf']) states[name] = await hostPackageState(HOST, name);
      const rerun = await run(['-i', inventory, playbook], { cwd: dir });
      runs[tool] = { run: first, rerun, registered, states };
    }
  }, 600_000);

  afterAll(async () => {
    await hostExec(HOST, ['rm', '-f', RESULTS]);
    await detachHost(HOST, { ansibleDeps: true });
    await repo?.close();
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('gives the same recap as ansible-playbook on the first run and the re-run', () => {
    const ours = runs['vncplay']!;
    const theirs = runs['ansible']!;
    expect(theirs.run.code, theirs.run.stdout + theirs.run.stderr).toBe(0);
    expect(ours.run.code, ours.run.stdout + ours.run.stderr).toBe(0);
    expect(ours.run.recap).toEqual(theirs.run.recap);
    expect(ours.rerun.recap).toEqual(theirs.rerun.recap);
  });

  it('registers the same fields, task by task', () => {
    const ours = runs['vncplay']!.registered;
    const theirs = runs['ansible']!.registered;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const task of Object.keys(theirs)) {
      expect({ task, ...readable(ours[task]!) }).toEqual({ task, ...readable(theirs[task]!) });
    }
    const changed = Object.fromEntries(Object.entries(ours).map(([task, r]) => [task, r['changed']]));
    expect(changed).toMatchObject({ install: true, again: false, latest: true, latest_again: false, floor: false, check: true, conf: true });
    expect(changed).toMatchObject({ remove: true, purge: true, purge_again: false, pkg_remove: true, deb: true, deb_again: false, pkg: true });
    expect(ours['hold']).toMatchObject({ changed: true, before: 'install', after: 'hold' });
    expect(changed).toMatchObject({ hold_again: false, release: true });
    expect(ours['update']).toMatchObject({ changed: true, cache_updated: true });
    expect(ours['valid']).toMatchObject({ changed: false, cache_updated: false });
    expect(ours['unknown']).toMatchObject({ failed: true, msg: "No package matching 'vp-no-such-package' is available" });
    expect(ours['noversion']).toMatchObject({ failed: true, msg: 'no available installation candidate for vp-hello=9.9' });
  });

  it('leaves the packages as Ansible does, and installs many in one apt-get call', () => {
    expect(runs['vncplay']!.states).toEqual(runs['ansible']!.states);
    expect(runs['vncplay']!.states).toMatchObject({ 'vp-hello': 'ii 1.0', 'vp-conf': 'ii 1.0' });
    const install = runs['vncplay']!.registered['install']!;
    // one call: apt-get's own summary names both packages and the dependency
    expect(String(install['stdout'])).toMatch(/The following NEW packages will be installed:\s+vp-base vp-dep vp-hello/);
  });
});

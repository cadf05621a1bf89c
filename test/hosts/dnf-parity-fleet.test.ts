import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetInventoryIni, hostExecOk } from '../fleet/fleet.js';
import { attachRpmRepo, buildRpmRepo, detachRpmRepo, hostRpms, serveRepoInChild, type RpmRepo } from '../fleet/rpm-repo.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * dnf, yum, rpm_key and package (use: dnf) side by side with ansible-playbook (its dnf module over python3-dnf) on
 * fleet host h2, against a real RPM repository built and signed here (test/fleet/rpm-repo.ts). Debian's dnf runs
 * on the host's own root, whose rpm database holds only these packages. The playbook ends with everything removed,
 * so both tools start from the same host.
 */
const HOST = 2;
const INSTALLROOT = '/tmp/vncplay-dnf-root';
/** dnf's configuration for the installroot task: the host's repositories (else dnf looks for them in the root). */
const CONF_FILE = '/tmp/vncplay-dnf.conf';

const playbook = (repoUrl: string, fingerprint: string): string => `
- hosts: h2
  gather_facts: false
  vars:
    key_url: ${repoUrl}key.asc
  tasks:
    - name: key with a wrong fingerprint
      rpm_key: {key: "{{ key_url }}", fingerprint: "0000 1111 2222 3333 4444 5555 6666 7777 8888 9999"}
      ignore_errors: true
    - name: key in check mode
      rpm_key: {key: "{{ key_url }}"}
      check_mode: true
    - name: key from a URL
      rpm_key: {key: "{{ key_url }}", fingerprint: "${fingerprint.replace(/(.{4})/g, '$1 ').trim()}"}
    - name: key again
      ansible.builtin.rpm_key: {key: "{{ key_url }}", state: present}
    - name: one version
      dnf: {name: vp-hello-1.0}
    - name: a package and its dependency
      ansible.builtin.dnf: {name: [vp-dep], state: present}
    - name: the same again
      dnf: {name: [vp-dep, vp-base], state: installed}
    - name: latest in check mode
      dnf: {name: vp-hello, state: latest}
      check_mode: true
    - name: latest through yum
      yum: {name: vp-hello, state: latest, use_backend: dnf}
    - name: a lower version is left alone
      dnf: {name: vp-hello-1.0-1}
    - name: an unknown name fails the task
      dnf: {name: [vp-hello, vp-no-such-package]}
      ignore_errors: true
    - name: unsigned package with gpgcheck
      dnf: {name: vp-unsigned}
      ignore_errors: true
    - name: unsigned package without gpgcheck
      dnf: {name: vp-unsigned, disable_gpg_check: true}
    - name: a package of a disabled repository
      dnf: {name: vp-extra}
      ignore_errors: true
    - name: that repository enabled for the task
      dnf: {name: vp-extra, disablerepo: '*', enablerepo: vp-extra, install_weak_deps: false}
    - name: package with use dnf
      package: {name: vp-hello, state: absent, use: dnf}
    - name: yum on a host whose manager is apt
      yum: {name: vp-hello}
      ignore_errors: true
    - name: into an installroot
      dnf: {name: vp-base, installroot: ${INSTALLROOT}, conf_file: ${CONF_FILE}, disable_gpg_check: true}
    - name: removing a package keeps its dependency without autoremove
      dnf: {name: vp-dep, state: absent}
    - name: what the installroot holds
      command: rpm --root ${INSTALLROOT} -qa --qf '%{NAME}-%{VERSION}\\n'
      register: root_rpms
      changed_when: false
    - name: remove everything
      dnf: {name: [vp-dep, vp-base, vp-unsigned, vp-extra, vp-hello], state: absent}
    - name: remove again
      dnf: {name: [vp-dep, vp-base], state: removed}
    - name: key removed by id
      rpm_key: {key: "${fingerprint.slice(-8)}", state: absent}
    - name: key removed again
      rpm_key: {key: "0x${fingerprint.slice(-16).toLowerCase()}", state: absent}
    - name: installroot removed
      file: {path: ${INSTALLROOT}, state: absent}
`;

/** results lists come from a Python set in Ansible's dnf: compared sorted. */
function sortedResults(byTask: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(byTask).map(([task, r]) => [task, Array.isArray(r['results']) ? { ...r, results: [...(r['results'] as string[])].sort() } : r]),
  );
}

describe.skipIf(!fleetAvailable())('dnf, yum, rpm_key: parity with ansible-playbook on a fleet host', () => {
  let repo: RpmRepo;
  let served: ServedRepo;

  beforeAll(async () => {
    repo = await buildRpmRepo();
    served = await serveRepoInChild(repo.dir);
    await detachRpmRepo(HOST);
    await attachRpmRepo(HOST, served);
    await hostExecOk(HOST, ['sh', '-c', 'printf "[main]\\ngpgcheck=True\\nreposdir=/etc/yum.repos.d\\n" > "$1"', 'sh', CONF_FILE]);
  }, 120_000);

  afterAll(async () => {
    if (!fleetAvailable()) return;
    await detachRpmRepo(HOST);
    await hostExecOk(HOST, ['rm', '-rf', INSTALLROOT, CONF_FILE]);
    await served?.close();
    if (repo) await rm(repo.dir, { recursive: true, force: true });
  });

  it('changes the same, registers the same results, and leaves the host as it was', async () => {
    const run = await runBoth(playbook(served.url, repo.fingerprint), { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const theirs = sortedResults(pick(run.theirs, ['changed', 'failed', 'msg', 'results', 'rc', 'failures', 'stdout']));
    const ours = sortedResults(pick(run.ours, ['changed', 'failed', 'msg', 'results', 'rc', 'failures', 'stdout']));
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(25);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['a package and its dependency']).toEqual({ changed: true, msg: '', rc: 0, results: ['Installed: vp-base-2.0-1.noarch', 'Installed: vp-dep-1.0-1.noarch'] });
    expect(theirs['latest through yum']!['results']).toEqual(['Installed: vp-hello-1.1-1.noarch', 'Removed: vp-hello-1.0-1.noarch']);
    expect(theirs['the same again']).toEqual({ changed: false, msg: 'Nothing to do', rc: 0, results: [] });
    expect(theirs['what the installroot holds']!['stdout']).toBe('vp-base-2.0');
    expect(theirs['removing a package keeps its dependency without autoremove']!['results']).toEqual(['Removed: vp-dep-1.0-1.noarch']);
    // The helper tasks' messages are command's and file's own (other modules' parity, not these).
    for (const task of ['what the installroot holds', 'installroot removed']) for (const side of [theirs, ours]) delete side[task]!['msg'];
    // Error messages: the same where both come from the same decision; dnf's own wording differs (API vs CLI).
    for (const task of ['unsigned package with gpgcheck', 'yum on a host whose manager is apt']) {
      expect(ours[task]!['failed'], task).toBe(true);
      expect(theirs[task]!['failed'], task).toBe(true);
      for (const side of [ours, theirs]) delete side[task];
    }
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostRpms(HOST)).toEqual([]);
    expect(await hostExecOk(HOST, ['sh', '-c', 'rpm -qa gpg-pubkey; true'])).toBe('');
  }, 300_000);
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachHost, buildRepo, detachHost, hostDebs, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetInventoryIni, fleetReset, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';
import { buildWheel } from '../support/python-wheel.js';

/**
 * pip side by side with ansible-playbook's pip on fleet host h2: Debian's python3-pip installed into the host from
 * the local repository (the image has no pip), two versions of a tiny wheel served over HTTP on the bridge as a
 * find-links page. A virtualenv made without pip (it sees the system's pip through --system-site-packages, and a
 * bin/pip3 runs it) takes the installs; the system's own site-packages is Debian's "externally managed" one (PEP
 * 668), which both tools must fail on alike, and which --break-system-packages opens; `executable: pip3` runs as
 * /usr/bin/pip3 (`cmd`), as Ansible's get_bin_path finds it. Requirements files are compared on the controller
 * (pip-parity-local): each pip call costs seconds on a host. The host is reset afterwards.
 */
const HOST = 2;
const PIP_DEBS = ['python3-pip', 'python3-setuptools', 'python3-wheel', 'python3-distutils', 'python3-lib2to3'];
const VENV = '/opt/vp-venv';

const playbook = (linksUrl: string): string => `
- hosts: h${HOST}
  gather_facts: false
  environment: {PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1'}
  vars:
    venv: ${VENV}
    offline: --no-index --find-links ${linksUrl} --trusted-host ${new URL(linksUrl).hostname}
  tasks:
    - name: into the virtualenv
      pip: {name: vp-left, version: 1.0.0, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: again
      ansible.builtin.pip: {name: vp-left==1.0.0, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: check mode, another version
      pip: {name: "vp-left==1.1.0", virtualenv: "{{ venv }}"}
      check_mode: true
    - name: latest
      pip: {name: vp-left, state: latest, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
    - name: version
      command: "{{ venv }}/bin/python -c 'import vp_left; print(vp_left.VERSION)'"
      changed_when: false
    - name: externally managed system packages
      pip: {name: vp-left, executable: pip3, extra_args: "{{ offline }}"}
      ignore_errors: true
    - name: system packages, break-system-packages
      pip: {name: vp-left, executable: pip3, extra_args: "{{ offline }} --break-system-packages"}
    - name: removed from the system packages
      pip: {name: vp-left, state: absent, executable: pip3, extra_args: --break-system-packages}
    - name: remove
      pip: {name: vp-left, state: absent, virtualenv: "{{ venv }}"}
    - name: unknown package
      pip: {name: vp-no-such-package, virtualenv: "{{ venv }}", extra_args: "{{ offline }}"}
      ignore_errors: true
`;

describe.skipIf(!fleetAvailable())('pip: parity with ansible-playbook on a fleet host', () => {
  let wheels: ServedRepo | undefined;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-wheels-'));
    for (const version of ['1.0.0', '1.1.0']) buildWheel(dir, 'vp_left', version);
    // pip reads a find-links URL as an HTML page of links (the served folder has no listing of its own).
    const links = ['1.0.0', '1.1.0'].map((v) => `<a href="vp_left-${v}-py3-none-any.whl">vp_left-${v}</a><br>`);
    await writeFile(path.join(dir, 'links.html'), `<html><body>\n${links.join('\n')}\n</body></html>\n`);
    wheels = await serveRepo(dir);
    const debs = await serveRepo(await buildRepo([], [], await hostDebs(PIP_DEBS)));
    try {
      await attachHost(HOST, debs);
      await hostExecOk(HOST, ['sh', '-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip >/dev/null'], { timeoutMs: 120_000 });
    } finally {
      await detachHost(HOST);
      await debs.close();
      await rm(debs.dir, { recursive: true, force: true });
    }
    const venv = [
      `python3 -m venv --without-pip --system-site-packages ${VENV}`,
      `printf '#!/bin/sh\\nexec "$(dirname "$0")/python" -m pip "$@"\\n' > ${VENV}/bin/pip3 && chmod +x ${VENV}/bin/pip3`,
    ];
    await hostExecOk(HOST, ['sh', '-c', venv.join('\n')]);
  }, 240_000);

  afterAll(async () => {
    await wheels?.close();
    if (wheels) await rm(wheels.dir, { recursive: true, force: true });
    // pip, the virtualenv and anything either tool left: a clean root again.
    if (fleetAvailable()) await fleetReset(HOST);
  }, 120_000);

  it('changes the same, registers the same and fails the same', async () => {
    const run = await runBoth(playbook(`${wheels!.url}links.html`), { inventory: { file: fleetInventoryIni() }, host: `h${HOST}` });
    const fields = ['changed', 'failed', 'name', 'version', 'state', 'requirements', 'virtualenv', 'cmd'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(10);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(Object.entries(theirs).filter(([, r]) => r['changed']).map(([task]) => task)).toEqual([
      'into the virtualenv', 'check mode, another version', 'latest', 'system packages, break-system-packages',
      'removed from the system packages', 'remove',
    ]);
    expect(Object.entries(theirs).filter(([, r]) => r['failed']).map(([task]) => task)).toEqual(['externally managed system packages', 'unknown package']);
    expect(run.theirs['version']!['stdout']).toBe('1.1.0');
    expect(pick(run.ours, fields), run.oursOutput.slice(-4000)).toEqual(theirs);
    expect(run.ours['version']!['stdout']).toBe('1.1.0');
    expect(String(run.ours['externally managed system packages']!['msg'])).toContain('externally-managed-environment');
    expect(String(run.ours['unknown package']!['msg'])).toContain('No matching distribution found for vp-no-such-package');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 240_000);
});

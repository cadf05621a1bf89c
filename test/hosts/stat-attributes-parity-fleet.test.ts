import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, runBoth } from '../support/module-parity.js';

/**
 * stat's version, attributes and attr_flags (lsattr -vd) side by side with ansible-playbook on fleet host h2: the
 * container's root, a file in /etc, a file in /tmp given the nodump flag where the file system takes it, tmpfs
 * (/dev/shm, /run), a device, a directory, a link, and get_attributes: false. Where lsattr -v fails (overlayfs,
 * tmpfs, a device) Ansible gives None, [] and ''; on the ext4 under /run/host it gives the generation number and
 * flags. Both must agree wherever it is.
 */
const D = '/tmp/vp-statattr';
// systemd-nspawn's /run/host entries are bind mounts of the machine's ext4: there lsattr -v reads what it asks for.
const paths = ['/', '/etc/hostname', `${D}/flagged`, `${D}/plain`, D, `${D}/link`, '/dev/shm', '/run', '/dev/null', '/run/host/os-release', '/run/host/incoming'];
const playbook = `
- hosts: h2
  gather_facts: false
  tasks:
    - name: files
      shell: rm -rf ${D} && mkdir -p ${D} && printf x > ${D}/flagged && printf y > ${D}/plain && ln -s plain ${D}/link && { chattr +d ${D}/flagged 2>/dev/null || true; }
${paths.map((p) => `    - name: stat ${p}\n      stat: {path: ${p}}`).join('\n')}
    - name: stat without attributes
      stat: {path: /etc/hostname, get_attributes: false}
    - name: stat by the attr alias
      stat: {path: ${D}/flagged, attr: true}
    - name: a clean end
      file: {path: ${D}, state: absent}
`;

const FIELDS = ['exists', 'isreg', 'isdir', 'islnk', 'version', 'attributes', 'attr_flags'] as const;

function attributeFields(result: Record<string, unknown> | undefined): Record<string, unknown> {
  const stat = (result?.['stat'] ?? {}) as Record<string, unknown>;
  return Object.fromEntries(FIELDS.filter((k) => k in stat).map((k) => [k, stat[k]]));
}

describe.skipIf(!fleetAvailable())('stat attributes: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(2, ['rm', '-rf', D]);
  });

  it('registers the same version, attributes and attr_flags wherever lsattr works or fails', async () => {
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const names = [...paths.map((p) => `stat ${p}`), 'stat without attributes', 'stat by the attr alias'];
    const theirs = Object.fromEntries(names.map((n) => [n, attributeFields(run.theirs[n])]));
    const ours = Object.fromEntries(names.map((n) => [n, attributeFields(run.ours[n])]));
    expect(Object.values(theirs).every((s) => s['exists'] === true), run.theirsOutput.slice(-4000)).toBe(true);
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(theirs['stat without attributes']).not.toHaveProperty('attr_flags');
    expect(theirs['stat /dev/null']).toMatchObject({ version: null, attributes: [], attr_flags: '' });
    expect(theirs['stat /run/host/os-release']).toMatchObject({ version: expect.stringMatching(/^\d+$/), attributes: expect.arrayContaining(['extents']) });
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * mount, timezone and pam_limits side by side with ansible-playbook on fleet host h2. mount: a tmpfs and a bind
 * mount in the host's real /etc/fstab, mounted, changed (remount), an entry only, remounted, unmounted, removed.
 * timezone: through timedatectl (systemd-timedated runs in the nspawn host), and back. pam_limits: a file in
 * /etc/security/limits.d. Each run ends with everything unmounted and removed and the zone back; /etc/fstab and
 * the zone are restored byte for byte afterwards. mount's `ephemeral` state has a play of its own: tmpfs and bind
 * mounts with no fstab at all (the file is not even rewritten: same inode and mtime).
 */
const HOST = 2;
const playbook = `
- hosts: h2
  gather_facts: false
  tasks:
    - name: tmpfs mounted
      mount: {path: /mnt/vp-tmp, src: tmpfs, fstype: tmpfs, opts: size=1m, state: mounted}
    - name: tmpfs again
      mount: {path: /mnt/vp-tmp, src: tmpfs, fstype: tmpfs, opts: size=1m, state: mounted}
    - name: tmpfs bigger in check mode
      mount: {path: /mnt/vp-tmp, src: tmpfs, fstype: tmpfs, opts: size=2m, state: mounted}
      check_mode: true
    - name: tmpfs bigger
      mount: {path: /mnt/vp-tmp, src: tmpfs, fstype: tmpfs, opts: size=2m, state: mounted}
    - name: bind source
      file: {path: /srv/vp-bind-src, state: directory}
    - name: bind mounted
      mount: {path: /mnt/vp-bind, src: /srv/vp-bind-src, fstype: none, opts: bind, state: mounted}
    - name: bind again
      mount: {path: /mnt/vp-bind, src: /srv/vp-bind-src, fstype: none, opts: bind, state: mounted}
    - name: entry only, not at boot
      mount: {path: /mnt/vp-present, src: tmpfs, fstype: tmpfs, opts: mode=0700, state: present, boot: false}
    - name: a failed mount puts the fstab back
      mount: {path: /mnt/vp-bad/x, src: /dev/vp-nonesuch, fstype: ext4, state: mounted}
      ignore_errors: true
    - name: mounts on the host
      shell: grep vp- /etc/fstab; findmnt -n -o FSTYPE,OPTIONS /mnt/vp-tmp | grep -o 'tmpfs.*size=[0-9]*k'; findmnt -n -o TARGET /mnt/vp-bind; ls -d /mnt/vp-bad 2>&1
      register: mounted
      changed_when: false
      failed_when: false
    - name: tmpfs remounted
      mount: {path: /mnt/vp-tmp, state: remounted}
    - name: remounting what is not mounted fails
      mount: {path: /mnt/vp-nonesuch, state: remounted}
      ignore_errors: true
    - name: remounting with options fails without a fresh mount
      mount: {path: /mnt/vp-nonesuch, opts: ro, state: remounted}
      ignore_errors: true
    - name: bind unmounted
      mount: {path: /mnt/vp-bind, state: unmounted}
    - name: bind unmounted again
      mount: {path: /mnt/vp-bind, state: unmounted}
    - name: all absent
      mount: {path: "{{ item }}", state: absent}
      loop: [/mnt/vp-tmp, /mnt/vp-bind, /mnt/vp-present]
    - name: absent again
      mount: {path: /mnt/vp-tmp, state: absent}
    - name: bind source removed
      file: {path: /srv/vp-bind-src, state: absent}
    - name: nothing left
      shell: grep vp- /etc/fstab; findmnt /mnt/vp-tmp; findmnt /mnt/vp-bind; ls -d /mnt/vp-tmp /mnt/vp-bind /mnt/vp-present 2>/dev/null
      register: left
      changed_when: false
      failed_when: false
    - name: timezone set
      timezone: {name: Asia/Tokyo}
    - name: timezone again
      community.general.timezone: {name: Asia/Tokyo}
    - name: timezone in check mode
      timezone: {name: Europe/Paris}
      check_mode: true
    - name: timezone on the host
      shell: readlink -f /etc/localtime; date +%Z
      register: zone
      changed_when: false
    - name: timezone unknown
      timezone: {name: Mars/Base}
      ignore_errors: true
    - name: timezone back
      timezone: {name: "{{ zone_before }}"}
    - name: limits entry
      pam_limits: {domain: vncplay, limit_type: soft, limit_item: nofile, value: '8192', dest: /etc/security/limits.d/vp-test.conf}
    - name: limits entry again
      pam_limits: {domain: vncplay, limit_type: soft, limit_item: nofile, value: '8192', dest: /etc/security/limits.d/vp-test.conf}
    - name: limits file removed
      file: {path: /etc/security/limits.d/vp-test.conf, state: absent}
`;

const ephemeralPlaybook = `
- hosts: h2
  gather_facts: false
  tasks:
    - name: tmpfs in check mode
      mount: {path: /mnt/vp-eph/deep, src: tmpfs, fstype: tmpfs, opts: size=1m, state: ephemeral}
      check_mode: true
    - name: no folder made in check mode
      command: ls -d /mnt/vp-eph
      register: folder
      changed_when: false
      failed_when: false
    - name: tmpfs mounted
      mount: {path: /mnt/vp-eph/deep, src: tmpfs, fstype: tmpfs, opts: size=1m, state: ephemeral}
    - name: tmpfs again
      mount: {path: /mnt/vp-eph/deep, src: tmpfs, fstype: tmpfs, opts: size=1m, state: ephemeral}
    - name: tmpfs bigger
      mount: {path: /mnt/vp-eph/deep, src: tmpfs, fstype: tmpfs, opts: size=2m, state: ephemeral}
    - name: tmpfs bigger still in check mode
      mount: {path: /mnt/vp-eph/deep, src: tmpfs, fstype: tmpfs, opts: size=3m, state: ephemeral}
      check_mode: true
    - name: bind source
      file: {path: /srv/vp-eph-src, state: directory}
    - name: another source refused
      mount: {path: /mnt/vp-eph/deep, src: /srv/vp-eph-src, fstype: none, opts: bind, state: ephemeral}
      ignore_errors: true
    - name: bind mounted
      mount: {path: /mnt/vp-ebind, src: /srv/vp-eph-src, fstype: none, opts: bind, state: ephemeral}
    - name: bind again
      mount: {path: /mnt/vp-ebind, src: /srv/vp-eph-src, fstype: none, opts: bind, state: ephemeral}
    - name: a failed mount removes the folders it made
      mount: {path: /mnt/vp-ebad/x, src: /dev/vp-nonesuch, fstype: ext4, state: ephemeral}
      ignore_errors: true
    - name: mounts on the host
      shell: findmnt -n -o FSTYPE /mnt/vp-eph/deep; findmnt -n -o OPTIONS /mnt/vp-eph/deep | grep -o 'size=[0-9]*k'; findmnt -n -o TARGET /mnt/vp-ebind; ls -d /mnt/vp-ebad 2>&1; grep -c vp-e /etc/fstab
      register: mounted
      changed_when: false
      failed_when: false
    - name: unmounted
      mount: {path: "{{ item }}", state: unmounted}
      loop: [/mnt/vp-eph/deep, /mnt/vp-ebind]
    - name: folders removed
      file: {path: "{{ item }}", state: absent}
      loop: [/mnt/vp-eph, /mnt/vp-ebind, /srv/vp-eph-src]
`;

describe.skipIf(!fleetAvailable())('mount, timezone and pam_limits: parity with ansible-playbook on a fleet host', () => {
  let fstab = '';
  let zone = '';
  let localtime = '';
  const restore = async (): Promise<void> => {
    if (zone !== '') await hostExec(HOST, ['timedatectl', 'set-timezone', zone]);
    // timedatectl links relatively (../usr/share/zoneinfo/…): the link goes back to what it was.
    if (localtime !== '') await hostExec(HOST, ['ln', '-sfn', localtime, '/etc/localtime']);
    await hostExec(HOST, ['rm', '-f', '/etc/security/limits.d/vp-test.conf']);
    await hostExec(HOST, ['sh', '-c', 'for m in /mnt/vp-tmp /mnt/vp-bind /mnt/vp-present /mnt/vp-eph/deep /mnt/vp-ebind; do while mountpoint -q $m; do umount $m; done; done; rm -rf /mnt/vp-* /srv/vp-bind-src /srv/vp-eph-src']);
    if (fstab !== '') await hostExecOk(HOST, ['sh', '-c', 'cat > /etc/fstab'], { stdin: fstab });
  };
  // Read once, before any play: a play stopped half way leaves entries that the next test must not take for the host's own.
  beforeAll(async () => {
    fstab = await hostExecOk(HOST, ['cat', '/etc/fstab']);
  });
  afterAll(async () => {
    if (fleetAvailable()) await restore();
  });

  it('mounts, remounts, unmounts and edits fstab the same way, with the same registered fields', async () => {
    zone = (await hostExecOk(HOST, ['sh', '-c', "LC_ALL=C timedatectl status | sed -n 's/^ *Time zone: \\([^ ]*\\).*/\\1/p'"])).trim();
    expect(zone).toMatch(/^\S+\/\S+$/);
    localtime = (await hostExecOk(HOST, ['readlink', '/etc/localtime'])).trim();
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h2', args: ['-e', `zone_before=${zone}`] });
    const fields = ['changed', 'failed', 'name', 'src', 'fstype', 'opts', 'dump', 'passno', 'fstab', 'boot', 'backup_file', 'stdout', 'msg'];
    const theirs = pick(run.theirs, fields);
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    expect(theirs['timezone set']!['msg']).toBe('executed `/usr/bin/timedatectl set-timezone Asia/Tokyo`');
    expect(theirs['timezone on the host']!['stdout']).toBe('/usr/share/zoneinfo/Asia/Tokyo\nJST');
    expect(String(run.ours['timezone unknown']!['msg'])).toContain('given timezone "Mars/Base" is not available');
    expect(theirs['timezone unknown']!['msg']).toContain('given timezone "Mars/Base" is not available');
    // msg only where the module words it (timezone when it ran, pam_limits): vncplay's runner says what a change did
    // where Ansible's modules say nothing.
    const ownMsg = (n: string): boolean => ['timezone set', 'timezone again', 'limits entry', 'limits entry again'].includes(n);
    for (const [name, t] of Object.entries(theirs)) if (!ownMsg(name)) delete t['msg'];
    // What Ansible did, spelled out.
    expect(theirs['mounts on the host']!['stdout']).toContain(
      'tmpfs /mnt/vp-tmp tmpfs size=2m 0 0\n/srv/vp-bind-src /mnt/vp-bind none bind 0 0\ntmpfs /mnt/vp-present tmpfs mode=0700,noauto 0 0\n',
    );
    expect(theirs['nothing left']!['stdout']).toBe('');
    // A failed mount leaves neither its fstab entry (it would break the next boot) nor the folders it made.
    expect(theirs['mounts on the host']!['stdout']).toMatch(/noauto 0 0\n.*\n\/mnt\/vp-bind\nls: cannot access '\/mnt\/vp-bad': No such file or directory$/);
    expect(theirs['a failed mount puts the fstab back']!['changed']).toBe(false);
    const failMsg = (r: Record<string, Record<string, unknown>>): string => String(r['a failed mount puts the fstab back']!['msg']).trim();
    expect(failMsg(run.theirs)).toMatch(/^Error mounting \/mnt\/vp-bad\/x: mount: /);
    expect(failMsg(run.ours)).toBe(failMsg(run.theirs));
    // A failed remount is no change for Ansible either; vncplay's message names the step before the command's words.
    const remountMsg = (r: Record<string, Record<string, unknown>>, n: string): string => String(r[n]!['msg']).trim();
    expect(remountMsg(run.theirs, 'remounting what is not mounted fails')).toMatch(/^Error remounting \/mnt\/vp-nonesuch: umount: /);
    expect(remountMsg(run.ours, 'remounting what is not mounted fails')).toContain(remountMsg(run.theirs, 'remounting what is not mounted fails').replace('Error remounting /mnt/vp-nonesuch: ', ''));
    expect(remountMsg(run.theirs, 'remounting with options fails without a fresh mount')).toMatch(/^Options were specified with remounted, but the remount command failed\./);
    expect(remountMsg(run.ours, 'remounting with options fails without a fresh mount')).toContain(remountMsg(run.theirs, 'remounting with options fails without a fresh mount'));
    const ours = pick(run.ours, fields);
    for (const [name, t] of Object.entries(ours)) if (!ownMsg(name)) delete t['msg'];
    // A failed command's output is part of vncplay's failed result, not of Ansible's fail_json.
    for (const name of ['remounting what is not mounted fails', 'remounting with options fails without a fresh mount']) delete ours[name]!['stdout'];
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(await hostExecOk(HOST, ['readlink', '-f', '/etc/localtime'])).toBe(`/usr/share/zoneinfo/${zone}\n`);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(HOST, ['cat', '/etc/fstab'])).toBe(fstab);
  });

  it('ephemeral mounts and remounts without the fstab, refuses another source, and says so as Ansible does', async () => {
    const fstabStat = await hostExecOk(HOST, ['stat', '-c', '%i %Y %s', '/etc/fstab']);
    const run = await runBoth(ephemeralPlaybook, { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const fields = ['changed', 'failed', 'name', 'src', 'fstype', 'opts', 'dump', 'passno', 'fstab', 'boot', 'backup_file', 'stdout', 'rc'];
    const theirs = pick(run.theirs, fields);
    const names = [...ephemeralPlaybook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    // What Ansible did, spelled out: every ephemeral run is a change, the failed ones are not.
    expect(Object.fromEntries(Object.entries(theirs).map(([n, t]) => [n, t['changed']]))).toMatchObject({
      'tmpfs in check mode': true, 'tmpfs mounted': true, 'tmpfs again': true, 'tmpfs bigger': true, 'tmpfs bigger still in check mode': true,
      'another source refused': false, 'bind mounted': true, 'bind again': true, 'a failed mount removes the folders it made': false,
    });
    expect(theirs['no folder made in check mode']!['rc']).toBe(2);
    expect(theirs['mounts on the host']!['stdout']).toBe('tmpfs\nsize=2048k\n/mnt/vp-ebind\nls: cannot access \'/mnt/vp-ebad\': No such file or directory\n0');
    expect(theirs['tmpfs mounted']).toMatchObject({ name: '/mnt/vp-eph/deep', src: 'tmpfs', fstype: 'tmpfs', opts: 'size=1m', fstab: '/etc/fstab', boot: 'yes', backup_file: '' });
    // The messages of the failures, Ansible's words (its trailing newline and vncplay's error code aside).
    const msg = (r: Record<string, Record<string, unknown>>, n: string): string => String(r[n]!['msg']).trim().replace(/^error\[E_\w+\]: /, '');
    for (const n of ['another source refused', 'a failed mount removes the folders it made']) expect(msg(run.ours, n), n).toBe(msg(run.theirs, n));
    expect(msg(run.theirs, 'another source refused')).toMatch(/^Ephemeral mount point is already mounted with a different source than the specified one\./);
    expect(msg(run.theirs, 'a failed mount removes the folders it made')).toMatch(/^Error mounting \/mnt\/vp-ebad\/x: mount: /);
    expect(pick(run.ours, fields), run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(HOST, ['stat', '-c', '%i %Y %s', '/etc/fstab'])).toBe(fstabStat);
    expect(await hostExecOk(HOST, ['cat', '/etc/fstab'])).toBe(fstab);
  });
});

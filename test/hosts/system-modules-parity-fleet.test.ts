import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * sysctl, tempfile, find, raw, pause and pamd side by side with ansible-playbook on fleet host h2: one playbook, run by
 * each tool from the same starting state (each run removes what it made). nspawn mounts /proc/sys read-only and,
 * given a network namespace by path, does not make /proc/sys/net writable as it does with --private-network: the
 * test makes it so for the run (a writable bind mount of the host's own /proc/sys/net) and unmounts it after.
 */
const HOST = 2;
const CONF = '/etc/sysctl.d/90-vncplay-test.conf';
const TREE = '/srv/vp-find';

const playbook = `
- hosts: h2
  gather_facts: false
  tasks:
    - name: sysctl set
      sysctl: {name: net.ipv4.ip_forward, value: '1', sysctl_set: true, sysctl_file: ${CONF}}
    - name: sysctl again
      sysctl: {name: net.ipv4.ip_forward, value: '1', sysctl_set: true, sysctl_file: ${CONF}}
    - name: sysctl boolean value in check mode
      sysctl: {key: net.ipv4.ip_forward, val: false, sysctl_set: true, sysctl_file: ${CONF}}
      check_mode: true
    - name: sysctl second key without reload
      sysctl: {name: net.ipv4.tcp_syncookies, value: 0, reload: false, sysctl_file: ${CONF}}
    - name: sysctl state on the host
      shell: cat ${CONF}; sysctl -n net.ipv4.ip_forward net.ipv4.tcp_syncookies
      register: sysctl_state
      changed_when: false
    - name: sysctl absent
      sysctl: {name: net.ipv4.tcp_syncookies, state: absent, reload: false, sysctl_file: ${CONF}}
    - name: sysctl absent again
      sysctl: {name: net.ipv4.tcp_syncookies, state: absent, reload: false, sysctl_file: ${CONF}}
    - name: sysctl back
      sysctl: {name: net.ipv4.ip_forward, value: '0', sysctl_set: true, sysctl_file: ${CONF}}
    - name: tempfile file
      tempfile: {prefix: vp., suffix: .tmp}
      register: tmp_file
    - name: tempfile directory
      tempfile: {state: directory, path: /srv, prefix: vp-dir-}
      register: tmp_dir
    - name: tempfile in check mode
      tempfile: {}
      check_mode: true
    - name: tempfile cleanup
      file: {path: "{{ item }}", state: absent}
      loop: ["{{ tmp_file.path }}", "{{ tmp_dir.path }}"]
    - name: raw builds a tree
      raw: >-
        mkdir -p ${TREE}/a/b/c ${TREE}/.hid && printf 'hello world\\n' > ${TREE}/a/one.txt && echo x > ${TREE}/a/b/two.log &&
        printf 'intro\\nmatch me\\n' > ${TREE}/a/b/c/three.txt && echo h > ${TREE}/.hid/four.txt && touch ${TREE}/.dot.txt &&
        ln -s a ${TREE}/link-a && ln -s a/one.txt ${TREE}/link-one && truncate -s 3000 ${TREE}/big.bin && echo built
    - name: raw fails
      raw: echo out; exit 3
      ignore_errors: true
    - name: raw in check mode
      raw: touch /srv/vp-should-not-exist
      check_mode: true
    - name: find top
      find: {paths: ${TREE}}
    - name: find txt recursively
      find: {paths: ${TREE}, patterns: '*.txt', recurse: true}
    - name: find any with hidden to depth 2 and a missing path
      find: {paths: [${TREE}, /srv/vp-nothing], file_type: any, hidden: true, recurse: true, depth: 2}
    - name: find regex and contains
      find: {paths: ${TREE}, patterns: ['^t.*\\.(txt|log)$'], use_regex: true, recurse: true, contains: 'match'}
    - name: find links followed with checksums
      find: {paths: ${TREE}, recurse: true, follow: true, file_type: link, get_checksum: true}
    - name: find folders except c
      find: {paths: ${TREE}, recurse: true, file_type: directory, excludes: 'c'}
    - name: find by size and age
      find: {paths: ${TREE}, recurse: true, size: '2k', age: '-1d', get_checksum: true}
    - name: find cleanup
      file: {path: ${TREE}, state: absent}
    - name: pause
      pause: {seconds: 1}
    - name: sysctl file removed
      file: {path: ${CONF}, state: absent}
    - name: pam service for pamd
      copy: {src: /etc/pam.d/login, dest: /etc/pam.d/vp-test, remote_src: true}
    - name: pamd after pam_nologin
      pamd: {name: vp-test, type: auth, control: requisite, module_path: pam_nologin.so, state: after, new_type: auth, new_control: optional, new_module_path: pam_faildelay.so, module_arguments: delay=1000000}
    - name: pamd arguments present
      pamd: {name: vp-test, type: auth, control: optional, module_path: pam_faildelay.so, state: args_present, module_arguments: delay=2000000}
    - name: pamd service file
      shell: grep -v '^# Updated by Ansible' /etc/pam.d/vp-test; rm /etc/pam.d/vp-test
      register: pam_file
`;

async function cleanup(): Promise<void> {
  await hostExec(HOST, ['sh', '-c', `rm -rf /etc/pam.d/vp-test ${CONF} ${TREE} /srv/vp-dir-* /srv/vp-should-not-exist /tmp/vp.*.tmp`]);
}

describe.skipIf(!fleetAvailable())('system modules: parity with ansible-playbook on a fleet host', () => {
  let before = '';
  afterAll(async () => {
    if (!fleetAvailable()) return;
    await cleanup();
    await hostExec(HOST, ['sh', '-c', `${before}umount /proc/sys/net`]);
  });

  it('sysctl, tempfile, find, raw, pause and pamd change the same and register the same fields', async () => {
    await cleanup();
    const original = await hostExecOk(HOST, ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv4.tcp_syncookies']);
    const [forward, syncookies] = original.trim().split('\n');
    before = `sysctl -w net.ipv4.ip_forward=${forward} net.ipv4.tcp_syncookies=${syncookies} >/dev/null; `;
    await hostExecOk(HOST, ['sh', '-c', 'mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net']);

    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const fields = ['changed', 'failed', 'skipped', 'rc', 'stdout_lines', 'stderr_lines', 'msg', 'matched', 'examined', 'skipped_paths', 'echo', 'user_input', 'delta', 'change_count'];
    const theirs = pick(run.theirs, fields);
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(run.theirs['sysctl state on the host']!['stdout']).toContain('net.ipv4.ip_forward=1\nnet.ipv4.tcp_syncookies=0\n1\n');
    expect(theirs['find any with hidden to depth 2 and a missing path']).toMatchObject({
      msg: 'Not all paths examined, check warnings for details',
      skipped_paths: { '/srv/vp-nothing': "'/srv/vp-nothing' is not a directory" },
    });
    const ours = pick(run.ours, fields);
    // msg and delta only where the module gives them (find, raw, pause): vncplay's runner says what a change did
    // where Ansible's modules say nothing, and a command's delta is a measured time (its format: command-times-parity-local).
    const ownMsg = (n: string): boolean => (n.startsWith('find ') && n !== 'find cleanup') || n.startsWith('raw ');
    for (const r of [theirs, ours]) {
      for (const [n, t] of Object.entries(r)) {
        if (!ownMsg(n)) delete t['msg'];
        if (n !== 'pause') delete t['delta'];
      }
    }
    // Ansible's raw runs in a terminal (ssh -tt): its stderr comes on stdout, and the message of the ssh client.
    for (const r of [theirs, ours]) for (const name of ['raw builds a tree', 'raw fails']) delete r[name]!['stderr_lines'];
    // A task skipped in check mode: Ansible words it per module, vncplay the same way for all.
    for (const r of [theirs, ours]) for (const name of ['tempfile in check mode', 'raw in check mode']) delete r[name]!['msg'];
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    for (const name of ['sysctl state on the host', 'pamd service file']) expect(run.ours[name]!['stdout'], name).toBe(run.theirs[name]!['stdout']);
    expect(String(run.theirs['pamd service file']!['stdout'])).toContain('auth       optional pam_faildelay.so delay=2000000');

    // Every field of every file found, but the times: the tree is made again by the second run.
    const files = (r: Record<string, unknown> | undefined): unknown =>
      ((r?.['files'] ?? []) as Record<string, unknown>[]).map(({ atime, mtime, ctime, inode, ...rest }) => rest);
    for (const name of Object.keys(run.theirs).filter((n) => n.startsWith('find '))) {
      expect(files(run.ours[name]), name).toEqual(files(run.theirs[name]));
    }
    const made = ['tempfile file', 'tempfile directory'];
    const pathInfo = ['state', 'mode', 'owner', 'group', 'uid', 'gid', 'size'];
    const info = (r: Record<string, Record<string, unknown>>): unknown => made.map((n) => pick({ [n]: r[n]! }, pathInfo));
    expect(info(run.ours)).toEqual(info(run.theirs));
    expect(String(run.ours['tempfile file']!['path'])).toMatch(/^\/tmp\/vp\.[a-z0-9_]{8}\.tmp$/);
    expect(String(run.ours['tempfile directory']!['path'])).toMatch(/^\/srv\/vp-dir-[a-z0-9_]{8}$/);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(HOST, ['sh', '-c', `ls -d ${TREE} /srv/vp-dir-* /srv/vp-should-not-exist 2>/dev/null; true`])).toBe('');
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * user and group side by side with ansible-playbook on fleet host h1's real /etc/passwd, /etc/group and
 * /etc/shadow: create, again (no change), renumber, modify, groups appended and replaced, home moved, an ssh key
 * generated once, a system user without home, a missing group, check mode, removal. Each run ends with
 * everything removed, so both start from the same host; the host's files are read with nsenter, not vncplay.
 */
const hash = '$6$vncplaysalt$rpKdNNRw0ORKtIKxvQbWWWWKz79LWUDEMe9LB7Vp0A738APCD1cI92KagVR32R.Ee3YkhhNa31pz33E5GM/sD1';
const playbook = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: group add
      group: {name: vpgrp1, gid: 4201}
      register: r
    - name: group again
      group: {name: vpgrp1, gid: 4201}
    - name: group renumber
      group: {name: vpgrp1, gid: 4202}
    - name: system group
      group: {name: vpgrp2, system: true}
    - name: user add
      user: {name: vpuser1, uid: 4301, group: vpgrp1, groups: [vpgrp2], shell: /bin/bash, comment: VP User, home: /srv/vphome/vpuser1, password: '${hash}'}
    - name: the account on the host
      shell: |
        getent passwd vpuser1; getent shadow vpuser1 | cut -d: -f2; id -nG vpuser1; ls -A /srv/vphome/vpuser1; stat -c '%U %G %a' /srv/vphome/vpuser1
      register: account_new
      changed_when: false
    - name: user again
      user: {name: vpuser1, uid: 4301, group: vpgrp1, groups: [vpgrp2], shell: /bin/bash, comment: VP User, home: /srv/vphome/vpuser1, password: '${hash}'}
    - name: user modify in check mode
      user: {name: vpuser1, shell: /bin/sh}
      check_mode: true
    - name: user modify
      user: {name: vpuser1, shell: /bin/sh, comment: Other, group: '4202'}
    - name: groups append
      user: {name: vpuser1, groups: [users], append: true}
    - name: groups append again
      user: {name: vpuser1, groups: [users, vpgrp2], append: true}
    - name: groups replace
      user: {name: vpuser1, groups: [vpgrp2]}
    - name: groups emptied
      user: {name: vpuser1, groups: []}
    - name: home moved
      user: {name: vpuser1, home: /srv/vphome/moved, move_home: true}
    - name: ssh key
      user: {name: vpuser1, generate_ssh_key: true, ssh_key_type: ed25519}
    - name: ssh key again
      user: {name: vpuser1, generate_ssh_key: true, ssh_key_type: ed25519}
    - name: the account after the changes
      shell: |
        getent passwd vpuser1; id -nG vpuser1; ls -A /srv/vphome/moved; stat -c '%U %a' /srv/vphome/moved/.ssh /srv/vphome/moved/.ssh/id_ed25519; test ! -e /srv/vphome/vpuser1 && echo old-home-gone
      register: account_changed
      changed_when: false
    - name: system user without home
      user: {name: vpsys1, system: true, create_home: false, shell: /usr/sbin/nologin}
    - name: missing group
      user: {name: vpuser2, group: vp-no-such-group}
      ignore_errors: true
    - name: user remove
      user: {name: vpuser1, state: absent, remove: true}
    - name: user remove again
      user: {name: vpuser1, state: absent, remove: true}
    - name: system user remove
      user: {name: vpsys1, state: absent}
    - name: groups remove
      group: {name: "{{ item }}", state: absent}
      loop: [vpgrp1, vpgrp2]
    - name: group remove again
      group: {name: vpgrp1, state: absent}
    - name: nothing left
      shell: |
        getent passwd vpuser1 vpsys1; getent group vpgrp1 vpgrp2; ls /srv/vphome
      register: left
      changed_when: false
      failed_when: false
`;

async function cleanup(): Promise<void> {
  await hostExec(1, ['sh', '-c', 'for u in vpuser1 vpuser2 vpsys1; do userdel -r $u 2>/dev/null; done; for g in vpgrp1 vpgrp2; do groupdel $g 2>/dev/null; done; rm -rf /srv/vphome; true']);
}

describe.skipIf(!fleetAvailable())('user and group: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await cleanup();
  });

  it('changes the same, registers the same fields, and leaves the same accounts', async () => {
    await cleanup();
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h1' });
    const fields = ['changed', 'failed', 'name', 'state', 'uid', 'group', 'groups', 'comment', 'home', 'shell', 'system', 'create_home', 'append', 'move_home', 'gid', 'force', 'remove', 'password', 'ssh_key_file', 'stdout'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(25);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['the account on the host']!['stdout']).toBe(
      `vpuser1:x:4301:4202:VP User:/srv/vphome/vpuser1:/bin/bash\n${hash}\nvpgrp1 vpgrp2\n.bash_logout\n.bashrc\n.profile\nvpuser1 vpgrp1 755`,
    );
    expect(theirs['the account after the changes']!['stdout']).toBe(
      'vpuser1:x:4301:4202:Other:/srv/vphome/moved:/bin/sh\nvpgrp1\n.bash_logout\n.bashrc\n.profile\n.ssh\nvpuser1 700\nvpuser1 600\nold-home-gone',
    );
    expect(theirs['nothing left']!['stdout']).toBe('');
    const ours = pick(run.ours, fields);
    // vncplay masks a no_log parameter's value (the hash) everywhere in its output, also in later tasks' stdout.
    const shown = theirs['the account on the host']!;
    shown['stdout'] = String(shown['stdout']).replace(hash, '********');
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(run.ours['missing group']!['msg']).toContain('Group vp-no-such-group does not exist');
    expect(run.theirs['missing group']!['msg']).toBe('Group vp-no-such-group does not exist');
    expect(String(run.ours['ssh key']!['ssh_public_key'])).toMatch(/^ssh-ed25519 \S+ ansible-generated on h1$/);
    expect(String(run.theirs['ssh key']!['ssh_public_key'])).toMatch(/^ssh-ed25519 \S+ ansible-generated on h1$/);
    expect(String(run.ours['ssh key again']!['ssh_fingerprint'])).toMatch(/^256 SHA256:\S+ ansible-generated on h1 \(ED25519\)$/);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(1, ['sh', '-c', 'getent passwd vpuser1 vpsys1; getent group vpgrp1 vpgrp2; true'])).toBe('');
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * authorized_key side by side with ansible-playbook on fleet host h2, in the real ~/.ssh/authorized_keys of a user
 * the test makes (the fleet user's own keys are never touched): a first key (folder and file made), again, options
 * and a comment, two keys at once, an option changed, exclusive, removal, check mode, another path without
 * manage_dir, an invalid key and a missing user. The file and its folder are read after every run.
 */
const U = 'vpkeyuser';
const HOME = `/home/${U}`;
const A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvpAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@vp';
const B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDvpBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@vp';
const C = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYvpCCCCCCCCCCCCCC';
export const authorizedKeyPlaybook = (host: string, user: string, home: string): string => `
- hosts: ${host}
  gather_facts: false
  tasks:
    - name: first key
      authorized_key: {user: ${user}, key: "${A}"}
    - name: first key again
      authorized_key: {user: ${user}, key: "${A}"}
    - name: options and comment
      authorized_key: {user: ${user}, key: "${B}", key_options: 'no-port-forwarding,from="10.0.0.1,10.0.0.2"', comment: the bob key}
    - name: two at once
      authorized_key: {user: ${user}, key: "${A}\\n# a comment line\\n${C}"}
    - name: an option changed
      authorized_key: {user: ${user}, key: "${A}", key_options: no-pty}
    - name: check mode
      authorized_key: {user: ${user}, key: "${A}", exclusive: true}
      check_mode: true
    - name: the file after check mode
      command: cat ${home}/.ssh/authorized_keys
      register: before_exclusive
    - name: exclusive
      authorized_key: {user: ${user}, key: "${A}", key_options: no-pty, exclusive: true}
    - name: removed
      authorized_key: {user: ${user}, key: "${A}", state: absent}
    - name: removed again
      authorized_key: {user: ${user}, key: "${A}", state: absent}
    - name: another path
      authorized_key: {user: ${user}, key: "${C}", path: /tmp/vp-ak/keys, manage_dir: false}
    - name: invalid key
      authorized_key: {user: ${user}, key: "ssh-foo AAAA"}
      ignore_errors: true
    - name: missing user
      authorized_key: {user: vp-no-such-user, key: "${A}"}
      ignore_errors: true
    - name: the files
      shell: stat -c '%n %a %U' ${home}/.ssh ${home}/.ssh/authorized_keys /tmp/vp-ak/keys && cat /tmp/vp-ak/keys
      register: files
    - name: a clean end
      file: {path: "{{ item }}", state: absent}
      loop: [${home}/.ssh, /tmp/vp-ak]
`;

async function cleanup(): Promise<void> {
  await hostExec(2, ['sh', '-c', `userdel -r ${U} 2>/dev/null; rm -rf /tmp/vp-ak; true`]);
}

describe.skipIf(!fleetAvailable())('authorized_key: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await cleanup();
  });

  it('writes the same files and registers the same fields', async () => {
    await cleanup();
    await hostExecOk(2, ['useradd', '-m', U]);
    const run = await runBoth(authorizedKeyPlaybook('h2', U, HOME), { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const fields = ['changed', 'failed', 'keyfile', 'user', 'key', 'path', 'manage_dir', 'state', 'key_options', 'exclusive', 'comment', 'follow', 'stdout', 'mode', 'owner', 'size'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(15);
    const ours = pick(run.ours, fields);
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(run.theirs['invalid key']!['msg']).toBe('invalid key specified: ssh-foo AAAA');
    expect(String(run.ours['invalid key']!['msg'])).toContain('invalid key specified: ssh-foo AAAA');
    expect(String(run.ours['missing user']!['msg'])).toContain(String(run.theirs['missing user']!['msg']));
    expect(theirs['the file after check mode']!['stdout']).toBe(
      // A key whose options changed is removed and appended again: it moves to the end.
      `no-port-forwarding,from="10.0.0.1,10.0.0.2" ${B.replace('bob@vp', 'the bob key')}\n${C} \nno-pty ${A}`,
    );
    expect(theirs['the files']!['stdout']).toBe(`${HOME}/.ssh 700 ${U}\n${HOME}/.ssh/authorized_keys 600 ${U}\n/tmp/vp-ak/keys 600 ${U}\n${C} `);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});

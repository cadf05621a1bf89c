import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';

/**
 * become_method: su on the fleet, side by side with ansible-playbook (issue 16): su asks for the target user's
 * password, given as ansible_become_password. h1's root gets a password for the test and its old shadow entry back
 * afterwards. Commands, a file written through become and a wrong password, under both tools.
 */
const ROOT_PASSWORD = 'su-test-Pw-16';

describe.skipIf(!fleetAvailable())('become_method: su on the fleet', () => {
  let dir: string;
  let rootHash: string;

  beforeAll(async () => {
    rootHash = (await hostExecOk(1, ['getent', 'shadow', 'root'])).split(':')[1]!;
    await hostExecOk(1, ['sh', '-c', `echo 'root:${ROOT_PASSWORD}' | chpasswd`]);
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-su-'));
    await chmod(dir, 0o755);
    await writeFile(
      path.join(dir, 'hosts.yml'),
      `all:
  hosts:
    h1:
      ansible_host: ${fleetHosts()[0]!.address}
      ansible_user: vncplay
      ansible_ssh_private_key_file: ${fleetKey()}
      ansible_python_interpreter: /usr/bin/python3
      ansible_ssh_common_args: -o UserKnownHostsFile=${fleetKnownHosts()} -o StrictHostKeyChecking=yes
`,
    );
    await writeFile(
      path.join(dir, 'su.yml'),
      `- hosts: h1
  gather_facts: false
  become: true
  become_method: su
  tasks:
    - name: root through su
      command: id -un
      register: who
      changed_when: false
      failed_when: who.stdout != 'root'
    - name: a file only root may write
      copy:
        content: "written through su\\n"
        dest: /root/vncplay-su-test
        mode: "0600"
    - name: and gone again
      file:
        path: /root/vncplay-su-test
        state: absent
    - name: without become, the login user
      command: id -un
      become: false
      register: plain
      changed_when: false
      failed_when: plain.stdout != 'vncplay'
`,
    );
  });

  afterAll(async () => {
    await hostExec(1, ['rm', '-f', '/root/vncplay-su-test']);
    if (rootHash !== undefined) await hostExecOk(1, ['usermod', '-p', rootHash, 'root']);
  });

  async function both(args: string[]): Promise<{ ours: CliRun; theirs: CliRun }> {
    const theirs = await ansiblePlaybook(args, { cwd: dir });
    const ours = await vncplay(args, { cwd: dir });
    return { ours, theirs };
  }

  it('becomes root with its password, as ansible-playbook does', async () => {
    const { ours, theirs } = await both(['su.yml', '-i', 'hosts.yml', '-e', `ansible_become_password=${ROOT_PASSWORD}`]);
    expect(theirs.code, theirs.stdout + theirs.stderr).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    expect(ours.recap['h1']).toMatchObject({ ok: 4, changed: 2, failed: 0 });
    expect(ours.stdout + ours.stderr).not.toContain(ROOT_PASSWORD);
  });

  it('a wrong password fails the task under both tools; without one vncplay says what su needs', async () => {
    const { ours, theirs } = await both(['su.yml', '-i', 'hosts.yml', '-e', 'ansible_become_password=not-the-password']);
    expect(theirs.code).toBe(2);
    expect(ours.code, ours.stdout + ours.stderr).toBe(2);
    expect(ours.recap).toEqual(theirs.recap);
    expect(ours.stdout).toContain('su on h1 rejected the become password for root');
    const none = await vncplay(['su.yml', '-i', 'hosts.yml'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("become_method su needs root's password");
  });
});

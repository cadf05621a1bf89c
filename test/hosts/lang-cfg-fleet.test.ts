import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';

/**
 * ansible.cfg's connection settings and the remote_user / connection keywords, on the real fleet, side by side with
 * ansible-playbook. Only the `vncplay` user accepts the fleet key, so every precedence level is proved by a losing
 * level naming a user that does not exist: the task works only when the winning level is the one used.
 */
const NOBODY = 'no-such-login';

describe.skipIf(!fleetAvailable())('ansible.cfg and connection keywords on the fleet', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-cfg-fleet-'));
    await chmod(dir, 0o755);
    const [h1, h2] = fleetHosts();
    // No user, no key, no known_hosts file of the fleet: all of that comes from ansible.cfg. UserKnownHostsFile
    // /dev/null (both tools read it) keeps the run from recording keys in ~/.ssh/known_hosts.
    await writeFile(
      path.join(dir, 'hosts.ini'),
      `[fleet]\nh1 ansible_host=${h1!.address}\nh2 ansible_host=${h2!.address} ansible_user=vncplay\n` +
        `[fleet:vars]\nansible_python_interpreter=/usr/bin/python3\nansible_ssh_common_args='-o UserKnownHostsFile=/dev/null'\n`,
    );
    await writeFile(
      path.join(dir, 'login.yml'),
      `- hosts: h1
  gather_facts: false
  tasks:
    - name: login
      command: id -un
      register: login
      changed_when: false
      failed_when: login.stdout != 'vncplay'
`,
    );
    await writeFile(
      path.join(dir, 'keywords.yml'),
      `- name: the play's remote_user beats ansible.cfg, also for gathering facts
  hosts: h1
  remote_user: vncplay
  tasks:
    - name: login
      command: id -un
      register: login
      changed_when: false
      failed_when: login.stdout != 'vncplay' or ansible_facts.hostname is not defined
- name: the host's ansible_user beats the keyword
  hosts: h2
  gather_facts: false
  remote_user: ${NOBODY}
  tasks:
    - name: login
      command: id -un
      register: login
      changed_when: false
      failed_when: login.stdout != 'vncplay'
- name: a block's remote_user, a task's connection
  hosts: h1
  gather_facts: false
  tasks:
    - block:
        - name: block user
          command: id -un
          register: login
          changed_when: false
          failed_when: login.stdout != 'vncplay'
        - name: on the controller
          command: hostname
          connection: local
          register: here
          changed_when: false
          failed_when: here.stdout != controller
      remote_user: vncplay
`,
    );
  });

  async function cfg(lines: string): Promise<string> {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.cfg`);
    await writeFile(file, `[defaults]\ninventory = hosts.ini\nprivate_key_file = ${fleetKey()}\nhost_key_checking = False\n${lines}`);
    return file;
  }

  async function both(args: string[], env: NodeJS.ProcessEnv): Promise<{ ours: CliRun; theirs: CliRun }> {
    const theirs = await ansiblePlaybook(args, { cwd: dir, env });
    const ours = await vncplay(args, { cwd: dir, env });
    return { ours, theirs };
  }

  it('remote_user, private_key_file and host_key_checking = False come from ansible.cfg', async () => {
    const { ours, theirs } = await both(['login.yml'], { ANSIBLE_CONFIG: await cfg('remote_user = vncplay\n') });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    expect(ours.recap['h1']).toMatchObject({ ok: 1, failed: 0, unreachable: 0 });
  });

  it('ANSIBLE_REMOTE_USER beats ansible.cfg, and -u beats both', async () => {
    const config = await cfg(`remote_user = ${NOBODY}\n`);
    for (const [args, env] of [
      [['login.yml'], { ANSIBLE_CONFIG: config, ANSIBLE_REMOTE_USER: 'vncplay' }],
      [['login.yml', '-u', 'vncplay'], { ANSIBLE_CONFIG: config, ANSIBLE_REMOTE_USER: NOBODY }],
    ] as const) {
      const { ours, theirs } = await both([...args], env);
      expect(ours.code, ours.stdout + ours.stderr).toBe(0);
      expect(ours.recap).toEqual(theirs.recap);
    }
  });

  it('become and become_user from [privilege_escalation], and ANSIBLE_BECOME_USER over them', async () => {
    await writeFile(
      path.join(dir, 'become.yml'),
      `- hosts: h1
  gather_facts: false
  tasks:
    - name: who
      command: id -un
      register: who
      changed_when: false
      failed_when: who.stdout != expected
`,
    );
    // pipelining lets ansible-playbook become an unprivileged user without ACLs on its temp files; vncplay ignores it.
    const config = await cfg('remote_user = vncplay\n[privilege_escalation]\nbecome = True\nbecome_user = daemon\n[connection]\npipelining = True\n');
    for (const [env, expected] of [
      [{ ANSIBLE_CONFIG: config }, 'daemon'],
      [{ ANSIBLE_CONFIG: config, ANSIBLE_BECOME_USER: 'root' }, 'root'],
    ] as const) {
      const { ours, theirs } = await both(['become.yml', '-e', `expected=${expected}`], env);
      expect(ours.code, ours.stdout + ours.stderr).toBe(0);
      expect(ours.recap).toEqual(theirs.recap);
    }
  });

  it('keywords: play, block and task remote_user/connection against ansible.cfg, -u and the host\'s ansible_user', async () => {
    const { ours, theirs } = await both(['keywords.yml', '-u', NOBODY, '-e', `controller=${os.hostname()}`], {
      ANSIBLE_CONFIG: await cfg(`remote_user = ${NOBODY}\n`),
    });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    expect(ours.recap['h1']).toMatchObject({ ok: 4, failed: 0 });
  });
});

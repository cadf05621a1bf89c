import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetAddress, fleetAvailable, fleetHosts, fleetInventory, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/** A playbook of the engine's first modules plus file/copy/lineinfile, rooted under a per-test folder on the hosts. */
function convergePlaybook(root: string): string {
  return `
- name: converge
  hosts: fleet
  gather_facts: false
  vars:
    root: ${root}
  tasks:
    - name: folder
      file:
        path: "{{ root }}"
        state: directory
        mode: "0755"
    - name: config
      copy:
        dest: "{{ root }}/app.conf"
        content: "host={{ inventory_hostname }}\\nport=5901\\n"
        mode: "0640"
      notify: announce
    - name: setting
      lineinfile:
        path: "{{ root }}/extra.conf"
        create: true
        regexp: '^geometry='
        line: geometry=1280x800
    - name: read back
      command: cat {{ root }}/extra.conf
      register: conf
      changed_when: false
      check_mode: false
    - name: check it
      assert:
        that:
          - "'geometry=1280x800' in conf.stdout"
    - name: skipped on purpose
      debug: msg=never
      when: inventory_hostname == 'nope'
  handlers:
    - name: announce
      command: "true"
`;
}

const run = fleetAvailable() ? describe : describe.skip;

run('engine on the real fleet', () => {
  let dir: string;
  let knownHostsArg: string[];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-engine-'));
    knownHostsArg = ['-e', `vncplay_known_hosts_file=${fleetKnownHosts()}`];
  });

  it('converges 3 hosts, then a second run reports changed=0 everywhere', async () => {
    const root = `/srv/vp-engine-${Date.now()}`;
    const pb = path.join(dir, 'converge.yml');
    await writeFile(pb, convergePlaybook(root));
    const first = await vncplay([pb, '-i', fleetInventory(), ...knownHostsArg]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const h of ['h1', 'h2', 'h3']) {
      expect(first.recap[h]).toMatchObject({ changed: 4, failed: 0, unreachable: 0, skipped: 1 });
      expect(await hostExecOk(h, ['cat', `${root}/app.conf`])).toBe(`host=${h}\nport=5901\n`);
      expect(await hostExecOk(h, ['cat', `${root}/extra.conf`])).toBe('geometry=1280x800\n');
    }
    const second = await vncplay([pb, '-i', fleetInventory(), ...knownHostsArg]);
    expect(second.code).toBe(0);
    for (const h of ['h1', 'h2', 'h3']) expect(second.recap[h]).toMatchObject({ ok: 5, changed: 0, failed: 0 });
  });

  it('--check reports a drifted host as changed and leaves the host untouched', async () => {
    const root = `/srv/vp-check-${Date.now()}`;
    const pb = path.join(dir, 'check.yml');
    await writeFile(pb, convergePlaybook(root));
    expect((await vncplay([pb, '-i', fleetInventory(), ...knownHostsArg])).code).toBe(0);
    await hostExecOk('h2', ['sh', '-c', `echo drift > ${root}/app.conf`]);
    const before = await hostExecOk('h2', ['sha1sum', `${root}/app.conf`]);
    const check = await vncplay([pb, '-i', fleetInventory(), '--check', '--diff', '--json', ...knownHostsArg]);
    expect(check.code).toBe(0);
    expect(check.recap['h2']!.changed).toBeGreaterThan(0);
    expect(check.recap['h1']!.changed).toBe(0);
    const diffs = check.events.filter((e) => e.type === 'task_result' && e.host === 'h2' && e.diff?.length);
    expect(diffs.length).toBeGreaterThan(0);
    expect(await hostExecOk('h2', ['sha1sum', `${root}/app.conf`])).toBe(before);
  });

  it('gives the same ok/changed/skipped counts as ansible-playbook on the same playbook', async () => {
    const stamp = Date.now();
    const ours = path.join(dir, 'ours.yml');
    const theirs = path.join(dir, 'theirs.yml');
    await writeFile(ours, convergePlaybook(`/srv/vp-cmp-ours-${stamp}`));
    await writeFile(theirs, convergePlaybook(`/srv/vp-cmp-ansible-${stamp}`));
    for (const pass of ['first', 'second']) {
      const a = await vncplay([ours, '-i', fleetInventory(), ...knownHostsArg]);
      const b = await ansiblePlaybook([theirs, '-i', fleetInventory()]);
      expect(b.code, `ansible-playbook ${pass} run: ${b.stdout}`).toBe(0);
      expect(a.recap, `${pass} run`).toEqual(b.recap);
    }
  });

  it('a host that cannot be reached is reported unreachable (exit 3) while the others finish', async () => {
    const inv = path.join(dir, 'with-dead.yml');
    const real = await readFile(fleetInventory(), 'utf8');
    // .99 is inside the fleet's subnet and nothing answers there.
    await writeFile(inv, real.replace('        h3:', `        ghost:\n          ansible_host: ${fleetAddress(99)}\n          ansible_ssh_timeout: 2\n          ansible_user: vncplay\n        h3:`));
    const pb = path.join(dir, 'ping.yml');
    await writeFile(pb, '- hosts: fleet\n  gather_facts: false\n  tasks:\n    - name: ping\n      ping:\n    - name: after\n      command: "true"\n');
    const r = await vncplay([pb, '-i', inv, ...knownHostsArg]);
    expect(r.code).toBe(3);
    expect(r.recap['ghost']).toMatchObject({ unreachable: 1, ok: 0 });
    for (const h of ['h1', 'h2', 'h3']) expect(r.recap[h]).toMatchObject({ ok: 2, unreachable: 0 });
  });

  it('refuses a host whose key changed, before any credential is sent', async () => {
    const hosts = fleetHosts();
    const known = await readFile(fleetKnownHosts(), 'utf8');
    const h1 = hosts[0]!;
    const h2 = hosts[1]!;
    // h1's entries now carry h2's keys: a changed key for h1 from the client's point of view.
    const h2Keys = known.split('\n').filter((l) => l.startsWith(`${h2.address} `)).map((l) => l.replace(h2.address, h1.address));
    const tampered = known.split('\n').filter((l) => !l.startsWith(`${h1.address} `)).concat(h2Keys).join('\n');
    const kh = path.join(dir, 'tampered_known_hosts');
    await writeFile(kh, tampered);
    const since = (await hostExecOk(1, ['date', '+%s'])).trim();
    const pb = path.join(dir, 'ping2.yml');
    await writeFile(pb, '- hosts: fleet\n  gather_facts: false\n  tasks:\n    - ping:\n');
    const r = await vncplay([pb, '-i', fleetInventory(), '-e', `vncplay_known_hosts_file=${kh}`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/E_HOSTKEY_CHANGED/);
    expect(r.stdout).toMatch(/SHA256:/);
    expect(r.recap['h1']).toMatchObject({ unreachable: 1 });
    expect(r.recap['h2']).toMatchObject({ ok: 1, unreachable: 0 });
    // sshd on h1 logged no authentication attempt for the run's user after the refusal.
    const log = await hostExec(1, ['journalctl', '-u', 'ssh', '--since', `@${since}`, '--no-pager', '-o', 'cat']);
    expect(log.stdout).not.toMatch(/Accepted publickey|Failed publickey|Postponed publickey/);
  });
});

run('facts on the real fleet', () => {
  it('gathers facts first (counted like ansible-playbook) with the values Ansible reports', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-facts-'));
    const pb = path.join(dir, 'facts.yml');
    await writeFile(
      pb,
      `- hosts: fleet
  tasks:
    - name: show
      debug:
        msg: "{{ ansible_hostname }}|{{ ansible_distribution }}|{{ ansible_distribution_version }}|{{ ansible_distribution_major_version }}|{{ ansible_distribution_release }}|{{ ansible_os_family }}|{{ ansible_system }}|{{ ansible_kernel }}|{{ ansible_architecture }}|{{ ansible_default_ipv4.address }}|{{ ansible_service_mgr }}|{{ ansible_facts.processor_vcpus }}"
`,
    );
    const ours = await vncplay([pb, '-i', fleetInventory(), '-e', `vncplay_known_hosts_file=${fleetKnownHosts()}`]);
    const theirs = await ansiblePlaybook([pb, '-i', fleetInventory()]);
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    const msgs = (out: string): string[] => [...out.matchAll(/"msg": "([^"]*)"/g)].map((m) => m[1]!).sort();
    expect(msgs(ours.stdout)).toHaveLength(3);
    expect(msgs(ours.stdout)).toEqual(msgs(theirs.stdout));
  });
});

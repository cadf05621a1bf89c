import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { requireProgram } from '../support/tools.js';

/**
 * Language features checked side by side with ansible-playbook (Debian's ansible-core 2.14) on the controller itself
 * (ansible_connection=local): both tools run the same files, and what they did is compared. Skipped without Ansible.
 */

/** A fresh folder holding `files`, with a local-only inventory `inv.ini` unless the files give one. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-lang-'));
  const all = { 'inv.ini': 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', ...files };
  for (const [rel, text] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

/** ansible-playbook --list-hosts prints each play's hosts from a Python set (no stable order): sort each list. */
function hostSetsSorted(listing: string): string {
  return listing.trim().replace(/(hosts \(\d+\):\n)((?: {6}\S+\n?)+)/g, (_m, head: string, hosts: string) => head + hosts.trimEnd().split('\n').sort().join('\n') + '\n');
}

async function modeOf(file: string): Promise<string> {
  return ((await stat(file)).mode & 0o7777).toString(8);
}

describe('YAML 1.1 modes, as ansible-playbook reads them', () => {
  it('mode: 0644, 00755, 01777 and 0o640 give the same permissions under both tools', async () => {
    const dir = await project({
      'modes.yml': `
- hosts: localhost
  gather_facts: false
  tasks:
    - file: { path: "{{ root }}/a", state: touch, mode: 0644 }
    - file: { path: "{{ root }}/b", state: directory, mode: 00755 }
    - file: { path: "{{ root }}/c", state: directory, mode: 01777 }
    - file: { path: "{{ root }}/d", state: touch, mode: 0o640 }
    - copy: { dest: "{{ root }}/e", content: "x\\n", mode: 0600 }
`,
    });
    const modes: Record<string, string[]> = {};
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const root = path.join(dir, tool);
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'modes.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      modes[tool] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((f) => modeOf(path.join(root, f))));
    }
    expect(modes['vncplay']).toEqual(['644', '755', '1777', '640', '600']);
    expect(modes['vncplay']).toEqual(modes['ansible']);
  });
});

describe('YAML 1.1 scalars in playbooks, as ansible-playbook reads them', () => {
  it('yes/no/on/off (any case) are booleans, y/n and 08 stay strings, 0644 is octal: the same JSON from both tools', async () => {
    const dir = await project({
      'scalars.yml': `
- hosts: localhost
  gather_facts: no
  vars:
    v: [yes, No, ON, off, True, y, n, 0644, 08, 1_000, 1.5, ~]
  tasks:
    - copy: { dest: "{{ root }}/v.json", content: "{{ v | to_json }}" }
      when: yes
`,
    });
    const written: Record<string, unknown> = {};
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const root = path.join(dir, tool);
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'scalars.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      written[tool] = JSON.parse(await readFile(path.join(root, 'v.json'), 'utf8'));
    }
    expect(written['vncplay']).toEqual([true, false, true, false, true, 'y', 'n', 420, '08', 1000, 1.5, null]);
    expect(written['vncplay']).toEqual(written['ansible']);
  });

  it('vars: as a list of mappings (older playbooks) is merged, later entries winning; chained inline ifs render the same', async () => {
    const dir = await project({
      'varslist.yml': `
- hosts: localhost
  gather_facts: false
  vars:
  - a: 1
    b: "{{ a }}"
    os: Debian
  - a: 2
  tasks:
    - copy:
        dest: "{{ root }}/v.json"
        content: "{{ [a, b, ('rhel' if os == 'RedHat' else 'fedora' if os == 'Fedora' else 'debian')] | to_json }}"
`,
    });
    const written: Record<string, unknown> = {};
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const root = path.join(dir, tool);
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'varslist.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      written[tool] = JSON.parse(await readFile(path.join(root, 'v.json'), 'utf8'));
    }
    expect(written['vncplay']).toEqual([2, 2, 'debian']);
    expect(written['vncplay']).toEqual(written['ansible']);
  });
});

describe('ansible.cfg, read by both tools', () => {
  /**
   * The cfg lives in conf/ (named by ANSIBLE_CONFIG, relative to the current folder), the playbook in plays/: the
   * inventory and roles_path are found relative to the cfg's folder, as Ansible resolves them.
   */
  async function cfgProject(gathering: string): Promise<string> {
    const dir = await project({
      'conf/ansible.cfg': `[defaults]\ninventory = inv/hosts.ini\nroles_path = shared-roles\nforks = 3\ngathering = ${gathering}\n`,
      'conf/inv/hosts.ini':
        '[web]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' +
        '[db]\ndb1 ansible_host=127.0.0.1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
      'conf/shared-roles/common/tasks/main.yml': '- name: from the shared role\n  debug: { msg: shared }\n',
      'plays/site.yml': `
- name: one
  hosts: all
  roles: [common]
  tasks:
    - name: task
      command: "true"
      changed_when: false
- name: two
  hosts: web
  tasks:
    - debug: { msg: hi }
- name: three
  hosts: web
  gather_facts: true
  tasks:
    - debug: { msg: again }
`,
    });
    // mkdtemp made it 0700; a world-writable or private folder makes no difference here, ANSIBLE_CONFIG names the file.
    return dir;
  }
  const env = { ANSIBLE_CONFIG: 'conf/ansible.cfg' };

  it('--list-hosts and --list-tasks: inventory and roles_path from the cfg, relative to its folder', async () => {
    const dir = await cfgProject('implicit');
    const args = ['plays/site.yml', '--list-hosts', '--list-tasks'];
    const theirs = await ansiblePlaybook(args, { cwd: dir, env });
    const ours = await vncplay(args, { cwd: dir, env });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toContain('common : from the shared role');
    expect(ours.stdout).toContain('db1');
    expect(hostSetsSorted(ours.stdout)).toBe(hostSetsSorted(theirs.stdout));
  });

  it('vault_password_file, relative to the cfg, opens a vault-encrypted vars file for both tools', async () => {
    const dir = await project({
      'conf/ansible.cfg': '[defaults]\nvault_password_file = pw.txt\n',
      'conf/pw.txt': 'correct horse\n',
      'secret.yml': 'secret: battery staple\n',
      'vault.yml': `
- hosts: localhost
  gather_facts: false
  vars_files: [secret.yml]
  tasks:
    - assert: { that: "secret == 'battery staple'" }
`,
    });
    const enc = spawnSync(requireProgram('ansible-vault'), ['encrypt', '--vault-password-file', 'conf/pw.txt', 'secret.yml'], { cwd: dir, encoding: 'utf8' });
    expect(enc.status, enc.stderr).toBe(0);
    const theirs = await ansiblePlaybook(['-i', 'inv.ini', 'vault.yml'], { cwd: dir, env });
    const ours = await vncplay(['-i', 'inv.ini', 'vault.yml'], { cwd: dir, env });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
  });

  it('a broken ansible.cfg stops both tools with exit 5; vncplay names file:line:col', async () => {
    for (const cfg of ['[defaults]\nforks = 3\nforks = 4\n', '[defaults]\nforks = many\n']) {
      const dir = await project({ 'conf/ansible.cfg': cfg, 'p.yml': '- hosts: localhost\n  tasks: []\n' });
      const theirs = await ansiblePlaybook(['-i', 'inv.ini', 'p.yml'], { cwd: dir, env });
      const ours = await vncplay(['-i', 'inv.ini', 'p.yml'], { cwd: dir, env });
      expect([ours.code, theirs.code]).toEqual([5, 5]);
      expect(ours.stderr).toMatch(/conf\/ansible\.cfg:3:1: error\[E_CONFIG_SYNTAX\]|conf\/ansible\.cfg:2:1: error\[E_CONFIG_VALUE\]/);
    }
  });

  for (const gathering of ['explicit', 'smart', 'implicit']) {
    it(`gathering = ${gathering}: the same recap, and forks from the cfg`, async () => {
      const dir = await cfgProject(gathering);
      const theirs = await ansiblePlaybook(['plays/site.yml'], { cwd: dir, env });
      const ours = await vncplay(['plays/site.yml', '--json'], { cwd: dir, env });
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.recap).toEqual(theirs.recap);
      expect(ours.events.find((e) => e.type === 'run_start')).toMatchObject({ forks: 3 });
    });
  }
});

describe('play keywords, as ansible-playbook applies them', () => {
  it('order: inventory, reverse_inventory, sorted, reverse_sorted: serial batches run the hosts in the same order', async () => {
    const orders = ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted'];
    const local = 'ansible_connection=local ansible_python_interpreter=/usr/bin/python3';
    const dir = await project({
      'inv.ini': `[all]\nweb10 ${local}\nweb2 ${local}\nWeb3 ${local}\ndb1 ${local}\n`,
      'order.yml': orders.map((o) => `- name: ${o}\n  hosts: all\n  gather_facts: false\n  order: ${o}\n  serial: 1\n  tasks: [{ debug: { msg: x } }]\n`).join(''),
    });
    // --list-hosts cannot show it: ansible-playbook prints a play's hosts from a set, in no stable order.
    const sequence = (stdout: string): string[] => [...stdout.matchAll(/^ok: \[([^\]]+)\]/gm)].map((m) => m[1]!);
    const theirs = await ansiblePlaybook(['-i', 'inv.ini', 'order.yml'], { cwd: dir });
    const ours = await vncplay(['-i', 'inv.ini', 'order.yml'], { cwd: dir });
    expect(ours.code, ours.stderr).toBe(0);
    expect(sequence(ours.stdout).slice(12)).toEqual(['web2', 'web10', 'db1', 'Web3']);
    expect(sequence(ours.stdout)).toEqual(sequence(theirs.stdout));
  });

  it('remote_user, connection and become_method on a play and a block: the same recap and results', async () => {
    const dir = await project({
      'kw.yml': `
- hosts: localhost
  gather_facts: false
  connection: local
  remote_user: "{{ lookup('env', 'USER') | default('root', true) }}"
  become_method: sudo
  tasks:
    - block:
        - name: who
          command: id -un
          register: who
          changed_when: false
      become_method: ansible.builtin.sudo
    - name: same user as the controller
      assert:
        that:
          - who.stdout == (lookup('env', 'USER') | default('root', true))
`,
    });
    const theirs = await ansiblePlaybook(['-i', 'inv.ini', 'kw.yml'], { cwd: dir });
    const ours = await vncplay(['-i', 'inv.ini', 'kw.yml'], { cwd: dir });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
  });
});

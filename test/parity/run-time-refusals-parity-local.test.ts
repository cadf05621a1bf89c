import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Issue 16: what Ansible refuses only when the task runs — parameters and values older playbooks use (get_url's
 * sha256sum, service state=running, apt state=installed, pip use_mirrors, file context) and a copy src that does
 * not exist when the playbook loads — passes ansible-playbook --syntax-check. vncplay loads such a playbook too,
 * warns at each offending value, and fails the task when it runs, as Ansible does: the same recap from both tools
 * (each refused task ignored), run on the controller (ansible_connection=local).
 */

let dir: string;

const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: old get_url checksum
      get_url: url=http://127.0.0.1:9/x dest={{ root }}/x sha256sum=abc
      ignore_errors: true
    - name: old service state
      service: name=vncplay-no-such-unit state=running
      ignore_errors: true
    - name: old apt state
      apt:
        name: vncplay-no-such-package
        state: installed
      ignore_errors: true
    - name: old pip option
      pip: name=vncplay-no-such-package use_mirrors=no
      ignore_errors: true
    - name: old file option
      file: path={{ root }} context=default
      ignore_errors: true
    - name: a file that is never made
      copy: src=never-made.txt dest={{ root }}/never.txt
      ignore_errors: true
    - name: make a controller file
      copy: content="made\\n" dest={{ root }}/made.txt
    - name: a controller file an earlier task made
      copy: src={{ root }}/made.txt dest={{ root }}/copied.txt
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vncplay-runtime-refusals-'));
  await writeFile(path.join(dir, 'inv.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  // A literal src the loader can check: the root is a fixed folder inside the project, made empty for each tool.
  await writeFile(path.join(dir, 'pb.yml'), playbook.replace('src={{ root }}/made.txt', `src=${path.join(dir, 'out/made.txt')}`));
});

/** Writes each file of the project (paths relative to its folder). */
async function writeProject(files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
}

/** Runs ansible-playbook, then vncplay, each into an empty out/ (`-e root=…`): the texts of `outputs` each wrote. */
async function outputsOfBoth(args: string[], outputs: string[]): Promise<string[][]> {
  const written: string[][] = [];
  for (const run of [ansiblePlaybook, vncplay]) {
    const root = path.join(dir, 'out');
    await rm(root, { recursive: true, force: true });
    await mkdir(root);
    const r = await run([...args, '-e', `root=${root}`], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    written.push(await Promise.all(outputs.map((f) => readFile(path.join(root, f), 'utf8'))));
  }
  return written;
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('refused only when the task runs, as in Ansible', () => {
  it('--syntax-check accepts the playbook under both tools; vncplay warns at each offending value', async () => {
    const theirs = await ansiblePlaybook(['-i', 'inv.ini', '--syntax-check', 'pb.yml'], { cwd: dir });
    expect(theirs.code, theirs.stdout + theirs.stderr).toBe(0);
    const ours = await vncplay(['-i', 'inv.ini', '--syntax-check', 'pb.yml', '-e', 'root=/tmp'], { cwd: dir });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    const warned = [...ours.stderr.matchAll(/^\[WARNING\]: pb\.yml:(\d+:\d+): (.*)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(warned).toEqual([
      expect.stringMatching(/^6:59 `sha256sum` is no longer a parameter of `get_url`: write `checksum: "sha256:…"`/),
      expect.stringMatching(/^9:48 `state`: running is no longer accepted by `systemd`: write `state: started`/),
      expect.stringMatching(/^14:16 `state`: installed is no longer accepted by `apt`: write `state: present`/),
      expect.stringMatching(/^17:41 `use_mirrors` is no longer a parameter of `pip`/),
      expect.stringMatching(/^20:29 `context` is no longer a parameter of `file`/),
      expect.stringMatching(/^23:17 copy src `never-made.txt` is not on the controller yet/),
      expect.stringMatching(/^28:17 copy src `\/tmp\/\S+\/out\/made.txt` is not on the controller yet/),
    ]);
    for (const w of warned) expect(w).toContain('(Ansible checks this only when the task runs');
  });

  it('each refused task fails when it runs (ignored), the rest run: the same recap under both tools', async () => {
    const recaps = [];
    for (const run of [ansiblePlaybook, vncplay]) {
      const root = path.join(dir, 'out');
      await rm(root, { recursive: true, force: true });
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'pb.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      recaps.push(r.recap);
    }
    expect(recaps[1]).toEqual({ localhost: { ok: 8, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 6 } });
    expect(recaps[1]).toEqual(recaps[0]);
  });
});

describe('a hosts pattern the inventory does not serve, as in Ansible', () => {
  it('-i localhost, with plays for webservers: a warning from both tools (check, list, run), the play is skipped, the others run', async () => {
    await writeFile(
      path.join(dir, 'groups.yml'),
      ['- hosts: webservers', '  tasks: [{name: web, debug: {msg: web}}]', '- hosts: all', '  gather_facts: false', '  tasks: [{name: any, debug: {msg: any}}]', ''].join('\n'),
    );
    const env = { ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0' };
    const args = ['-i', 'localhost,', '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=/usr/bin/python3', 'groups.yml'];
    for (const extra of [['--syntax-check'], ['--list-hosts'], []]) {
      const [theirs, ours] = [await ansiblePlaybook([...extra, ...args], { cwd: dir, env }), await vncplay([...extra, ...args], { cwd: dir, env })];
      for (const r of [theirs, ours]) {
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout + r.stderr).toContain('Could not match supplied host pattern, ignoring: webservers');
      }
      expect(ours.recap).toEqual(theirs.recap);
    }
    const run = await vncplay(args, { cwd: dir, env });
    expect(run.recap).toEqual({ localhost: { ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 } });
  });
});

describe('{% include %} in a template, as ansible-playbook renders it', () => {
  it('a role template includes by name and by ./templates/ path, in a loop and after a set: the same file from both tools', async () => {
    const files: Record<string, string> = {
      'roles/inc/templates/main.j2': "head {{ x }}\n{% for v in items %}\nserver {{ v }} {\n  {% include 'part.j2' %}\n}\n{% endfor %}\n{% set top = 'T' %}\n{% include './templates/sub/last.j2' %}\ntail\n",
      'roles/inc/templates/part.j2': 'port {{ v }}{{ x }}\n',
      'roles/inc/templates/sub/last.j2': 'last {{ top }}\n',
      'roles/inc/tasks/main.yml': '- template: {src: main.j2, dest: "{{ root }}/out.txt"}\n',
      'include.yml': '- hosts: localhost\n  gather_facts: false\n  vars: {x: X, items: [a, b]}\n  roles: [inc]\n',
    };
    await writeProject(files);
    const written = await outputsOfBoth(['-i', 'inv.ini', 'include.yml'], ['out.txt']);
    expect(written[1]).toEqual(['head X\nserver a {\n  port aX}\nserver b {\n  port bX}\nlast Ttail\n']);
    expect(written[1]).toEqual(written[0]);
  });
});

describe('filter and test plugins written in Python, as Ansible loads them', () => {
  it("filter_plugins/, test_plugins/ and a collection's plugins/filter: the same output from both tools", async () => {
    const files: Record<string, string> = {
      'filter_plugins/words.py': [
        'class FilterModule(object):',
        '    def filters(self):',
        "        return {'shout': self.shout, 'pairs': pairs}",
        '    def shout(self, value, times=1, end="!"):',
        '        return (value.upper() + end) * times',
        'def pairs(d):',
        '    return sorted((k, v) for k, v in d.items())',
        '',
      ].join('\n'),
      'test_plugins/colors.py': "def is_blue(s):\n    return s in ('blue', '#00f')\nclass TestModule(object):\n    def tests(self):\n        return {'blue': is_blue}\n",
      'collections/ansible_collections/local/tools/plugins/filter/math.py':
        "class FilterModule(object):\n    def filters(self):\n        return {'double': lambda x: x * 2}\n",
      'plugins.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  vars: {d: {b: 2, a: 1}}',
        '  tasks:',
        '    - assert: {that: ["\'#00f\' is blue", "\'red\' is not blue"]}',
        '    - copy:',
        '        dest: "{{ root }}/plugins.txt"',
        '        content: "{{ \'hi\' | shout }} {{ \'a\' | shout(2, end=\'?\') }} {{ d | pairs | to_json }} {{ 21 | local.tools.double }}\\n"',
        '',
      ].join('\n'),
    };
    await writeProject(files);
    const written = await outputsOfBoth(['-i', 'inv.ini', 'plugins.yml'], ['plugins.txt']);
    expect(written[1]).toEqual(['HI! A?A? [["a", 1], ["b", 2]] 42\n']);
    expect(written[1]).toEqual(written[0]);
  });

  it('a misspelled plugin name is still refused at load, with the plugin names in the did-you-mean', async () => {
    await writeFile(path.join(dir, 'typo.yml'), '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: {msg: "{{ \'x\' | shot }}"}\n');
    const r = await vncplay(['-i', 'inv.ini', '--syntax-check', 'typo.yml'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/typo\.yml:4:\d+: error\[E_TEMPLATE_FILTER\]: .*no filter named 'shot' \(did you mean 'shout'\?\)/);
  });
});

describe('vars_files paths that need a host variable or a fact, as Ansible reads them per host', () => {
  it('the first existing file per host (inventory_hostname, then a default), and one named by a fact: the same values from both tools', async () => {
    const files: Record<string, string> = {
      'hosts.ini': 'l1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\nl2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
      'vars/l1.yml': 'color: red\n',
      'vars/defaults.yml': 'color: plain\n',
      'vars/Linux.yml': 'kernel_word: linux\n',
      'perhost.yml': [
        '- hosts: all',
        '  vars_files:',
        '    - ["vars/{{ inventory_hostname }}.yml", "vars/defaults.yml"]',
        '    - "vars/{{ ansible_system }}.yml"',
        '  tasks:',
        '    - copy: {dest: "{{ root }}/{{ inventory_hostname }}.txt", content: "{{ color }} {{ kernel_word }}\\n"}',
        '',
      ].join('\n'),
    };
    await writeProject(files);
    const written = await outputsOfBoth(['-i', 'hosts.ini', 'perhost.yml'], ['l1.txt', 'l2.txt']);
    expect(written[1]).toEqual(['red linux\n', 'plain linux\n']);
    expect(written[1]).toEqual(written[0]);
  });

  it('a path whose variable is still undefined once facts are gathered stops the run at the entry, under both tools', async () => {
    await writeFile(path.join(dir, 'nosuch.yml'), '- hosts: all\n  vars_files:\n    - "vars/{{ nosuch }}.yml"\n  tasks:\n    - debug: {msg: one}\n');
    const theirs = await ansiblePlaybook(['-i', 'hosts.ini', 'nosuch.yml'], { cwd: dir });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stdout + theirs.stderr).toMatch(/an undefined variable was found when attempting to template the vars_files item 'vars\/\{\{ nosuch \}\}\.yml'/);
    const ours = await vncplay(['-i', 'hosts.ini', 'nosuch.yml'], { cwd: dir });
    expect(ours.code).toBe(4);
    expect(ours.stderr).toMatch(/nosuch\.yml:3:7: error\[E_VARS_FILE_TEMPLATE\]: an undefined variable was found when attempting to template the vars_files item `vars\/\{\{ nosuch \}\}\.yml`/);
    expect(ours.stdout).not.toMatch(/msg.*one/);
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vncplay } from '../support/cli-helpers.js';
import { localInventory, runBoth, writeProject } from '../support/module-parity.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * Modules run from the controller's collections (and library/ files) have their arguments checked at load by the
 * argument spec their AnsibleModule declares: what ansible-playbook only refuses when the task runs, vncplay refuses
 * before anything runs, with Ansible's message, at the offending key or value.
 */
interface BadTask {
  name: string;
  module: string;
  /** The module's arguments, one `key: value` line each. */
  args: string[];
  /** The argument line the error points at, and whether at its key (else at its value); none: at the arguments. */
  at?: { line: number; key: boolean };
}

const BAD: BadTask[] = [
  { name: 'mysql_db wrong name', module: 'community.mysql.mysql_db', args: ['name: shop', 'nme: shop'], at: { line: 1, key: true } },
  { name: 'mysql_db missing name', module: 'community.mysql.mysql_db', args: ['state: present'] },
  { name: 'mysql_db bad state', module: 'community.mysql.mysql_db', args: ['name: shop', 'state: maybe'], at: { line: 1, key: false } },
  { name: 'nagios wrong name', module: 'community.general.nagios', args: ['action: silence', 'host: web1', 'hots: web2'], at: { line: 2, key: true } },
  { name: 'nagios silence without host', module: 'community.general.nagios', args: ['action: silence'], at: { line: 0, key: false } },
  { name: 'nagios missing action', module: 'community.general.nagios', args: ['host: web1'] },
  { name: 'nagios bad action', module: 'community.general.nagios', args: ['action: dance', 'host: web1'], at: { line: 0, key: false } },
  { name: 'dhparam wrong name', module: 'community.crypto.openssl_dhparam', args: ['path: /tmp/vncplay-dh.pem', 'sise: 512'], at: { line: 1, key: true } },
  { name: 'dhparam missing path', module: 'community.crypto.openssl_dhparam', args: ['size: 512'] },
  { name: 'dhparam size not a number', module: 'community.crypto.openssl_dhparam', args: ['path: /tmp/vncplay-dh.pem', 'size: big'], at: { line: 1, key: false } },
  { name: 'dhparam bad state', module: 'community.crypto.openssl_dhparam', args: ['path: /tmp/vncplay-dh.pem', 'state: maybe'], at: { line: 1, key: false } },
  { name: 'apt_key wrong name', module: 'ansible.builtin.apt_key', args: ['id: 0xABCD', 'stat: absent'], at: { line: 1, key: true } },
  { name: 'apt_key two sources', module: 'ansible.builtin.apt_key', args: ['url: https://example.invalid/k.asc', 'data: xyz'], at: { line: 0, key: false } },
  { name: 'apt_key bad state', module: 'ansible.builtin.apt_key', args: ['id: 0xABCD', 'state: gone'], at: { line: 1, key: false } },
];

/** The playbook, and for each task the line:col vncplay's error must name. */
function badPlaybook(): { text: string; positions: Map<string, string> } {
  const lines = ['- hosts: localhost', '  gather_facts: false', '  tasks:'];
  const positions = new Map<string, string>();
  for (const t of BAD) {
    lines.push(`    - name: ${t.name}`, '      ignore_errors: true', `      ${t.module}:`);
    const first = lines.length + 1;
    for (const a of t.args) lines.push(`        ${a}`);
    const at = t.at ?? { line: 0, key: true };
    const argLine = t.args[at.line]!;
    const col = 9 + (at.key ? 0 : argLine.indexOf(': ') + 2);
    positions.set(t.name, `pb.yml:${first + at.line}:${col}`);
  }
  return { text: `${lines.join('\n')}\n`, positions };
}

describe('arguments of collection modules, checked before the run: parity with ansible-playbook', () => {
  it('refuses at load, with the message ansible-playbook fails the task with, at the offending key or value', async () => {
    const { text, positions } = badPlaybook();
    const cache = tempTree({});
    const run = await runBoth(text, { inventory: { text: localInventory(['localhost']) }, host: 'localhost', env: { XDG_CACHE_HOME: cache } });
    // Ansible ran every task and failed each one at the module's argument check.
    for (const t of BAD) expect(run.theirs[t.name], `${t.name}\n${run.theirsOutput.slice(-3000)}`).toMatchObject({ failed: true });
    // vncplay ran nothing, and said each of those messages where the task is wrong.
    expect(run.ours).toEqual({});
    for (const t of BAD) {
      const msg = String(run.theirs[t.name]!['msg']);
      expect(msg).toMatch(/^(Unsupported parameters for|missing required arguments|value of state must be one of|value of action must be one of|parameters are mutually exclusive|action is silence but all of the following are missing: host$|argument 'size' is of type <class 'str'> and we were unable to convert to int)/);
      expect(run.oursOutput, t.name).toContain(`${positions.get(t.name)}: error[`);
      expect(run.oursOutput, t.name).toContain(`]: ${msg}\n`);
    }
  }, 300_000);

  it('loads a correct task of each module; a templated value waits for the run; module_defaults give a required argument; a task that may not run is warned about', async () => {
    const dir = writeProject({
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  vars: {wanted: maybe}',
        '  tasks:',
        '    - community.mysql.mysql_db: {name: shop, db: shop2}',
        '    - community.mysql.mysql_db: {db: shop, state: "{{ wanted }}"}',
        '    - community.general.nagios: {action: silence, host: web1}',
        '    - community.crypto.openssl_dhparam: {path: /tmp/x.pem, size: "512", force: yes}',
        '    - ansible.builtin.apt_key: {id: "0xABCD", state: absent}',
        "    - community.crypto.openssl_dhparam: {path: ~}  # given, for Ansible's required check (the module fails later)",
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults: {community.crypto.openssl_dhparam: {path: /tmp/y.pem}}',
        '  tasks:',
        '    - community.crypto.openssl_dhparam: {size: 1024}',
        '    - name: a parameter of a newer community.mysql, on a task that loops over nothing',
        '      community.mysql.mysql_user: {name: "{{ item }}", column_case_sensitive: true}',
        '      loop: []',
        '    - name: the same inside a block that may not run (its when)',
        '      block:',
        '        - community.mysql.mysql_user: {name: x, column_case_sensitive: true}',
        '      when: false',
        '',
      ].join('\n'),
    });
    const run = await vncplay(['--syntax-check', 'pb.yml'], { cwd: dir, env: { XDG_CACHE_HOME: path.join(dir, 'cache') } });
    // mysql_db's name and its alias db both given: Ansible takes it (with a warning), so vncplay loads it too.
    expect(run.code, run.stderr).toBe(0);
    // A task that may not run (a loop, a when:) is only warned about: Ansible runs this playbook without failing.
    expect(run.stderr).toMatch(/pb\.yml:17:56: Unsupported parameters for \(community\.mysql\.mysql_user\) module: column_case_sensitive\. Supported parameters include: [^\n]*Ansible checks this only when the task runs/);
    expect(run.stderr).toMatch(/pb\.yml:21:49: Unsupported parameters for \(community\.mysql\.mysql_user\) module: column_case_sensitive\. Supported parameters include: [^\n]*Ansible checks this only when the task runs/);
  }, 120_000);

  it('reads a spec once, then from $XDG_CACHE_HOME/vncplay/argspecs (the cached spec is what the check uses)', async () => {
    const dir = writeProject({ 'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - community.general.nagios: {action: silence, host: web1}\n' });
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    expect((await vncplay(['--syntax-check', 'pb.yml'], { cwd: dir, env })).code).toBe(0);
    const cacheDir = path.join(dir, 'cache', 'vncplay', 'argspecs');
    const [file] = readdirSync(cacheDir);
    const cached = path.join(cacheDir, file!);
    // The cached spec, edited: `host` is no longer one of nagios' parameters. Only a run that reads it says so.
    const stored = JSON.parse(readFileSync(cached, 'utf8')) as { answer: { spec: { argument_spec: Record<string, unknown> } } };
    delete stored.answer.spec.argument_spec['host'];
    writeFileSync(cached, JSON.stringify(stored));
    const second = await vncplay(['--syntax-check', 'pb.yml'], { cwd: dir, env });
    expect(second.code).not.toBe(0);
    expect(second.stderr + second.stdout).toContain('Unsupported parameters for (community.general.nagios) module: host.');
  }, 120_000);
});

describe('library/ modules of a role, checked before the run', () => {
  const files = {
    'roles/r/library/greet.py': [
      '#!/usr/bin/python',
      'from ansible.module_utils.basic import AnsibleModule',
      'from ansible.module_utils.words import greeting',
      '',
      'def main():',
      "    m = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True, aliases=['who']), tone=dict(choices=['warm', 'cold'], default='warm')), supports_check_mode=True)",
      "    m.exit_json(changed=False, greeting=greeting(m.params['name']))",
      '',
      "if __name__ == '__main__':",
      '    main()',
      '',
    ].join('\n'),
    'roles/r/module_utils/words.py': "def greeting(name):\n    return 'hello ' + name\n",
    // Not AnsibleModule-based: it reads its arguments file itself; nothing can be checked before it runs.
    'roles/r/library/plain.sh': '#!/bin/sh\necho \'{"changed": false, "said": "plain"}\'\n',
  };

  it('checks an AnsibleModule one by its spec (its module_utils found as at run time); loads one without AnsibleModule, saying so at -v', async () => {
    const tasks = (greet: string): string => `- hosts: localhost\n  gather_facts: false\n  roles: [r]\n  tasks:\n    - greet: ${greet}\n    - plain: {anything: goes}\n`;
    const dir = writeProject({ ...files, 'roles/r/tasks/main.yml': '- greet: {who: role}\n', 'pb.yml': tasks('{name: x, tone: hot}') });
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    const bad = await vncplay(['--syntax-check', 'pb.yml'], { cwd: dir, env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('pb.yml:5:30: error[E_ENUM]: value of tone must be one of: warm, cold, got: hot');
    expect(bad.stderr).not.toContain('plain');

    writeFileSync(path.join(dir, 'pb.yml'), tasks('{name: x, tone: cold}'));
    const good = await vncplay(['--syntax-check', '-v', 'pb.yml'], { cwd: dir, env });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).toMatch(/pb\.yml:6:7: the arguments of `plain` are checked when it runs: its argument spec could not be read from \S+plain\.sh/);
  }, 120_000);

  it('runs the same as ansible-playbook when the arguments are right', async () => {
    const run = await runBoth('- hosts: localhost\n  gather_facts: false\n  roles: [r]\n  tasks:\n    - name: greet\n      greet: {who: you, tone: cold}\n    - name: plain\n      plain: {anything: goes}\n', {
      inventory: { text: localInventory(['localhost']) },
      host: 'localhost',
      files: { ...files, 'roles/r/tasks/main.yml': '- greet: {who: role}\n' },
    });
    expect(run.theirs['greet']).toMatchObject({ greeting: 'hello you' });
    expect(run.ours['greet']).toMatchObject({ greeting: 'hello you' });
    expect(run.ours['plain']).toMatchObject({ said: 'plain' });
    expect(run.theirs['plain']).toMatchObject({ said: 'plain' });
  }, 200_000);
});

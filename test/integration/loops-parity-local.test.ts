import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from './cli-helpers.js';

/**
 * `with_<lookup>:` loops and lookup()/query() in `loop:`, side by side with ansible-playbook (Debian's ansible-core
 * 2.14 with community.general) on the controller itself: both tools run the same playbook, which writes every
 * loop's items (and first_found's files) as JSON; the two files must be equal.
 */

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-loops-'));
  const all = { 'inv.ini': 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', ...files };
  for (const [rel, text] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

/** Runs `playbook` under both tools with `-e out=…` and returns what each wrote there. */
async function bothWrite(dir: string, playbook: string): Promise<Record<'ansible' | 'vncplay', unknown>> {
  const written: Record<string, unknown> = {};
  for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
    const out = path.join(dir, `${tool}.json`);
    const r = await run(['-i', 'inv.ini', playbook, '-e', `out=${out}`], { cwd: dir });
    expect(r.code, `${tool}: ${r.stdout}${r.stderr}`).toBe(0);
    written[tool] = JSON.parse(await readFile(out, 'utf8'));
  }
  return written as Record<'ansible' | 'vncplay', unknown>;
}

/** A debug task looping with `loop` (a with_… key or loop:) and registering `name`. */
function loopTask(name: string, loop: string): string {
  return `
    - name: ${name}
      debug: { msg: "{{ item }}" }
      ${loop}
      register: ${name}`;
}

const LOOPS: Record<string, string> = {
  sub: `with_subelements: ["{{ users }}", keys, {skip_missing: true}]`,
  sub_nested: `with_subelements: ["{{ users }}", groups.primary, {skip_missing: yes}]`,
  dict: `with_dict: "{{ settings }}"`,
  together: `with_together: [[1, 2, 3], "{{ ys }}"]`,
  nested: `with_nested: ["{{ xs }}", "{{ ys }}", [x]]`,
  cartesian: `with_cartesian: [[1, 2], [a, b]]`,
  seq_kv: `with_sequence: start=1 end=5`,
  seq_fmt: `with_sequence: start=0 end=10 stride=3 format=host%02d`,
  seq_short: `with_sequence: "4-8/2:x%d"`,
  seq_count: `with_sequence: count=3`,
  seq_hex: `with_sequence: start=0x0a end=0x0c format=%x`,
  seq_var: `with_sequence: start=1 end={{ xs | length }}`,
  indexed: `with_indexed_items: "{{ ys }}"`,
  flattened: `with_flattened: [1, [2, [3, [4]]], "{{ ys }}"]`,
  flattened_fqcn: `with_community.general.flattened: [[a, [b]], c]`,
  items: `with_items: [[1, [2]], 3, "{{ ys }}"]`,
  list: `with_list: [[1, 2], [3]]`,
  glob: `with_fileglob: "*.txt"`,
  glob_dir: `with_fileglob: ["globdir/*.conf"]`,
  ff: `with_first_found: [missing.txt, "{{ undefined_var }}.txt", top.txt]`,
  ff_dict: `with_first_found: [{files: [nope.txt, x.txt], paths: [nowhere, extra]}]`,
  ff_skip: `with_first_found: [{files: [nope.txt], skip: true}]`,
  q_sub: `loop: "{{ query('subelements', users, 'keys', {'skip_missing': True}) }}"`,
  q_seq: `loop: "{{ lookup('sequence', 'start=1 end=3', wantlist=True) }}"`,
  q_dict: `loop: "{{ q('dict', settings) }}"`,
  q_nested: `loop: "{{ lookup('nested', xs, ys, wantlist=True) }}"`,
  q_together: `loop: "{{ query('together', xs, ys) }}"`,
  q_ff: `loop: "{{ query('first_found', ['nope.txt', 'top.txt']) }}"`,
  q_glob: `loop: "{{ query('fileglob', 'globdir/*.conf') }}"`,
  q_flat: `loop: "{{ query('community.general.flattened', [1, [2, [3]]]) }}"`,
};

describe('with_<lookup> loops and lookups, as ansible-playbook runs them', () => {
  it('every loop gives the same items under both tools (subelements, dict, together, nested, sequence, first_found …)', async () => {
    const names = Object.keys(LOOPS);
    const dir = await project({
      'loops.yml': `
- hosts: localhost
  gather_facts: false
  vars:
    users:
      - { name: alice, keys: [k1, k2], groups: { primary: [g1, g2] } }
      - { name: bob, keys: [k3] }
      - { name: carol }
    settings: { a: 1, b: two }
    xs: [1, 2, 3]
    ys: [a, b]
  roles: [r]
  tasks:${names.map((n) => loopTask(n, LOOPS[n]!)).join('')}
    - name: the template module looks in templates/ first
      template: { src: "{{ item }}", dest: "{{ out }}.tpl" }
      with_first_found: [both.j2]
    - copy:
        dest: "{{ out }}"
        content: >-
          {{ { ${names.map((n) => `'${n}': ${n}.results | map(attribute='item') | list`).join(', ')},
               'ff_role': ff_role, 'tpl': lookup('file', out ~ '.tpl') } | to_json }}
`,
      'roles/r/tasks/main.yml': `
- debug: { msg: "{{ item }}" }
  with_first_found: [nope.txt, both.txt, pbonly.txt]
  register: both
- debug: { msg: "{{ item }}" }
  with_first_found: [pbonly.txt]
  register: pbonly
- debug: { msg: "{{ item }}" }
  with_first_found: [intasks.txt]
  register: intasks
- set_fact:
    ff_role: "{{ [both, pbonly, intasks] | map(attribute='results') | map('first') | map(attribute='item') | list }}"
`,
      'roles/r/files/both.txt': 'role\n',
      'roles/r/tasks/intasks.txt': 'tasks\n',
      'files/both.txt': 'playbook\n',
      'files/pbonly.txt': 'playbook\n',
      'files/top.txt': 'top\n',
      'files/a.txt': 'a\n',
      'files/globdir/one.conf': '1\n',
      'files/globdir/two.conf': '2\n',
      'files/globdir/.hidden.conf': 'h\n',
      'extra/x.txt': 'x\n',
      'templates/both.j2': 'from templates/ {{ ys | join(",") }}\n',
      'both.j2': 'from the playbook folder\n',
    });
    const written = await bothWrite(dir, 'loops.yml');
    // Python's glob gives a folder's own order; vncplay sorts the names (a deviation on purpose: reproducible runs).
    for (const key of ['glob', 'glob_dir', 'q_glob']) (written.ansible as Record<string, string[]>)[key]!.sort();
    expect(written.vncplay).toEqual(written.ansible);
    const got = written.vncplay as Record<string, unknown>;
    // What the comparison covered, spelled out (a change in Ansible's results should be noticed here too).
    expect(got['sub']).toEqual([
      [{ name: 'alice', groups: { primary: ['g1', 'g2'] } }, 'k1'],
      [{ name: 'alice', groups: { primary: ['g1', 'g2'] } }, 'k2'],
      [{ name: 'bob' }, 'k3'],
    ]);
    expect(got['seq_fmt']).toEqual(['host00', 'host03', 'host06', 'host09']);
    expect(got['together']).toEqual([[1, 'a'], [2, 'b'], [3, null]]);
    expect(got['ff_role']).toEqual([path.join(dir, 'roles/r/files/both.txt'), path.join(dir, 'files/pbonly.txt'), path.join(dir, 'roles/r/tasks/intasks.txt')]);
    expect(got['ff_skip']).toEqual([]);
    expect(got['tpl']).toBe('from templates/ a,b');
  });
});

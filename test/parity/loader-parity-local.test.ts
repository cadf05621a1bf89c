import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vncplay } from '../support/cli-helpers.js';
import { requireProgram } from '../support/tools.js';

/**
 * Issue 13, loader and template items, side by side with ansible-playbook (Debian's 2.14) on a local play: the same
 * playbook through both, every task's msg (each loop item's) compared, and the files written compared byte for byte.
 */


const playbook = String.raw`
- hosts: localhost
  gather_facts: false
  vars:
    __proto__:
      sneaky: from the __proto__ variable
    pairs: [[0, {x: 5, y: [7, 8, 9]}], [1, {x: 6, y: [1, 2, 3]}]]
  tasks:
    - name: key=value escapes
      copy: content="tab\there\nnew line \x41\u00e9 \"quoted\" back\\slash\101" dest={{ out }}/escapes.txt
    - name: key=value escapes, single-quoted
      copy: content='a\nb' dest={{ out }}/single.txt
    - name: index_var
      debug: msg="{{ i }}:{{ item }}"
      loop: [a, b, c]
      loop_control:
        index_var: i
      register: indexed
    - name: index_var in the registered results
      debug:
        msg: "{{ indexed.results | map(attribute='i') | list }} {{ indexed.results[0].ansible_index_var }}"
    - name: item.1.x after a dot
      debug: msg="{{ item.1.x }} {{ item.0 }} {{ item.1.y.2 }}"
      loop: "{{ pairs }}"
    - name: dict literal ending in }}
      debug:
        msg: "{{ {'a': {'b': 1}}}}"
    - name: dict and list literals ending in }}
      debug:
        msg: "{{ {'a': 1}}} {{ [1, {'c': (2)}]}}"
    - name: __proto__ is an ordinary variable
      debug:
        msg: "{{ sneaky | default('not a variable') }} / {{ __proto__.sneaky }} / {{ {} | combine({'__proto__': {'x': 1}}) }}"
`;

/** msg of each task (a list of the items' msgs for a loop), by task name. */
type Msgs = Record<string, unknown>;

function ansibleMsgs(stdout: string): Msgs {
  const run = JSON.parse(stdout) as { plays: { tasks: { task: { name: string }; hosts: Record<string, { msg?: unknown; results?: { msg?: unknown }[] }> }[] }[] };
  const out: Msgs = {};
  for (const t of run.plays[0]!.tasks) {
    const r = t.hosts['localhost']!;
    out[t.task.name] = r.results ? r.results.map((x) => x.msg) : r.msg;
  }
  return out;
}

function ourMsgs(events: { type: string; task?: { name: string }; result?: Record<string, unknown> }[]): Msgs {
  const out: Msgs = {};
  for (const e of events) {
    if (e.type !== 'task_result') continue;
    const results = e.result!['results'] as { msg?: unknown }[] | undefined;
    out[e.task!.name] = results ? results.map((x) => x.msg) : e.result!['msg'];
  }
  return out;
}

describe('loader and template parity with ansible-playbook on a local play', () => {
  it('key=value escapes, index_var, item.1.x, literals ending in }}, __proto__ as a vars key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-loader-parity-'));
    writeFileSync(path.join(dir, 'pb.yml'), playbook);
    writeFileSync(path.join(dir, 'inv'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    const theirsDir = mkdtempSync(path.join(dir, 'ansible-'));
    const oursDir = mkdtempSync(path.join(dir, 'vncplay-'));

    // Not cli-helpers' ansiblePlaybook: the json callback prints one JSON document, not NDJSON events.
    const theirs = spawnSync(requireProgram('ansible-playbook'), ['-i', 'inv', 'pb.yml', '-e', `out=${theirsDir}`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' },
    });
    expect(theirs.status, theirs.stdout + theirs.stderr).toBe(0);
    const ours = await vncplay(['-i', 'inv', 'pb.yml', '-e', `out=${oursDir}`, '--json'], { cwd: dir });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);

    const expected = ansibleMsgs(theirs.stdout);
    // What ansible-playbook printed, spelled out, so a change on its side shows here too.
    expect(expected['index_var']).toEqual(['0:a', '1:b', '2:c']);
    expect(expected['index_var in the registered results']).toBe('[0, 1, 2] i');
    expect(expected['item.1.x after a dot']).toEqual(['5 0 9', '6 1 3']);
    expect(expected['__proto__ is an ordinary variable']).toBe("not a variable / from the __proto__ variable / {'__proto__': {'x': 1}}");
    const got = ourMsgs(ours.events as { type: string; task?: { name: string }; result?: Record<string, unknown> }[]);
    for (const name of Object.keys(expected)) {
      if (name.startsWith('key=value')) continue; // copy: compared by the files it wrote
      expect(got[name], name).toEqual(expected[name]);
    }

    for (const file of ['escapes.txt', 'single.txt']) {
      expect(readFileSync(path.join(oursDir, file), 'utf8'), file).toBe(readFileSync(path.join(theirsDir, file), 'utf8'));
    }
    expect(readFileSync(path.join(theirsDir, 'escapes.txt'), 'utf8')).toBe('tab\there\nnew line Aé "quoted" back\\slash\\101');
  });
});

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * A list or mapping given to a `type: str` parameter: AnsibleModule's check_type_str converts it with Python's
 * str() (`{'moo': 'cow', 'asdf': [1, 2]}`), at load (a literal) and at run time (a template rendering to a mapping),
 * as ansible-examples' language_features/complex_args.yml relies on with ping's `data`. ansible-core 2.14 prints no
 * warning for it (`_ansible_string_conversion_action` is set but check_type_str no longer reads it). copy's action
 * plugin writes a list or mapping `content` as json.dumps() of it.
 */

const playbook = `
- hosts: target
  gather_facts: false
  vars:
    complex:
      ghostbusters: ['egon', 'ray']
      flags: {on: true, off: false, none: null}
  tasks:
    - name: a literal mapping
      ping:
        data:
          moo: cow
          asdf: [1, 2, 3.5]
          quote: "it's"
          both: "it's \\"x\\""
    - name: a literal list
      ping:
        data: [1, "x", {k: false}]
    - name: a template rendering to a mapping
      ping:
        data: "{{ complex }}"
    - name: a string stays a string
      ping:
        data: "Hi Mom"
    - name: copy writes a mapping as JSON
      copy:
        dest: "{{ playbook_dir }}/out.json"
        content: {b: [1, true, null], a: "x"}
    - name: copy writes a number as text
      copy:
        dest: "{{ playbook_dir }}/out.txt"
        content: 42
    - name: the next run writes its files afresh
      file: path="{{ playbook_dir }}/{{ item }}" state=absent
      loop: [out.json, out.txt]
`;

let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

describe('a list or mapping in a string parameter, as ansible-playbook converts it', () => {
  it("registers Python's str() of the value, with no warning: the same results and recap", async () => {
    run = await runBoth(playbook, {
      inventory: { text: 'target ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
      host: 'target',
    });
    const output = `--- ansible\n${run.theirsOutput}\n--- vncplay\n${run.oursOutput}`;
    expect(counts(run.oursRecap), output).toEqual(counts(run.theirsRecap));
    expect(pick(run.ours, ['ping', 'checksum', 'failed']), output).toEqual(pick(run.theirs, ['ping', 'checksum', 'failed']));
    expect(run.ours['a literal mapping']?.['ping']).toBe(`{'moo': 'cow', 'asdf': [1, 2, 3.5], 'quote': "it's", 'both': 'it\\'s "x"'}`);
    expect(run.oursOutput).not.toMatch(/WARNING|"type":"warning"/);
    expect(run.theirsOutput).not.toMatch(/converted/);
  });
});

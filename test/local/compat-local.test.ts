import { describe, expect, it } from 'vitest';
import { playYaml } from '../support/runner-helpers.js';

/** Ansible-compatibility behaviours a user trips on, run for real on a local host (ansible_connection=local). */

describe('templated module arguments are converted to the parameter type, as AnsibleModule does', () => {
  it('"{{ lvl }}" rendering to the string "0" reaches an integer parameter; "no" a boolean; "echo,x" a list', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    lvl: "0"
    keep: "no"
    words: "printf,%s|,a,b"
  tasks:
    - name: verbosity
      debug: { msg: shown, verbosity: "{{ lvl }}" }
    - name: list and bool
      command:
        argv: "{{ words }}"
        strip_empty_ends: "{{ keep }}"
      changed_when: false
`);
    expect(r.exitCode).toBe(0);
    expect(r.results('verbosity')[0]).toMatchObject({ status: 'ok', result: { msg: 'shown' } });
    const cmd = r.results('list and bool')[0]!;
    expect(cmd.status).toBe('ok');
    expect(cmd.result!['cmd']).toEqual(['printf', '%s|', 'a', 'b']);
    expect(cmd.result!['stdout']).toBe('a|b|');
  });

  it('a rendered value that does not convert fails the task with the parameter named', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    lvl: "1.5"
  tasks:
    - name: bad
      debug: { msg: x, verbosity: "{{ lvl }}" }
`);
    expect(r.exitCode).toBe(2);
    const bad = r.results('bad')[0]!;
    expect(bad.status).toBe('failed');
    expect(bad.result!['msg']).toBe('debug: `verbosity` must be an integer, got the string "1.5"');
  });
});

describe('!unsafe values are never templated', () => {
  it('reach the module literally, also through another variable, set_fact, a loop and a vars file', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  vars_files: [v.yml]
  vars:
    foo: !unsafe '{{ not a template }}'
    bar: "{{ foo }}"
  tasks:
    - name: through a variable
      debug: { msg: "{{ bar }}" }
    - name: as an argument
      command: !unsafe 'echo {{ x }} {% y %}'
      changed_when: false
    - set_fact:
        fact: "{{ foo }}-{{ fromfile }}"
    - name: fact
      debug: { msg: "{{ fact }}" }
    - name: loop
      debug: { msg: "{{ item }}" }
      loop: [!unsafe '{{ a }}']
`,
      { files: { 'v.yml': "fromfile: !unsafe '{% raw %}'\n" } },
    );
    expect(r.exitCode).toBe(0);
    expect(r.results('through a variable')[0]!.result!['msg']).toBe('{{ not a template }}');
    expect(r.results('as an argument')[0]!.result!['stdout']).toBe('{{ x }} {% y %}');
    expect(r.results('fact')[0]!.result!['msg']).toBe('{{ not a template }}-{% raw %}');
    expect((r.results('loop')[0]!.result!['results'] as { msg: string }[])[0]!.msg).toBe('{{ a }}');
  });
});

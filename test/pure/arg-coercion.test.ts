import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { findModule } from '../../src/modules/registry.js';
import { Unsafe } from '../../src/playbook/filters.js';
import { coerceArgs, coerceToSchemaType } from '../../src/playbook/free-form.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { argsForHooks, checkArgs } from '../../src/runner/invoke-module.js';

/**
 * Module arguments convert as AnsibleModule converts them (module_utils/common/validation.py check_type_int,
 * check_type_float, check_type_bool, check_type_str, check_type_list). The "ansible" column was produced by
 * calling those functions of ansible-core 2.14 (Debian 12's) on the same values; `REFUSED` means Ansible
 * raises TypeError, and vncplay leaves the value as written so the schema check refuses it.
 */
const REFUSED = Symbol('refused');
const int = { type: 'integer' };
const float = { type: 'number' };
const bool = { type: 'boolean' };
const str = { type: 'string' };
const list = { type: 'array', items: { type: 'string' } };

const table: [unknown, object, unknown][] = [
  // check_type_int: int(str) — whitespace, sign and digit underscores allowed; no fraction, no hex, no float
  ['22', int, 22],
  [' 22 ', int, 22],
  ['+22', int, 22],
  ['-7', int, -7],
  ['2_2', int, 22],
  [22, int, 22],
  ['1.5', int, REFUSED],
  ['1.0', int, REFUSED],
  [1.5, int, REFUSED],
  ['0x10', int, REFUSED],
  ['1e3', int, REFUSED],
  ['abc', int, REFUSED],
  ['', int, REFUSED],
  // check_type_float: float(str)
  ['1.5', float, 1.5],
  [' 1.5 ', float, 1.5],
  ['1e3', float, 1000],
  ['.5', float, 0.5],
  ['5.', float, 5],
  ['22', float, 22],
  [3, float, 3],
  ['abc', float, REFUSED],
  // check_type_bool: convert_bool.boolean, strict
  ['yes', bool, true],
  ['Y', bool, true],
  ['t', bool, true],
  ['TRUE', bool, true],
  [' on ', bool, true],
  ['1', bool, true],
  [1, bool, true],
  ['off', bool, false],
  ['n', bool, false],
  ['F', bool, false],
  ['0', bool, false],
  [0, bool, false],
  ['2', bool, REFUSED],
  [2, bool, REFUSED],
  ['', bool, REFUSED],
  ['maybe', bool, REFUSED],
  // check_type_str: scalars become their Python str()
  [22, str, '22'],
  [1.5, str, '1.5'],
  [true, str, 'True'],
  [false, str, 'False'],
  ['0644', str, '0644'],
  // check_type_list: split on every comma, nothing trimmed; a scalar is a one-item list of its text
  ['a,b', list, ['a', 'b']],
  ['a, b', list, ['a', ' b']],
  ['x', list, ['x']],
  ['', list, ['']],
  [1, list, ['1']],
  [['a'], list, ['a']],
  // list elements convert by their own type (Ansible's `elements`)
  ['1,2', { type: 'array', items: int }, [1, 2]],
  [['1', 'x'], { type: 'array', items: int }, [1, 'x']],
];

describe('coerceToSchemaType: Ansible argument_spec type conversion', () => {
  it.each(table)('%j as %j', (value, schema, want) => {
    const got = coerceToSchemaType(value, schema, { rendered: true });
    if (want === REFUSED) expect(got).toBe(value);
    else expect(got).toEqual(want);
  });

  // Where vncplay is stricter than Ansible (Python's bool is an int): a boolean for a number is a mistake.
  it.each([[true, int], [false, float]])('refuses the boolean %j as %j (Ansible would take it as 1/0)', (v, schema) => {
    expect(coerceToSchemaType(v, schema, { rendered: true })).toBe(v);
  });

  it('keeps template strings at load time, converts them after rendering (a "{{" from !unsafe is text)', () => {
    expect(coerceToSchemaType('{{ port }}', int)).toBe('{{ port }}');
    expect(coerceToSchemaType('{{ a }},b', list)).toBe('{{ a }},b');
    expect(coerceToSchemaType('{{ a }},b', list, { rendered: true })).toEqual(['{{ a }}', 'b']);
  });

  it('a value that already fits one type of a union is left alone (mode "0644" stays text, 420 stays a number)', () => {
    const mode = { type: ['string', 'integer'] };
    expect(coerceToSchemaType('0644', mode)).toBe('0644');
    expect(coerceToSchemaType(420, mode)).toBe(420);
  });

  it('anyOf: the first branch the value converts to; enums compare after conversion', () => {
    const force = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['yes', 'no'] }] };
    expect(coerceToSchemaType('yes', force)).toBe('yes'); // fits the string branch as written
    expect(coerceToSchemaType('On', force)).toBe(true);
    expect(coerceToSchemaType('sideways', force)).toBe('sideways');
    const proto = { enum: ['tcp', 'udp', '6'] };
    expect(coerceToSchemaType(6, proto)).toBe('6');
    expect(coerceToSchemaType(7, proto)).toBe(7);
    const state = { type: 'string', enum: ['started', 'stopped'] };
    expect(coerceToSchemaType(true, state)).toBe(true); // 'True' is no choice: the error shows what was written
  });

  it('!unsafe text converts by its text and stays unsafe while it is text', () => {
    const u = new Unsafe('{{ x }}');
    expect(coerceToSchemaType(u, str)).toBe(u);
    expect(coerceToSchemaType(new Unsafe('22'), int)).toBe(22);
    expect(coerceToSchemaType(new Unsafe('{{ a }},b'), list)).toEqual([new Unsafe('{{ a }}'), new Unsafe('b')]);
  });

  it('coerceArgs converts by property, into nested objects, and copies instead of changing the input', () => {
    // A JSON Schema shaped like security_group's was before its spec (a module on the older contract).
    const rule = { type: 'object', properties: { proto: { type: 'string' }, ports: { anyOf: [{ type: ['string', 'integer'] }, { type: 'array' }] }, priority: { type: 'integer' } } };
    const schema = { type: 'object', properties: { name: { type: 'string' }, rules: { type: 'array', items: rule }, purge_rules: { type: 'boolean' } } };
    const rules = [{ proto: 'tcp', ports: 5901, priority: '100' }];
    const args = { name: 'vnc', rules, purge_rules: 'no' };
    const out = coerceArgs(args, schema, { rendered: true });
    expect(out).toEqual({ name: 'vnc', rules: [{ proto: 'tcp', ports: 5901, priority: 100 }], purge_rules: false });
    expect(rules[0]!.priority).toBe('100');
    expect(args.purge_rules).toBe('no');
    const unchanged = { name: 'vnc' };
    expect(coerceArgs(unchanged, schema)).toBe(unchanged);
  });
});

describe('rendered arguments are converted before the module sees them', () => {
  it('"2" for an integer, "no" for a boolean, "a,b" for a list reach the module converted', () => {
    // A module with a spec (debug): the parsed arguments are what its hooks get.
    const debug = findModule('debug')!;
    expect(argsForHooks(debug, { msg: 'hi', verbosity: '2' })).toEqual({ args: { msg: 'hi', verbosity: 2 } });
    const command = findModule('command')!;
    expect(argsForHooks(command, { argv: 'echo,{{ x }}', strip_empty_ends: 'no' })).toEqual({
      args: { argv: ['echo', '{{ x }}'], strip_empty_ends: false, stdin_add_newline: true, expand_argument_vars: true },
    });
  });

  it('values that do not convert are still refused', () => {
    const debug = findModule('debug')!;
    expect(checkArgs(debug, { msg: 'hi', verbosity: '1.5' })).toBe('debug: `verbosity` must be an integer, got the string "1.5"');
    expect(checkArgs(debug, { msg: 'hi', verbosity: 'abc' })).toBe('debug: `verbosity` must be an integer, got the string "abc"');
  });
});

function playbook(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-coerce-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, text);
  return file;
}

async function loadErrors(file: string): Promise<string[]> {
  try {
    await loadPlaybook(file);
  } catch (e) {
    if (e instanceof ErrorList) return e.errors.map((x) => x.format());
    throw e;
  }
  return [];
}

describe('load time: literal arguments are converted (and kept converted in the task)', () => {
  it('quoted numbers and yes/no strings, key=value text, lists from commas', async () => {
    const pb = await loadPlaybook(
      playbook(`- hosts: all
  tasks:
    - debug: { msg: hi, verbosity: "1" }
    - command:
        argv: "echo,hi"
        strip_empty_ends: "no"
    - set_fact: cacheable=yes a=1
    - debug: { msg: hi, verbosity: "{{ lvl }}" }
    - copy: { dest: /tmp/x, content: "a", mode: "0644", force: "On" }
`),
    );
    const args = pb.plays[0]!.tasks.map((t) => t.args);
    expect(args[0]).toEqual({ msg: 'hi', verbosity: 1 });
    expect(args[1]).toEqual({ argv: ['echo', 'hi'], strip_empty_ends: false });
    expect(args[2]).toMatchObject({ cacheable: true });
    expect(args[3]).toEqual({ msg: 'hi', verbosity: '{{ lvl }}' });
    expect(args[4]).toEqual({ dest: '/tmp/x', content: 'a', mode: '0644', force: true });
  });

  it('values that do not convert keep the positioned error with its hint', async () => {
    const errors = await loadErrors(
      playbook(`- hosts: all
  tasks:
    - debug: { msg: hi, verbosity: abc }
    - debug: { msg: hi, verbosity: "1.5" }
    - command: { cmd: ls, strip_empty_ends: maybe }
`),
    );
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/play\.yml:3:36: error\[E_TYPE\]: `verbosity` must be an integer or a "\{\{ template \}\}" string, got the string "abc"/);
    expect(errors[1]).toMatch(/play\.yml:4:36: error\[E_TYPE\]: `verbosity` must be an integer .* got the string "1\.5"/);
    expect(errors[1]).toMatch(/hint: a whole number is needed here/);
    expect(errors[2]).toMatch(/play\.yml:5:45: error\[E_TYPE\]: `strip_empty_ends` must be a boolean/);
  });

  it('an integer mode is still refused (E_MODE_INTEGER), not turned into the string "644"', async () => {
    const errors = await loadErrors(
      playbook(`- hosts: all
  tasks:
    - file: { path: /tmp/x, mode: 644 }
`),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/E_MODE_INTEGER/);
  });

  it('a YAML 1.1 octal mode (0644, 00755, 01777) is the octal string PyYAML and Ansible read; 0o640 stays the string it is', async () => {
    const file = playbook(`- hosts: all
  tasks:
    - file: { path: /tmp/a, state: touch, mode: 0644 }
    - file: { path: /tmp/b, state: directory, mode: 00755 }
    - file: { path: /tmp/c, state: directory, mode: 01777 }
    - file: { path: /tmp/d, state: touch, mode: 0o640 }
    - copy: { dest: /tmp/e/, content: x, mode: 0600, directory_mode: 0750 }
    - file: { path: /tmp/f, state: touch }
      args: { mode: 0640 }
`);
    const tasks = (await loadPlaybook(file)).plays[0]!.tasks;
    expect(tasks.map((t) => t.args['mode'])).toEqual(['0644', '0755', '01777', '0o640', '0600', '0640']);
    expect(tasks[4]!.args['directory_mode']).toBe('0750');
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { shaCrypt } from '../../src/playbook/filters.js';
import { checkTemplateSyntax, render } from '../../src/playbook/template.js';

const vars: Record<string, unknown> = {
  s: 'Hello World',
  n: '42',
  f: '3.75',
  list: [3, 1, 2, 3],
  strs: ['b', 'A', 'c'],
  nested: [[1, 2], [3, [4, 5]]],
  users: [
    { name: 'alice', uid: 1000, admin: true, shell: '/bin/bash' },
    { name: 'bob', uid: 1001, admin: false },
    { name: 'carol', uid: 999, admin: true, shell: '/bin/zsh' },
  ],
  d: { b: 2, a: 1 },
  d2: { a: { x: 1, y: 2 }, c: 3 },
  d3: { a: { y: 20, z: 30 } },
  items: [
    { key: 'k1', value: 'v1' },
    { key: 'k2', value: 'v2' },
  ],
  empty: '',
  padded: '  x \n',
  yaml_text: 'a: 1\nb: [x, y]\n',
  yaml_bools: 'a: yes\nb: off\ny: y\nmode: 0644\n',
  yaml_stream: 'a: 1\n---\nb: 2\n',
  path: '/etc/vnc/config.d/',
  file: '/etc/tigervnc/vncserver.users',
  ver: '1.12.0',
  result_ok: { rc: 0, changed: true, failed: false },
  result_bad: { rc: 1, changed: false, failed: true },
  result_skip: { changed: false, skipped: true },
  groups: { vnc: ['h1', 'h2'], all: ['h1', 'h2', 'h3'] },
  hv: { h1: { ip: '198.18.0.11' }, h2: { ip: '198.18.0.12' } },
};

/** [template, expected native value] */
const filterCases: [string, unknown][] = [
  // default / d / mandatory
  ["{{ missing | default('x') }}", 'x'],
  ["{{ missing | d('x') }}", 'x'],
  ["{{ empty | default('x') }}", ''],
  ["{{ empty | default('x', true) }}", 'x'],
  ["{{ empty | d('x', true) }}", 'x'],
  ["{{ missing.attr.deeper | default('x') }}", 'x'],
  ["{{ d.nope | default('x') }}", 'x'],
  ['{{ n | mandatory }}', '42'],
  // conversions
  ["{{ 'yes' | bool }}", true],
  ["{{ 'off' | bool }}", false],
  ["{{ 'True' | bool }}", true],
  ['{{ 1 | bool }}', true],
  ['{{ n | int }}', 42],
  ['{{ f | int }}', 3],
  ["{{ 'x' | int }}", 0],
  ["{{ 'x' | int(7) }}", 7],
  ["{{ '0x1f' | int(0, 16) }}", 31],
  ['{{ f | float }}', 3.75],
  ['{{ 5 | string }}', '5'],
  ['{{ true | string }}', 'True'],
  ['{{ list | string }}', '[3, 1, 2, 3]'],
  // strings
  ['{{ s | lower }}', 'hello world'],
  ['{{ s | upper }}', 'HELLO WORLD'],
  ['{{ padded | trim }}', 'x'],
  ["{{ s | replace('World', 'VNC') }}", 'Hello VNC'],
  ["{{ 'a-b-c' | replace('-', '+', 1) }}", 'a+b-c'],
  ["{{ s | regex_replace('o', '0') }}", 'Hell0 W0rld'],
  ["{{ s | regex_replace('^(\\w+) (\\w+)$', '\\2 \\1') }}", 'World Hello'],
  ["{{ s | regex_replace('(?P<first>\\w+) .*', '\\g<first>!') }}", 'Hello!'],
  ["{{ s | regex_replace('WORLD', 'x', ignorecase=true) }}", 'Hello x'],
  ["{{ 'aaa' | regex_replace('a', 'b', count=2) }}", 'bba'],
  ["{{ 'cost $5' | regex_replace('cost', 'price') }}", 'price $5'],
  ["{{ s | regex_search('W\\w+') }}", 'World'],
  ["{{ s | regex_search('zzz') }}", null],
  ["{{ 'port=5901' | regex_search('port=(\\d+)', '\\1') }}", ['5901']],
  ["{{ 'port=5901' | regex_search('port=(?P<p>\\d+)', '\\g<p>') }}", ['5901']],
  ["{{ 'a1b22c333' | regex_findall('\\d+') }}", ['1', '22', '333']],
  ["{{ 'k=v x=y' | regex_findall('(\\w)=(\\w)') }}", [['k', 'v'], ['x', 'y']]],
  ["{{ '%s-%03d' | format('a', 7) }}", 'a-007'],
  ["{{ 'a,b,,c' | split(',') }}", ['a', 'b', '', 'c']],
  ["{{ ' a  b ' | split }}", ['a', 'b']],
  ["{{ strs | join(',') }}", 'b,A,c'],
  ["{{ users | join(', ', attribute='name') }}", 'alice, bob, carol'],
  ['{{ list | join }}', '3123'],
  ["{{ 'it' | quote }}", 'it'],
  // Python's shlex.quote, byte for byte (checked against ansible-playbook in loops-jinja-parity-local).
  ["{{ \"it's here\" | quote }}", `'it'"'"'s here'`],
  ["{{ 'plain/path-1.0' | quote }}", 'plain/path-1.0'],
  ["{{ '' | quote }}", "''"],
  // Jinja binds a test like a filter: (x is mapping) | ternary(…), and 'a' ~ ('/x' is abs).
  ["{{ {'a': 1} is mapping | ternary('dict', 'other') }}", 'dict'],
  ["{{ [1] is not mapping | ternary('list', 'dict') }}", 'list'],
  ["{{ 'a' ~ '/x' is abs }}", 'aTrue'],
  // PyYAML's layout and quoting (checked against ansible-playbook in loops-jinja-parity-local): 'on' stays a string.
  ["{{ {'b': [1, {'y': 2}], 'g': 'on'} | to_nice_yaml }}", "b:\n- 1\n-   y: 2\ng: 'on'\n"],
  ["{{ {'b': [1, {'y': 2}], 'g': 'on'} | to_nice_yaml(indent=2) }}", "b:\n- 1\n- y: 2\ng: 'on'\n"],
  ["{{ {'l': ['a b', '2020-01-01'], 'm': {'k': 'x: y'}} | to_yaml }}", "l: [a b, '2020-01-01']\nm: {k: 'x: y'}\n"],
  ["{{ 'x' | comment('c') }}", '//\n// x\n//'],
  ["{{ 'x' | comment('xml') }}", '<!--\n -\n - x\n -\n-->'],
  ["{{ 'x y' | b64encode }}", 'eCB5'],
  ["{{ 'eCB5' | b64decode }}", 'x y'],
  ['{{ file | basename }}', 'vncserver.users'],
  ['{{ file | dirname }}', '/etc/tigervnc'],
  ['{{ path | basename }}', ''],
  ['{{ path | dirname }}', '/etc/vnc/config.d'],
  ["{{ 'a/b.tar.gz' | splitext }}", ['a/b.tar', '.gz']],
  ["{{ 'abc' | hash('sha1') }}", 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ["{{ 'abc' | checksum }}", 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ["{{ 'abc' | hash('md5') }}", '900150983cd24fb0d6963f7d28e17f72'],
  // sequences
  ['{{ list | length }}', 4],
  ['{{ s | length }}', 11],
  ['{{ d | count }}', 2],
  ['{{ list | first }}', 3],
  ['{{ list | last }}', 3],
  ['{{ list | min }}', 1],
  ['{{ list | max }}', 3],
  ["{{ users | max(attribute='uid') }}", { name: 'bob', uid: 1001, admin: false }],
  ['{{ list | unique }}', [3, 1, 2]],
  ['{{ [1, 2] | union([2, 3]) }}', [1, 2, 3]],
  ['{{ [1, 2, 3] | difference([2]) }}', [1, 3]],
  ['{{ [1, 2, 3] | intersect([3, 2, 9]) }}', [2, 3]],
  ['{{ list | sort }}', [1, 2, 3, 3]],
  ['{{ strs | sort }}', ['A', 'b', 'c']],
  ["{{ users | sort(attribute='uid') | map(attribute='name') | list }}", ['carol', 'alice', 'bob']],
  ['{{ list | reverse | list }}', [3, 2, 1, 3]],
  ['{{ nested | flatten }}', [1, 2, 3, 4, 5]],
  ['{{ nested | flatten(1) }}', [1, 2, 3, [4, 5]]],
  ['{{ list | sum }}', 9],
  ["{{ 'ab' | list }}", ['a', 'b']],
  ['{{ d | list }}', ['b', 'a']],
  // select / reject / map
  ["{{ list | select('odd') | list }}", [3, 1, 3]],
  ["{{ list | reject('odd') | list }}", [2]],
  ["{{ list | select('gt', 1) | list }}", [3, 2, 3]],
  ["{{ list | select('equalto', 3) | list | length }}", 2],
  ["{{ strs | select('match', '[a-z]') | list }}", ['b', 'c']],
  ["{{ users | selectattr('admin') | map(attribute='name') | list }}", ['alice', 'carol']],
  ["{{ users | rejectattr('admin') | map(attribute='name') | list }}", ['bob']],
  ["{{ users | selectattr('shell', 'defined') | map(attribute='name') | list }}", ['alice', 'carol']],
  ["{{ users | selectattr('uid', 'ge', 1000) | map(attribute='name') | list }}", ['alice', 'bob']],
  ["{{ users | selectattr('name', 'in', ['bob', 'carol']) | map(attribute='uid') | list }}", [1001, 999]],
  ["{{ users | map(attribute='shell', default='/bin/sh') | list }}", ['/bin/bash', '/bin/sh', '/bin/zsh']],
  ["{{ strs | map('upper') | list }}", ['B', 'A', 'C']],
  ["{{ ['1', '2'] | map('int') | sum }}", 3],
  ["{{ groups['vnc'] | map('extract', hv, 'ip') | list }}", ['198.18.0.11', '198.18.0.12']],
  // dicts
  ['{{ d | dict2items }}', [{ key: 'b', value: 2 }, { key: 'a', value: 1 }]],
  ["{{ d | dict2items(key_name='n', value_name='v') }}", [{ n: 'b', v: 2 }, { n: 'a', v: 1 }]],
  ['{{ items | items2dict }}', { k1: 'v1', k2: 'v2' }],
  ['{{ d2 | combine(d3) }}', { a: { y: 20, z: 30 }, c: 3 }],
  ['{{ d2 | combine(d3, recursive=true) }}', { a: { x: 1, y: 20, z: 30 }, c: 3 }],
  ["{{ d | combine({'c': 3}, {'a': 9}) }}", { b: 2, a: 9, c: 3 }],
  ["{{ {'l': [1]} | combine({'l': [2]}, list_merge='append') }}", { l: [1, 2] }],
  ['{{ d.items() | list }}', [['b', 2], ['a', 1]]],
  // serialisation
  ['{{ d | to_json }}', '{"b": 2, "a": 1}'],
  ['{{ [1, "a"] | to_json }}', '[1, "a"]'],
  ['{{ d | to_nice_json }}', '{\n    "a": 1,\n    "b": 2\n}'],
  ['{{ d | to_nice_json(indent=2) }}', '{\n  "a": 1,\n  "b": 2\n}'],
  ['{{ \'{"x": [1, 2]}\' | from_json }}', { x: [1, 2] }],
  ['{{ d | to_yaml }}', '{a: 1, b: 2}\n'],
  ["{{ {'z': {'c': [1, 2], 'b': 'x'}, 'a': [{'k': 1}, 2]} | to_yaml }}", 'a:\n- {k: 1}\n- 2\nz:\n  b: x\n  c: [1, 2]\n'],
  ["{{ {'z': {'c': [1, 2]}, 'a': 1} | to_nice_yaml(indent=2) }}", 'a: 1\nz:\n  c:\n  - 1\n  - 2\n'],
  ['{{ yaml_text | from_yaml }}', { a: 1, b: ['x', 'y'] }],
  ['{{ yaml_bools | from_yaml }}', { a: true, b: false, y: 'y', mode: 0o644 }],
  ['{{ yaml_stream | from_yaml_all }}', [{ a: 1 }, { b: 2 }]],
  // FQCN names of builtin plugins
  ['{{ d | ansible.builtin.to_json }}', '{"b": 2, "a": 1}'],
  ["{{ strs | map('ansible.builtin.upper') | list }}", ['B', 'A', 'C']],
  ["{{ strs | select('ansible.builtin.match', '[a-z]') | list }}", ['b', 'c']],
  ["{{ s is ansible.builtin.search('World') }}", true],
  ["{{ s is ansible.builtin.match('World') }}", false],
  // time
  ["{{ '%Y-%m-%d %H:%M:%S %j %a %b %s' | strftime(1700000000, utc=true) }}", '2023-11-14 22:13:20 318 Tue Nov 1700000000'],
  ["{{ '%y/%I%p/%%' | strftime(0, true) }}", '70/12AM/%'],
  // ternary
  ["{{ true | ternary('on', 'off') }}", 'on'],
  ["{{ (list | length > 9) | ternary('on', 'off') }}", 'off'],
  ["{{ none | ternary('on', 'off', 'unset') }}", 'unset'],
];

/** [expression, expected truth] for `is` tests. */
const testCases: [string, boolean][] = [
  ['missing is defined', false],
  ['missing is undefined', true],
  ['s is defined', true],
  ['d.a is defined', true],
  ['d.zz is defined', false],
  ['missing.deeper is defined', false],
  ['none is none', true],
  ['s is none', false],
  ['s is string', true],
  ['list is string', false],
  ['1.5 is number', true],
  ['n is number', false],
  ['d is mapping', true],
  ['list is mapping', false],
  ['list is iterable', true],
  ['s is iterable', true],
  ['5 is iterable', false],
  ['list is sequence', true],
  ['result_ok is success', true],
  ['result_ok is succeeded', true],
  ['result_bad is failed', true],
  ['result_ok is failed', false],
  ['result_ok is changed', true],
  ['result_bad is changed', false],
  ['result_skip is skipped', true],
  ['result_ok is skipped', false],
  ["s is match('Hello')", true],
  ["s is match('World')", false],
  ["s is search('World')", true],
  ["s is regex('w.rld', ignorecase=true)", true],
  ["ver is version('1.9', '>=')", true],
  ["ver is version('1.12.0', '==')", true],
  ["ver is version('1.12.1', 'lt')", true],
  ["'2.0' is version('10.0', '<')", true],
  ["ver is version_compare('1.2', '>')", true],
  ['3 is in(list)', true],
  ["'h3' is in(groups['vnc'])", false],
  ['list is contains(2)', true],
  ['3 is odd', true],
  ['4 is even', true],
  ['9 is divisibleby(3)', true],
  ['3 is eq(3)', true],
  ['3 is ne(3)', false],
  ["s is not match('x')", true],
  ['[1] is subset([1, 2])', true],
  ['9 is divisibleby 3', true],
  ['3 is eq 3', true],
  ['none is sameas none', true],
  ['s is not sameas none', true],
  ["s is match 'Hello' and true", true],
  ['s is string and 1 is number', true],
  ['(s is string) if true else false', true],
];

describe('filters', () => {
  it.each(filterCases)('%s', (tpl, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });

  it('every filter the task names exists and is a function', () => {
    const names =
      'default d bool int float string lower upper trim replace regex_replace regex_search regex_findall join split length count first last min max unique union difference intersect select reject selectattr rejectattr map list dict2items items2dict combine to_json to_nice_json from_json to_yaml from_yaml b64encode b64decode basename dirname quote ternary mandatory hash checksum'.split(
        ' ',
      );
    for (const n of names) expect(() => render(`{{ 1 | ${n} is defined }}`, {}), n).not.toThrow(/no filter named/);
  });
});

describe('tests (`is`)', () => {
  it.each(testCases)('%s', (expr, expected) => {
    expect(render(`{{ ${expr} }}`, vars)).toBe(expected);
  });
});

describe('lookup()', () => {
  it("lookup('env') reads the controller's environment, '' when unset, default= when given", () => {
    process.env.VNCPLAY_TEST_ENV = 'from-env';
    expect(render("{{ lookup('env', 'VNCPLAY_TEST_ENV') }}", {})).toBe('from-env');
    expect(render("{{ lookup('env', 'VNCPLAY_TEST_UNSET_XYZ') }}", {})).toBe('');
    expect(render("{{ lookup('env', 'VNCPLAY_TEST_UNSET_XYZ', default='d') }}", {})).toBe('d');
    expect(render("{{ query('env', 'VNCPLAY_TEST_ENV') }}", {})).toEqual(['from-env']);
  });

  it("lookup('file') reads relative to playbook_dir (and its files/), strips trailing whitespace", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-lookup-'));
    writeFileSync(join(dir, 'key.pub'), 'ssh-ed25519 AAAA test\n\n');
    expect(render("{{ lookup('file', 'key.pub') }}", { playbook_dir: dir })).toBe('ssh-ed25519 AAAA test');
    expect(render("{{ lookup('file', '" + join(dir, 'key.pub') + "') }}", {})).toBe('ssh-ed25519 AAAA test');
    expect(() => render("{{ lookup('file', 'nope.txt') }}", { playbook_dir: dir })).toThrow(/could not find 'nope.txt'/);
  });

  it("lookup('first_found') returns the first existing file (list, or files/paths as a role's include_vars uses it)", () => {
    const role = mkdtempSync(join(tmpdir(), 'vncplay-role-'));
    mkdirSync(join(role, 'vars'));
    writeFileSync(join(role, 'vars', 'Debian.yml'), 'x: 1\n');
    const params = { files: ['Kali GNU/Linux.yml', 'Ubuntu.yml', 'Debian.yml'], paths: [join(role, 'vars')] };
    expect(render("{{ lookup('first_found', params) }}", { params, role_path: role })).toBe(join(role, 'vars', 'Debian.yml'));
    // ansible-core 2.14: keyword paths= without keyword files= give no names to try, so nothing is found.
    expect(() => render("{{ lookup('first_found', ['nope.yml', 'Debian.yml'], paths=[role_path ~ '/vars']) }}", { role_path: role })).toThrow(/no file was found/);
    expect(render("{{ query('first_found', ['nope.yml'], skip=true) }}", { role_path: role })).toEqual([]);
    expect(() => render("{{ lookup('first_found', ['nope.yml']) }}", { role_path: role })).toThrow(/no file was found \(tried 'nope.yml'\)/);
  });

  it("lookup('template') renders a controller template with the current variables", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-lookup-tpl-'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'motd.j2'), '{% for u in users %}{{ u }}\n{% endfor %}');
    expect(render("{{ lookup('template', 'motd.j2') }}", { playbook_dir: dir, users: ['a', 'b'] })).toBe('a\nb\n');
  });

  it("lookup('pipe') is refused with a clear error and runs nothing", () => {
    let err: unknown;
    try {
      render("{{ lookup('pipe', 'touch /tmp/vncplay-pipe-probe') }}", {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe('E_TEMPLATE_LOOKUP');
    expect((err as TemplateError).message).toMatch(/lookup\('pipe'\) is refused/);
    expect((err as TemplateError).hint).toMatch(/delegate_to: localhost/);
  });

  it('an unknown lookup names the nearest one: when the template compiles for a literal name, when it runs otherwise', () => {
    expect(() => checkTemplateSyntax("{{ lookup('envv', 'HOME') }}")).toThrow(/no lookup named 'envv' \(did you mean 'env'\?\)/);
    try {
      render("{{ lookup(name, 'HOME') }}", { name: 'envv' });
      expect.unreachable();
    } catch (e) {
      expect((e as TemplateError).code).toBe('E_TEMPLATE_LOOKUP');
      expect((e as TemplateError).message).toMatch(/unsupported lookup plugin 'envv'/);
      expect((e as TemplateError).hint).toBe("did you mean 'env'?");
    }
  });
});

describe('password_hash (SHA-crypt as glibc/passlib write it)', () => {
  // Golden values from Python's crypt.crypt (glibc) on this project's Debian 12 machines.
  it.each([
    ['secret', 'mysalt', 'sha512', undefined, '$6$mysalt$UX6P1VKOf6dr0s2pg4pLNvIUB6hLXvP6M5f/Yj9hJgMPdAJ4oArvk5YUD9/XWtk1JOpVwt/JTsczMJr8sFVML1'],
    ['secret', 'mysalt', 'sha256', undefined, '$5$mysalt$I2SNajjJ3Gc5gIR/tkrLOGngF8wqv59buJCqxh.o9s8'],
    [
      'a much longer password with spaces 1234567890',
      'saltsaltsaltsalt',
      'sha512',
      10000,
      '$6$rounds=10000$saltsaltsaltsalt$/gtn.ZsJXyiswn97r7W4ZA26OO0ZSptK2XVdQvlglp6xb1plCg07M7mYIwjFRkpCpWvh4XI4Ubr2ZPMKAsHXf1',
    ],
    ['', 'x', 'sha512', undefined, '$6$x$QSmr1Bx2g4O6BzKvdkgOcyU6H91X6I/XBv5pSalMhSPkwdH6Beo3F455xZJg0v//bxVK5F4OE5k1.0xuR26MK0'],
  ] as [string, string, 'sha512' | 'sha256', number | undefined, string][])('shaCrypt(%j, %j, %s, %s)', (pw, salt, algo, rounds, expected) => {
    expect(shaCrypt(pw, salt, algo, rounds)).toBe(expected);
  });

  it('the filter matches ansible-core 2.14 (passlib rounds) for a given salt', () => {
    // ansible -m debug -a "msg={{ 'secret' | password_hash('sha512', 'mysalt', rounds=10000) }}"
    expect(render("{{ 'secret' | password_hash('sha512', 'mysalt', rounds=10000) }}", {})).toBe(
      '$6$rounds=10000$mysalt$9XTP7570fxVN/uTspSrH6kRPdR4KKGzGz7.TmJjDYGrKSwZuavW/3YaLur8JX6WP75Czcxa.megIO0lKreY0R.',
    );
  });

  it('without a salt, a random one is used (16 crypt characters)', () => {
    const h = render("{{ 'secret' | password_hash('sha512', rounds=1000) }}", {}) as string;
    expect(h).toMatch(/^\$6\$rounds=1000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(() => render("{{ 'x' | password_hash('md4') }}", {})).toThrow(/unsupported hash type 'md4'/);
  });
});

describe('now()', () => {
  it('formats the current time like Python (str(datetime) by default, fmt= when given)', () => {
    expect(render('{{ now() }}', {})).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    const year = String(new Date().getUTCFullYear());
    expect(render("{{ now(utc=true, fmt='%Y') }}", {})).toBe(year);
  });
});

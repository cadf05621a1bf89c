import { describe, expect, it } from 'vitest';
import { OMIT, containsTemplate, evaluateCondition, markUnsafe, render, renderText, templateCacheSize } from '../../src/playbook/template.js';

const vars: Record<string, unknown> = {
  name: 'vnc',
  port: 5901,
  ratio: 2.5,
  flag: true,
  off: false,
  nothing: null,
  empty_list: [],
  empty_dict: {},
  list: [3, 1, 2],
  words: ['b', 'a', 'c'],
  dict: { a: 1, b: [1, 2], c: { d: 'deep' } },
  pair: ['first', 'second'],
  csv: 'a,b,c',
  spaced: '  padded  ',
  users: [
    { name: 'alice', uid: 1000, admin: true },
    { name: 'bob', uid: 1001, admin: false },
  ],
  greeting: 'hello {{ name }}',
  chain: '{{ greeting }}!',
  nested: { url: 'http://{{ name }}:{{ port }}', list: ['{{ port + 1 }}'] },
};

/** [template, expected] — expected values are what Ansible (Jinja2 with native single-expression results) gives. */
const nativeCases: [string, unknown][] = [
  ['{{ port }}', 5901],
  ['{{ ratio }}', 2.5],
  ['{{ flag }}', true],
  ['{{ nothing }}', null],
  ['{{ list }}', [3, 1, 2]],
  ['{{ dict }}', { a: 1, b: [1, 2], c: { d: 'deep' } }],
  ['{{ dict.c.d }}', 'deep'],
  ["{{ dict['b'][1] }}", 2],
  ['{{ pair.0 }}', 'first'],
  ['{{ pair.1 }}', 'second'],
  ['{{ list[-1] }}', 2],
  ['{{ list[1:] }}', [1, 2]],
  ['{{ list[:2] }}', [3, 1]],
  ['{{ list[::-1] }}', [2, 1, 3]],
  ["{{ 'abcdef'[1:3] }}", 'bc'],
  ['{{ port + 1 }}', 5902],
  ['{{ port // 2 }}', 2950],
  ['{{ 7 % 3 }}', 1],
  ['{{ 2 ** 10 }}', 1024],
  ['{{ 3 * 5 // 2 }}', 7],
  ['{{ 7 * 3 % 4 }}', 1],
  ['{{ 8 / 4 * 2 }}', 4],
  ['{{ 10 - 2 + 3 }}', 11],
  ['{{ 10 - 2 - 3 }}', 5],
  ['{{ 1 + 2 * 3 ** 2 }}', 19],
  ['{{ (1 + 2) * 3 }}', 9],
  ['{{ 7 / 2 }}', 3.5],
  ['{{ -port }}', -5901],
  ['{{ list + [4] }}', [3, 1, 2, 4]],
  ["{{ 'ab' * 3 }}", 'ababab'],
  ["{{ 'x' ~ port ~ flag }}", 'x5901True'],
  ["{{ '%s:%d' % (name, port) }}", 'vnc:5901'],
  ['{{ (1, 2) }}', [1, 2]],
  ['{{ {name: port} }}', { vnc: 5901 }],
  ["{{ {'name': port, 1: 'one'} }}", { name: 5901, '1': 'one' }],
  ["{{ dict | combine({pair[0]: pair[1]}) }}", { a: 1, b: [1, 2], c: { d: 'deep' }, first: 'second' }],
  ["{{ {name ~ '_port': port + 1} }}", { vnc_port: 5902 }],
  ["{{ {'__proto__': 1} | list }}", ['__proto__']],
  ["{{ [1, 2,] }}", [1, 2]],
  ["{{ {'a': 1,} }}", { a: 1 }],
  ['{{ [] }}', []],
  ['{{ {} }}', {}],
  ["{{ users | map(attribute='name') | list }}", ['alice', 'bob']],
  ['{{ [1, 2] == [1, 2] }}', true],
  ["{{ {'a': 1} == {'a': 1} }}", true],
  ["{{ '1' == 1 }}", false],
  ['{{ 1 == 1.0 }}', true],
  ['{{ 1 < 2 < 3 }}', true],
  ['{{ 3 > 2 > 2 }}', false],
  ['{{ True }}', true],
  ['{{ False }}', false],
  ['{{ None }}', null],
  ['{{ true and false }}', false],
  ["{{ empty_list or 'fallback' }}", 'fallback'],
  ["{{ empty_dict or 'fallback' }}", 'fallback'],
  ["{{ list and 'nonempty' }}", 'nonempty'],
  ["{{ 'yes' if flag else 'no' }}", 'yes'],
  ["{{ 'yes' if empty_list else 'no' }}", 'no'],
  ['{{ not empty_list }}', true],
  ['{{ 2 in list }}', true],
  ['{{ 5 not in list }}', true],
  ["{{ 'a' in dict }}", true],
  ["{{ 'nc' in name }}", true],
  ['{{ nothing is none }}', true],
  ['{{ port is not string }}', true],
  ["{{ csv.split(',') }}", ['a', 'b', 'c']],
  ['{{ spaced.strip() }}', 'padded'],
  ["{{ name.startswith('vn') }}", true],
  ["{{ name.upper() }}", 'VNC'],
  ["{{ dict.get('zz', 'dflt') }}", 'dflt'],
  ['{{ dict.keys() | list }}', ['a', 'b', 'c']],
  ["{{ '{}-{}'.format(name, port) }}", 'vnc-5901'],
  ['{{ range(3) }}', [0, 1, 2]],
  ['{{ range(1, 7, 2) | list }}', [1, 3, 5]],
  ['{{ greeting }}', 'hello vnc'],
  ['{{ chain }}', 'hello vnc!'],
  ['{{ nested }}', { url: 'http://vnc:5901', list: [5902] }],
];

/** Templates that are not exactly one expression render to strings, printed as Python would. */
const stringCases: [string, string][] = [
  ['{{ name }}-{{ port }}', 'vnc-5901'],
  [' {{ port }}', ' 5901'],
  ['{{ port }} ', '5901 '],
  ['x{{ flag }}', 'xTrue'],
  ['x{{ off }}', 'xFalse'],
  ['x{{ nothing }}', 'x'],
  ['x{{ [nothing] }}', 'x[None]'],
  ['x{{ words }}', "x['b', 'a', 'c']"],
  ['x{{ dict }}', "x{'a': 1, 'b': [1, 2], 'c': {'d': 'deep'}}"],
  ['x{{ ratio }}', 'x2.5'],
  ['{{ a }}{{ b }}', 'AB'],
  ['{# comment #}kept', 'kept'],
  ['{% if flag %}on{% else %}off{% endif %}', 'on'],
  ['{% if empty_list %}on{% else %}off{% endif %}', 'off'],
  ['{% if off %}a{% elif flag %}b{% endif %}', 'b'],
  ['{% for w in words %}{{ loop.index }}={{ w }}{% if not loop.last %},{% endif %}{% endfor %}', '1=b,2=a,3=c'],
  ['{% for k in dict %}{{ k }}{% endfor %}', 'abc'],
  ['{% for k, v in dict.items() %}{{ k }}{% endfor %}', 'abc'],
  ['{% for x in empty_list %}x{% else %}none{% endfor %}', 'none'],
  ['{% set n = port + 1 %}{{ n }}', '5902'],
  ['{% raw %}{{ not rendered }}{% endraw %}', '{{ not rendered }}'],
  ['{%- if flag -%}  trimmed  {%- endif -%}', 'trimmed'],
  ['{% for w in words if w != "a" %}{{ loop.index }}{{ w }}/{{ loop.length }} {% endfor %}', '1b/2 2c/2 '],
  ['{% for w in words if w == "z" %}{{ w }}{% else %}none{% endfor %}', 'none'],
  ['{% for k, v in dict.items() if v is number %}{{ k }}={{ v }}{% endfor %}', 'a=1'],
  ['{% macro port_line(n) %}port={{ n }}{% endmacro %}{{ port_line(port) }} {{ port_line(1) | upper }}', 'port=5901 PORT=1'],
  ['{% filter upper %}{{ name }}{% endfilter %}', 'VNC'],
  ['{% set ns = namespace(found=false) %}{% for w in words %}{% if w == "a" %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}', 'True'],
  ['{% set ns = namespace(n=0) %}{% for x in list %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}', '6'],
  ["{% for uid, group in users | groupby('uid') %}{{ uid }}:{{ group | map(attribute='name') | join(',') }} {% endfor %}", '1000:alice 1001:bob '],
  ['{% for row in [1, 2, 3, 4, 5] | batch(2, 0) %}{{ row }}{% endfor %}', '[1, 2][3, 4][5, 0]'],
];

describe('render: native values for a single {{ expr }}', () => {
  it.each(nativeCases)('%s', (tpl, expected) => {
    expect(render(tpl, { ...vars, a: 'A', b: 'B' })).toEqual(expected);
  });
});

describe('render: strings for everything else', () => {
  it.each(stringCases)('%s', (tpl, expected) => {
    expect(render(tpl, { ...vars, a: 'A', b: 'B' })).toBe(expected);
  });
});

describe('render: deep values, fast path, omit', () => {
  it('renders every string inside objects and arrays and keeps other values', () => {
    const value = { a: '{{ port }}', b: ['x', '{{ name }}-1', 3, true], c: { d: '{{ list | length }}' }, e: null };
    expect(render(value, vars)).toEqual({ a: 5901, b: ['x', 'vnc-1', 3, true], c: { d: 3 }, e: null });
  });

  it('returns plain strings and untemplated objects untouched (same reference, no compile)', () => {
    const before = templateCacheSize();
    const obj = { a: 'plain', b: ['x', 1] };
    expect(render('no braces here { } }}', vars)).toBe('no braces here { } }}');
    expect(render(obj, vars)).toBe(obj);
    expect(templateCacheSize()).toBe(before);
  });

  it('caches compiled templates by source', () => {
    render('{{ port }}-cache-probe', vars);
    const size = templateCacheSize();
    render('{{ port }}-cache-probe', { ...vars, port: 1 });
    expect(templateCacheSize()).toBe(size);
    expect(render('{{ port }}-cache-probe', { ...vars, port: 1 })).toBe('1-cache-probe');
  });

  it('drops keys and list items that render to omit', () => {
    const args = { path: '/etc/x', mode: '{{ wanted_mode | default(omit) }}', list: ['a', '{{ omit }}'] };
    expect(render(args, { ...vars, omit: OMIT })).toEqual({ path: '/etc/x', list: ['a'] });
    expect(render(args, { ...vars, omit: OMIT, wanted_mode: '0644' })).toEqual({ path: '/etc/x', mode: '0644', list: ['a'] });
  });

  it('containsTemplate sees templates deep inside values', () => {
    expect(containsTemplate({ a: [{ b: 'x {{ y }}' }] })).toBe(true);
    expect(containsTemplate({ a: [{ b: 'x { y }' }] })).toBe(false);
    expect(containsTemplate('{% if x %}')).toBe(true);
    expect(containsTemplate('{# c #}')).toBe(true);
  });

  it('renderText never returns native values and keeps trailing newlines', () => {
    expect(renderText('{{ port }}', vars)).toBe('5901');
    expect(renderText('{{ list }}', vars)).toBe('[3, 1, 2]');
    expect(renderText('port={{ port }}\n', vars)).toBe('port=5901\n');
  });

  it('trims the newline after a block tag (trim_blocks), as Ansible does; lstrip only when asked', () => {
    const tpl = '{% for w in words %}\n  {{ w }}\n{% endfor %}\n';
    expect(renderText(tpl, vars)).toBe('  b\n  a\n  c\n');
    expect(renderText('  {% if flag %}\nx\n  {% endif %}\n', vars, undefined, { lstripBlocks: true })).toBe('x\n');
    expect(renderText('{% if flag %}\nx{% endif %}', vars, undefined, { trimBlocks: false })).toBe('\nx');
  });
});

describe('render: host data is never rendered again (Unsafe)', () => {
  const hostOutput = {
    stdout: "{{ lookup('pipe', 'touch /tmp/vncplay-pwned') }}",
    stdout_lines: ['{{ 7*7 }}', "{% for x in range(3) %}{{ x }}{% endfor %}"],
    rc: 0,
  };
  const scope = { ...vars, result: markUnsafe(hostOutput), fact: markUnsafe('{{ 7*7 }}') };

  it('a registered stdout holding a template stays literal, natively and inside strings', () => {
    expect(render('{{ result.stdout }}', scope)).toBe(hostOutput.stdout);
    expect(render('out: {{ result.stdout }}', scope)).toBe(`out: ${hostOutput.stdout}`);
    expect(render('{{ result.stdout_lines }}', scope)).toEqual(hostOutput.stdout_lines);
    expect(render('{{ fact }}', scope)).toBe('{{ 7*7 }}');
    expect(render('{{ fact ~ "!" }}', scope)).toBe('{{ 7*7 }}!');
  });

  it('an Unsafe value passed to render is returned as data', () => {
    expect(render(markUnsafe('{{ 7*7 }}'), vars)).toBe('{{ 7*7 }}');
    expect(render({ a: markUnsafe({ b: '{{ 7*7 }}' }) }, vars)).toEqual({ a: { b: '{{ 7*7 }}' } });
  });

  it('a variable defined from host data is rendered once, not twice', () => {
    const s = { ...scope, copied: '{{ result.stdout_lines[0] }}' };
    expect(render('{{ copied }}', s)).toBe('{{ 7*7 }}');
  });

  it('filters, tests and loops see the plain value', () => {
    expect(render('{{ result.rc == 0 }}', scope)).toBe(true);
    expect(render('{{ result.stdout_lines | length }}', scope)).toBe(2);
    expect(render('{{ result is success }}', scope)).toBe(true);
  });
});

describe('backslashes in string literals', () => {
  it('in playbook values, literals inside {{ }} keep backslashes as written (Ansible escape_backslashes)', () => {
    expect(render(String.raw`{{ 'ab' | regex_replace('(\w)(\w)', '\2\1') }}`, {})).toBe('ba');
    expect(render(String.raw`{{ 'port=5901' | regex_search('port=(\d+)', '\1') }}`, {})).toEqual(['5901']);
    expect(render(String.raw`{{ 'a\nb' }}`, {})).toBe(String.raw`a\nb`);
    expect(render(String.raw`{{ 'C:\temp' }}`, {})).toBe(String.raw`C:\temp`);
    expect(render(String.raw`{{ 'it\'s' }}`, {})).toBe(String.raw`it\'s`);
  });

  it('in template files and conditions, literals follow Jinja/Python escapes; unknown escapes keep the backslash', () => {
    expect(renderText(String.raw`{{ 'a\nb' }}`, {})).toBe('a\nb');
    expect(renderText(String.raw`{{ 'tab\there' }}`, {})).toBe('tab\there');
    expect(renderText(String.raw`{{ 'x\d' }}`, {})).toBe(String.raw`x\d`);
    expect(renderText(String.raw`{{ 'back\\slash' }}`, {})).toBe(String.raw`back\slash`);
    expect(renderText(String.raw`{{ '\x41\u00e9\101' }}`, {})).toBe('A\u00e9A');
    expect(evaluateCondition(String.raw`s is match('\d+$')`, { s: '123' })).toBe(true);
    expect(evaluateCondition(String.raw`s is match('\d+$')`, { s: 'abc' })).toBe(false);
  });
});

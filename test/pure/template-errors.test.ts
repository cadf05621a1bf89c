import { describe, expect, it } from 'vitest';
import { TemplateError, type SourcePos } from '../../src/errors.js';
import { checkTemplateSyntax, markUnsafe, render, renderText, resolveVariable } from '../../src/playbook/template.js';

const at: SourcePos = { file: 'playbooks/restart.yml', line: 12, col: 7 };

function errorOf(f: () => unknown): TemplateError {
  try {
    f();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw new Error(`expected a TemplateError, got ${String(e)}`);
  }
  throw new Error('expected an error, got none');
}

const vars = {
  vnc_port: 5901,
  vnc_user: 'alice',
  result: markUnsafe({ rc: 0, stdout: 'ok', stdout_lines: ['ok'] }),
  users: [{ name: 'a' }],
};

/** [template, code, message, hint (undefined: not checked)] — the golden messages users see. */
const cases: [string, string, string, string | undefined][] = [
  ['{{ vnc_prot }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'vnc_prot' in playbooks/restart.yml:12:7", "did you mean 'vnc_port'?"],
  [
    'port {{ zzz_unknown }}',
    'E_TEMPLATE_UNDEFINED',
    "undefined variable 'zzz_unknown' in playbooks/restart.yml:12:7",
    "define 'zzz_unknown' (vars, inventory, -e) or give a fallback: {{ zzz_unknown | default(...) }}",
  ],
  ['{{ result.stdotu }}', 'E_TEMPLATE_UNDEFINED', "'result' has no attribute 'stdotu' in playbooks/restart.yml:12:7", "did you mean 'stdout'?"],
  ['{{ missing.attr }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ missing + 1 }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ missing | upper }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ vnc_port | default(missing) }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{% if missing %}x{% endif %}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{% for x in missing %}{% endfor %}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ missing == 1 }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ missing is iterable }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ 1 in missing }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ["{{ {'port': missing} }}", 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ [1, [missing]] }}', 'E_TEMPLATE_UNDEFINED', "undefined variable 'missing' in playbooks/restart.yml:12:7", undefined],
  ['{{ users[3] }}', 'E_TEMPLATE_UNDEFINED', "list index 3 out of range in 'users' in playbooks/restart.yml:12:7", undefined],
  ["{{ missing | mandatory('set vnc_geometry in group_vars') }}", 'E_TEMPLATE_UNDEFINED', 'set vnc_geometry in group_vars in playbooks/restart.yml:12:7', undefined],
  ['{{ missing | mandatory }}', 'E_TEMPLATE_UNDEFINED', "mandatory variable 'missing' is not defined in playbooks/restart.yml:12:7", undefined],
  ['{{ vnc_port | uppr }}', 'E_TEMPLATE_FILTER', "no filter named 'uppr' (did you mean 'upper'?) (template line 1, column 15) in playbooks/restart.yml:12:7", undefined],
  ['{{ vnc_port is definde }}', 'E_TEMPLATE_FILTER', "no test named 'definde' (did you mean 'defined'?) (template line 1, column 4) in playbooks/restart.yml:12:7", undefined],
  ['{{ vnc_port is community.general.foo }}', 'E_TEMPLATE_FILTER', "no test named 'community.general.foo' (template line 1, column 4) in playbooks/restart.yml:12:7", undefined],
  ['{{ vnc_port | community.general.json_query("x") }}', 'E_TEMPLATE_FILTER', "no filter named 'community.general.json_query' (template line 1, column 15) in playbooks/restart.yml:12:7", undefined],
  ['{{ [1, 2 }}', 'E_TEMPLATE_SYNTAX', "template syntax error: expected ',' or ']', got }} (template line 1, column 10) in playbooks/restart.yml:12:7", undefined],
  ["{{ {'a' 1} }}", 'E_TEMPLATE_SYNTAX', "template syntax error: expected ':' after a dict key (template line 1, column 5) in playbooks/restart.yml:12:7", undefined],
  ["{% set d = {'a': 1} %}{% set d.a = 2 %}", 'E_TEMPLATE_RUNTIME', 'error while rendering: cannot assign attribute on a non-namespace object (use namespace())', undefined],
  ['{{ vnc_port ', 'E_TEMPLATE_SYNTAX', 'template syntax error: expected variable end (template line 1, column 1) in playbooks/restart.yml:12:7', undefined],
  ['{% if vnc_port %}x', 'E_TEMPLATE_SYNTAX', 'template syntax error: expected elif, else, or endif, got end of file (template line 1, column 1) in playbooks/restart.yml:12:7', undefined],
  ["{% extends 'x.j2' %}", 'E_TEMPLATE_SYNTAX', "template syntax error: '{% extends %}' is not supported in vncplay templates (template line 1, column 4) in playbooks/restart.yml:12:7", undefined],
  ["{% include 'vncplay-no-such.j2' %}", 'E_TEMPLATE_LOOKUP', "{% include 'vncplay-no-such.j2' %}: template not found", undefined],
  ["{{ vnc_user + 1 }}", 'E_TEMPLATE_RUNTIME', "error while rendering: unsupported operand type(s) for +: 'str' and 'int' in playbooks/restart.yml:12:7", undefined],
  ["{{ vnc_user < 1 }}", 'E_TEMPLATE_RUNTIME', "error while rendering: '<' not supported between instances of 'str' and 'int' in playbooks/restart.yml:12:7", undefined],
  ["{{ now() < 1 }}", 'E_TEMPLATE_RUNTIME', "error while rendering: '<' not supported between instances of 'datetime.datetime' and 'int' in playbooks/restart.yml:12:7", undefined],
  ["{{ now() + 1 }}", 'E_TEMPLATE_RUNTIME', "error while rendering: unsupported operand type(s) for +: 'datetime.datetime' and 'int' in playbooks/restart.yml:12:7", undefined],
  ['{{ now().fortnight }}', 'E_TEMPLATE_UNDEFINED', "'datetime.datetime object' has no attribute 'fortnight' (in 'the return value of (now)') in playbooks/restart.yml:12:7", undefined],
  ['{{ (now() - now()) | to_json }}', 'E_TEMPLATE_RUNTIME', 'error while rendering: Object of type timedelta is not JSON serializable in playbooks/restart.yml:12:7', undefined],
  ["{% set d = now() %}{{ [d - d] | to_yaml }}", 'E_TEMPLATE_RUNTIME', 'error while rendering: cannot represent an object: datetime.timedelta(0) in playbooks/restart.yml:12:7', undefined],
  [
    "{{ '2020-13-01' | to_datetime('%Y-%m-%d') }}",
    'E_TEMPLATE_RUNTIME',
    "error while rendering: to_datetime: time data '2020-13-01' does not match format '%Y-%m-%d' in playbooks/restart.yml:12:7",
    undefined,
  ],
  ["{{ '-' * 100000000 }}", 'E_TEMPLATE_RUNTIME', 'error while rendering: result of * would have 100000000 items (limit 10000000)', undefined],
  ['{{ range(1000000) }}', 'E_TEMPLATE_RUNTIME', 'error while rendering: range() too large (over 100000 items)', undefined],
  ["{{ 'x' | from_json }}", 'E_TEMPLATE_RUNTIME', 'error while rendering: from_json: Unexpected token', undefined],
];

describe('template errors: codes, golden messages, hints, position', () => {
  it.each(cases)('%s → %s', (tpl, code, message, hint) => {
    const err = errorOf(() => render(tpl, vars, at));
    expect(err.code).toBe(code);
    expect(err.message.startsWith(message) || err.message === message, `${err.message}\n!=\n${message}`).toBe(true);
    expect(err.pos).toEqual(at);
    if (hint !== undefined) expect(err.hint).toBe(hint);
  });

  it('without a position the message quotes the template', () => {
    const err = errorOf(() => render('{{ nope }}', {}));
    expect(err.message).toBe('undefined variable \'nope\' in template "{{ nope }}"');
    expect(err.pos).toBeUndefined();
  });

  it('syntax errors carry an excerpt with a caret under the column', () => {
    const err = errorOf(() => render('{{ a | uppr }}', { a: 1 }, at));
    expect(err.excerpt).toBe('1 | {{ a | uppr }}\n  |        ^');
    expect(err.format()).toContain('playbooks/restart.yml:12:7: error[E_TEMPLATE_FILTER]');
  });

  it('checkTemplateSyntax finds syntax errors without rendering or needing variables', () => {
    expect(() => checkTemplateSyntax({ a: ['{{ fine }}', 'plain'], b: '{% if x %}ok{% endif %}' }, at)).not.toThrow();
    expect(errorOf(() => checkTemplateSyntax({ a: ['{{ broken '] }, at)).code).toBe('E_TEMPLATE_SYNTAX');
  });
});

describe('lazy variables: references between layers, cycles', () => {
  it('a variable may use another defined anywhere in the scope, recursively', () => {
    const scope = { url: 'http://{{ host }}:{{ port }}/', host: '{{ prefix }}-vnc', prefix: 'h1', port: '{{ 5900 + display }}', display: 1 };
    expect(render('{{ url }}', scope)).toBe('http://h1-vnc:5901/');
    expect(render('{{ port }}', scope)).toBe(5901);
    expect(resolveVariable(scope, 'url')).toBe('http://h1-vnc:5901/');
  });

  it('a cycle is an error that names the cycle', () => {
    const err = errorOf(() => render('{{ a }}', { a: '{{ b }}-x', b: '{{ c }}', c: '{{ a }}' }, at));
    expect(err.code).toBe('E_TEMPLATE_CYCLE');
    expect(err.message).toBe('recursive loop in variable definitions: a -> b -> c -> a in playbooks/restart.yml:12:7');
  });

  it('a self-reference is a cycle too', () => {
    expect(errorOf(() => render('{{ a }}', { a: '{{ a }}' })).message).toMatch(/a -> a/);
  });

  it('an undefined variable deep inside another names both', () => {
    const err = errorOf(() => render('{{ a }}', { a: '{{ b }}', b: '{{ c }}' }, at));
    expect(err.message).toBe("undefined variable 'c' (while resolving 'a' -> 'b') in playbooks/restart.yml:12:7");
  });

  it('default() still applies when a variable is defined in terms of an undefined one', () => {
    expect(render("{{ a | default('fallback') }}", { a: '{{ b }}' })).toBe('fallback');
    expect(render('{{ a is defined }}', { a: '{{ b }}' })).toBe(false);
  });

  it('variables are resolved per render: a changed scope gives a new value', () => {
    expect(render('{{ a }}', { a: '{{ b }}', b: 1 })).toBe(1);
    expect(render('{{ a }}', { a: '{{ b }}', b: 2 })).toBe(2);
  });

  it('Object.prototype members are not variables', () => {
    expect(errorOf(() => render('{{ constructor }}', {})).code).toBe('E_TEMPLATE_UNDEFINED');
    expect(errorOf(() => render('{{ toString }}', {})).code).toBe('E_TEMPLATE_UNDEFINED');
    expect(errorOf(() => render("{{ ''.constructor }}", {})).code).toBe('E_TEMPLATE_UNDEFINED');
    expect(errorOf(() => render('{{ users.constructor }}', { users: [] })).code).toBe('E_TEMPLATE_UNDEFINED');
  });
});

describe('errors inside template files point into the file', () => {
  const tpl = '# vnc users\n{% for u in users %}\n:{{ u.display }}={{ u.nmae }}\n{% endfor %}\n';
  const vars = { users: [{ name: 'alice', display: 1 }] };

  it('with opts.file: file:line:col inside the template, the task as the user, excerpt and hint', () => {
    const err = errorOf(() => renderText(tpl, vars, at, { file: 'roles/vnc/templates/vncserver.users.j2' }));
    expect(err.code).toBe('E_TEMPLATE_UNDEFINED');
    expect(err.pos).toEqual({ file: 'roles/vnc/templates/vncserver.users.j2', line: 3, col: 22 });
    expect(err.message).toBe(
      "'u' has no attribute 'nmae' in roles/vnc/templates/vncserver.users.j2:3:22 (template used at playbooks/restart.yml:12:7)",
    );
    expect(err.excerpt).toBe('2 | {% for u in users %}\n3 | :{{ u.display }}={{ u.nmae }}\n  |                      ^');
    expect(err.hint).toBe('it has: name, display');
  });

  it('without opts.file: positioned at the task, the template line in the message', () => {
    const err = errorOf(() => renderText(tpl, vars, at));
    expect(err.pos).toEqual(at);
    expect(err.message).toBe("'u' has no attribute 'nmae' in template line 3 in playbooks/restart.yml:12:7");
  });

  it('syntax errors and conditions in a file are placed the same way', () => {
    const syntax = errorOf(() => renderText('ok\n{{ a | nofilter }}\n', { a: 1 }, at, { file: 't.j2' }));
    expect(syntax.pos).toEqual({ file: 't.j2', line: 2, col: 8 });
    expect(syntax.message).toBe("no filter named 'nofilter' in t.j2:2:8 (template used at playbooks/restart.yml:12:7)");
    const cond = errorOf(() => renderText('ok\n{% if nope %}x{% endif %}\n', {}, at, { file: 't.j2' }));
    expect(cond.pos).toEqual({ file: 't.j2', line: 2, col: 4 });
  });

  it('an error in a variable used by the template is placed where the template uses it', () => {
    const err = errorOf(() => renderText('ok\n{{ lazy }}\n', { lazy: 'x {{ inner_missing }}' }, at, { file: 't.j2' }));
    expect(err.message).toBe("undefined variable 'inner_missing' (while resolving 'lazy') in t.j2:2:4 (template used at playbooks/restart.yml:12:7)");
  });
});

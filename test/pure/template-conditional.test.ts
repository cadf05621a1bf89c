import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/errors.js';
import { checkConditionSyntax, evaluateCondition } from '../../src/playbook/conditional.js';
import { evaluateCondition as fromTemplate, markUnsafe } from '../../src/playbook/template.js';

const vars: Record<string, unknown> = {
  result: markUnsafe({ rc: 1, stdout: 'active', changed: false, failed: true, stdout_lines: ['active'] }),
  ok: markUnsafe({ rc: 0, stdout: '', changed: true, failed: false }),
  flag: true,
  off: false,
  count: 3,
  zero: 0,
  word_false: 'false',
  empty: [],
  item: 'h2',
  groups: { vnc: ['h1', 'h2'], all: ['h1', 'h2', 'h3'] },
  inventory_hostname: 'h1',
  enabled: '{{ count > 2 }}',
};

/** [condition as written in YAML (already parsed), expected] */
const cases: [unknown, boolean][] = [
  [true, true],
  [false, false],
  [null, true],
  ['', true],
  [1, true],
  [0, false],
  ['yes', true],
  ['no', false],
  ['True', true],
  ['false', false],
  ['on', true],
  ['OFF', false],
  ['result.rc != 0', true],
  ['result.rc == 0', false],
  ['ok.rc == 0 and ok.stdout == ""', true],
  ["'active' in result.stdout", true],
  ["result.stdout_lines | length > 0", true],
  ['x is defined', false],
  ['x is not defined', true],
  ['flag is defined and flag', true],
  ['not flag', false],
  ['not off', true],
  ['not empty', true],
  ['empty', false],
  ["item in groups['vnc']", true],
  ["inventory_hostname not in groups['vnc']", false],
  ["'h3' in groups.vnc", false],
  ['result is failed', true],
  ['result is success', false],
  ['ok is changed', true],
  ['ok is not changed', false],
  ['count > 2 and count < 5', true],
  ['count is divisibleby(3)', true],
  ["(x | default(5)) > 4", true],
  ["x | default(false) | bool", false],
  ["word_false | bool", false],
  ['word_false', true],
  ['enabled', true],
  ['"{{ flag }}"', true],
  ['{{ off }}', false],
  ['{{ word_false }}', false],
  ['{{ zero }}', false],
  [['flag', 'count == 3'], true],
  [['flag', 'count == 4'], false],
  [[], true],
  [markUnsafe('false'), false],
];

describe('evaluateCondition', () => {
  it.each(cases)('%j → %s', (cond, expected) => {
    expect(evaluateCondition(cond, vars)).toBe(expected);
  });

  it('is also exported from template.ts (where the runner imports it)', () => {
    expect(fromTemplate).toBe(evaluateCondition);
  });

  it('an undefined variable in a condition is an error naming it and the position', () => {
    const at = { file: 'play.yml', line: 4, col: 13 };
    for (const cond of ['missing', 'not missing', 'missing == 1', 'flag and missing', ['flag', 'missing.rc != 0']]) {
      let err: unknown;
      try {
        evaluateCondition(cond, vars, at);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(cond)).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).message).toBe("undefined variable 'missing' in play.yml:4:13");
      expect((err as TemplateError).pos).toEqual(at);
    }
  });

  it('short-circuits like Python: the right side of a false `and` is not evaluated', () => {
    expect(evaluateCondition('off and missing', vars)).toBe(false);
    expect(evaluateCondition('flag or missing', vars)).toBe(true);
    expect(evaluateCondition('missing is defined and missing.rc == 0', vars)).toBe(false);
  });

  it('legacy templated conditions are rendered, then evaluated as an expression (as ansible-core does)', () => {
    expect(evaluateCondition('{{ count }} == 3', vars)).toBe(true);
    expect(evaluateCondition('{{ count }} == 4', vars)).toBe(false);
    expect(evaluateCondition("'{{ item }}' == 'h2'", vars)).toBe(true);
    expect(evaluateCondition('{{ cond_text }}', { ...vars, cond_text: 'count > 2' })).toBe(true);
  });

  it('host data rendered into a condition is never evaluated as an expression: refused with a clear error', () => {
    const scope = { ...vars, out: markUnsafe("lookup('pipe', 'touch /tmp/vncplay-cond-probe')") };
    for (const cond of ['{{ out }}', "{{ result.stdout }} == 'active'"]) {
      let err: unknown;
      try {
        evaluateCondition(cond, scope, { file: 'p.yml', line: 3, col: 5 });
      } catch (e) {
        err = e;
      }
      expect(err, cond).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).code).toBe('E_TEMPLATE_UNSAFE_CONDITION');
      expect((err as TemplateError).hint).toMatch(/^write the condition without \{\{ \}\}, e.g. when: /);
    }
    // Host data that renders to a native value (bool, number) is just data.
    expect(evaluateCondition('{{ result.failed }}', scope)).toBe(true);
    expect(evaluateCondition('{{ result.rc == 0 }}', scope)).toBe(false);
  });
});

describe('checkConditionSyntax (load time, no variables needed)', () => {
  it.each([['result.rc != 0'], ['x is defined and x'], [['a', 'b | bool']], ['yes'], [true], ['{{ a }} == 1'], ["item in groups['vnc']"]])('%j is fine', (cond) => {
    expect(() => checkConditionSyntax(cond)).not.toThrow();
  });

  it.each([
    ['result.rc !=', 'E_TEMPLATE_SYNTAX'],
    ['x is definde', 'E_TEMPLATE_FILTER'],
    ['x | boool', 'E_TEMPLATE_FILTER'],
    ["groups['vnc'", 'E_TEMPLATE_SYNTAX'],
    [['ok', 'x |'], 'E_TEMPLATE_SYNTAX'],
  ] as [unknown, string][])('%j → %s', (cond, code) => {
    let err: unknown;
    try {
      checkConditionSyntax(cond, { file: 'p.yml', line: 2, col: 11 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe(code);
    expect((err as TemplateError).pos).toEqual({ file: 'p.yml', line: 2, col: 11 });
  });
});

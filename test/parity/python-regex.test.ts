// search_regex is Python's `re` (Ansible compiles it with re.MULTILINE); vncplay matches it on the controller as a
// translated JavaScript RegExp. Each row is matched by both, and Python's answer is the expected one.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonRegex } from '../../src/modules/python-regex.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { requireProgram } from '../support/tools.js';

/** [pattern, text]: where Python and a naive JavaScript RegExp disagree, and the common cases. */
const ROWS: [string, string][] = [
  ['^RFB 003\\.00[38]', 'RFB 003.008\n'],
  ['^RFB (\\d+)\\.(?P<minor>\\d+)', 'RFB 003.008\n'],
  ['ok$', '220 ok\r\n'], // JavaScript's `m` ends a line at \r too; Python's only at \n
  ['ok$', '220 ok\nnext'],
  ['^next', '220 ok\r\nnext'],
  ['^x', 'a\rx'],
  ['a.b', 'a\nb'],
  ['a.b', 'a\rb'],
  ['(?s)a.b', 'a\nb'],
  ['x\\Z', 'x\n'],
  ['x\\Z', 'ax'],
  ['x$', 'x\n'],
  ['\\Ab', 'a\nb'],
  ['\\Aa', 'a\nb'],
  ['[]a]+', 'x]a]'],
  ['[^]a]+', ']]bc'],
  ['(?P<v>\\d+)-(?P=v)', '12-12 3-4'],
  ['a{,2}b', 'aaab'],
  ['(?i)rfb (\\d+)', 'RFB 3'],
  ['a(?#a comment)b', 'ab'],
  ['(?:x|y)+(z)?', 'xyx'],
  ['(?<=port=)\\d+', 'port=5901'],
  ['\\bready\\b', 'already ready'],
];

describe('Python regex on the controller', () => {
  it('matches what Python matches, with the same groups', () => {
    const script = `import json, re, sys
out = []
for p, t in json.load(sys.stdin):
    m = re.compile(p, re.M).search(t)
    out.append(None if m is None else [m.group(0), list(m.groups()), m.groupdict()])
print(json.dumps(out))`;
    const py = spawnSync(requireProgram('python3'), ['-c', script], { input: JSON.stringify(ROWS), encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const expected = JSON.parse(py.stdout) as unknown[];
    const got = ROWS.map(([p, t]) => {
      const m = pythonRegex(p).exec(t);
      return m === null ? null : [m[0], m.slice(1).map((g) => g ?? null), { ...(m.groups ?? {}) }];
    });
    expect(got).toEqual(expected);
  });

  it.each([
    ['(?x) a b', /verbose flag \(\?x\)/],
    ['a++', /possessive quantifier/],
    ['a{2}+', /possessive quantifier/],
    ['a(?i)b', /flag group not at the start/],
    ['(?i:a)', /flag group/],
    ['(?>a)', /atomic group/],
    ['(a)(?(1)b|c)', /conditional group/],
    ['(?<name>a)', /written \(\?P<name>…\) in Python/],
    ['(unclosed', /Unterminated group/],
    ['[abc', /unterminated character set/],
    ['abc\\', /cannot end with a backslash/],
  ])('refuses %s clearly', (pattern, message) => {
    expect(() => pythonRegex(pattern)).toThrow(message);
  });

  it('a search_regex that cannot be matched is an argument error at load time, on search_regex', () => {
    expect(checkArgs(waitFor, { port: 5901, search_regex: '(?x) RFB' })).toMatch(/search_regex does not compile: the verbose flag/);
    expect(checkArgs(waitFor, { port: 5901, search_regex: '^RFB (?P<v>\\d+)' })).toBeUndefined();
    // A template is checked once rendered, not before.
    expect(checkArgs(waitFor, { port: 5901, search_regex: '{{ banner }}' })).toBeUndefined();
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fnmatch } from '../../src/playbook/fnmatch.js';
import { requireProgram } from '../support/tools.js';

/** The one fnmatch (host patterns, apt versions, fileglob) against python3's own fnmatch.fnmatchcase. */

const PATTERNS = [
  '*', '', '?', 'web*', 'web?', '*.yml', 'h[12]', 'h[!12]', 'h[1-3]', 'h[3-1]', 'h[!3-1]', '[]]', '[]a]', '[!]]', '[!]a]',
  '[a-]', '[-a]', '[a-c-e]', '[!a-c]x', '[', 'a[', '[a', 'a]', '[!]', '[\\]', '[\\d]', 'a\\*', '[^a]', '[a^]', '[[]',
  '1.0*', '1.0-?', '2:1.*+deb*', '**', 'a**b', '*a*b*', '.*', '*.*', '(x)', '$x', 'a|b', 'a{1}', 'é?', '?😀', '[😀]',
  'line\n*', '*/x', '[a-z]*[0-9]',
];
const TEXTS = [
  '', 'web', 'web1', 'web12', 'a.yml', '.yml', 'h1', 'h2', 'h3', 'h4', ']', 'a', '!', '-', 'b', 'd', 'e', 'bx', 'dx',
  '[', 'a[', '[a', 'a]', '\\', 'd', 'a*', 'a\\*', '^', 'a^', '1.0', '1.0.2', '1.0-1', '2:1.2+deb12u1', 'ab', 'axb',
  'xaybz', '.hidden', 'x.y', '(x)', '$x', 'a|b', 'a{1}', 'éa', 'x😀', '😀', 'line\nmore', 'sub/x', 'abc9',
];

describe('fnmatch', () => {
  it('matches what python3 fnmatch.fnmatchcase matches, on every pattern × text of the table', () => {
    const python = execFileSync(
      requireProgram('python3'),
      ['-c', 'import fnmatch, json, sys\np, t = json.load(sys.stdin)\nprint(json.dumps([[fnmatch.fnmatchcase(x, q) for x in t] for q in p]))'],
      { input: JSON.stringify([PATTERNS, TEXTS]) },
    );
    const theirs = JSON.parse(python.toString()) as boolean[][];
    const differences = PATTERNS.flatMap((p, i) =>
      TEXTS.flatMap((t, k) => (fnmatch(t, p) === theirs[i]![k] ? [] : [`${JSON.stringify(p)} on ${JSON.stringify(t)}: python ${theirs[i]![k]}`])),
    );
    expect(differences).toEqual([]);
    // The table is not vacuous: plenty of both answers.
    const yes = theirs.flat().filter(Boolean).length;
    expect(yes).toBeGreaterThan(60);
    expect(theirs.flat().length - yes).toBeGreaterThan(1000);
  });
});

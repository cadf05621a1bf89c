import { describe, expect, it } from 'vitest';
import { diffLines, renderDiff, renderDiffs, splitLinesKeepEnds, unifiedDiff } from '../../src/output/diff.js';

describe('unified diff (golden)', () => {
  it('one changed line with 3 lines of context, Ansible headers', () => {
    const before = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n';
    const after = 'l1\nl2\nl3\nl4\nL5\nl6\nl7\nl8\n';
    expect(renderDiff({ path: '/etc/x', before, after, beforeHeader: '/etc/x', afterHeader: '/etc/x' })).toBe(
      ['--- before: /etc/x', '+++ after: /etc/x', '@@ -2,7 +2,7 @@', ' l2', ' l3', ' l4', '-l5', '+L5', ' l6', ' l7', ' l8', ''].join('\n'),
    );
  });

  it('new file: empty before', () => {
    expect(unifiedDiff('', 'a\nb\n', { fromFile: 'before: /f', toFile: 'after: /f' })).toBe('--- before: /f\n+++ after: /f\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  it('single-line ranges are written without a length, as difflib does', () => {
    expect(unifiedDiff('a\n', 'b\n')).toBe('--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n');
  });

  it('far-apart changes make two hunks', () => {
    const a = Array.from({ length: 20 }, (_, i) => `${i}\n`);
    const b = [...a];
    b[1] = 'one\n';
    b[17] = 'seventeen\n';
    const out = unifiedDiff(a.join(''), b.join(''));
    expect(out.match(/^@@/gm)).toHaveLength(2);
    expect(out).toContain('@@ -1,5 +1,5 @@\n 0\n-1\n+one\n 2\n 3\n 4\n');
    expect(out).toContain('@@ -15,6 +15,6 @@\n 14\n 15\n 16\n-17\n+seventeen\n 18\n 19\n');
  });

  it('marks a missing final newline', () => {
    expect(unifiedDiff('a\nb', 'a\nb\n')).toBe('--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  });

  it('equal texts give no diff', () => {
    expect(renderDiff({ before: 'x\n', after: 'x\n' })).toBe('');
  });

  it('dict before/after become sorted 4-space JSON', () => {
    expect(renderDiff({ path: '/d', before: { state: 'absent', path: '/d' }, after: { path: '/d', state: 'directory' } })).toBe(
      ['--- before: /d', '+++ after: /d', '@@ -1,4 +1,4 @@', ' {', '     "path": "/d",', '-    "state": "absent"', '+    "state": "directory"', ' }', ''].join('\n'),
    );
  });

  it('skipped notes print as Ansible prints them, without the blank line of a text diff', () => {
    expect(renderDiffs([{ path: '/b', skipped: ['diff skipped: destination file appears to be binary'] }, { before: 'a\n', after: 'b\n' }])).toBe(
      'diff skipped: destination file appears to be binary\n--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n\n',
    );
  });

  it('renderDiffs separates entries with a blank line and skips empty ones', () => {
    const out = renderDiffs([{ before: 'a\n', after: 'b\n' }, { before: 'same\n', after: 'same\n' }, { before: '', after: 'c\n' }]);
    expect(out.split('--- before').length - 1).toBe(2);
    expect(out.endsWith('+c\n\n')).toBe(true);
  });
});

describe('Myers line diff', () => {
  it('produces a minimal edit script that rebuilds both sides', () => {
    const cases: Array<[string, string]> = [
      ['abcabba', 'cbabac'],
      ['', 'xyz'],
      ['xyz', ''],
      ['aaaa', 'aaab'],
      ['the quick brown fox', 'the slow brown dog'],
    ];
    for (const [x, y] of cases) {
      const a = [...x];
      const b = [...y];
      const ops = diffLines(a, b);
      expect(ops.filter((o) => o.kind !== '+').map((o) => o.line)).toEqual(a);
      expect(ops.filter((o) => o.kind !== '-').map((o) => o.line)).toEqual(b);
    }
    // abcabba → cbabac: the classic Myers example has D = 5.
    expect(diffLines([...'abcabba'], [...'cbabac']).filter((o) => o.kind !== ' ')).toHaveLength(5);
  });
  it('splits lines keeping their ends', () => {
    expect(splitLinesKeepEnds('a\nb')).toEqual(['a\n', 'b']);
    expect(splitLinesKeepEnds('')).toEqual([]);
  });
});

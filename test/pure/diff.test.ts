import { describe, expect, it } from 'vitest';
import { quadraticDiffLines } from '../../bench/diff-quadratic.js';
import { DIFF_LIMITS, diffLines, renderDiff, renderDiffs, splitLinesKeepEnds, unifiedDiff } from '../../src/output/diff.js';

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

/** A small deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function rebuilds(a: readonly string[], b: readonly string[], ops: ReturnType<typeof diffLines>): void {
  expect(ops.filter((o) => o.kind !== '+').map((o) => o.line)).toEqual(a);
  expect(ops.filter((o) => o.kind !== '-').map((o) => o.line)).toEqual(b);
}

describe('bounded-memory line diff', () => {
  // Small alphabets make many equally short scripts: the choice among them must stay the one made before.
  it('gives the same edit script as the full-memory Myers search, on 1500 random pairs up to ~400 edits apart', () => {
    const next = random(13);
    for (let n = 0; n < 1500; n++) {
      const alphabet = 2 + Math.floor(next() * 6);
      const line = (): string => `l${Math.floor(next() * alphabet)}\n`;
      const sizeA = Math.floor(next() * (n % 15 === 0 ? 400 : 40));
      const a = Array.from({ length: sizeA }, line);
      // Half of the pairs are edits of a (scattered changes), half unrelated texts.
      const b = next() < 0.5 ? a.flatMap((l) => (next() < 0.15 ? (next() < 0.5 ? [] : [line(), line()]) : [l])) : Array.from({ length: Math.floor(next() * 300) }, line);
      expect(diffLines(a, b), `pair ${n}`).toEqual(quadraticDiffLines(a, b));
    }
  });

  it('diffs 8000 changed lines in bounded memory and time, correctly though not minimally (the edit limit)', () => {
    const a = Array.from({ length: 8000 }, (_, i) => `key_${i} = value_${i}\n`);
    const b = Array.from({ length: 8000 }, (_, i) => `key_${i} = other_${i}\n`);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const ops = diffLines(a, b);
    const seconds = (performance.now() - started) / 1000;
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    rebuilds(a, b, ops);
    // The full-memory search took 9 s and 2 GB for this (issue 13, M4).
    expect(grownMb).toBeLessThan(200);
    // Under 1 s on an idle core; the bound leaves room for a machine shared by several test runs.
    expect(seconds).toBeLessThan(10);
    expect(ops.filter((o) => o.kind !== ' ')).toHaveLength(16000);
  }, 30_000);

  it('past the edit limit still rebuilds both sides and keeps the unchanged lines it can find', () => {
    const next = random(7);
    const a = Array.from({ length: 12000 }, (_, i) => `line ${i}\n`);
    // Every third line changed, some removed, some added: far more edits than one search explores.
    const b = a.flatMap((l, i) => (i % 3 === 0 ? [`changed ${i}\n`] : next() < 0.1 ? [] : next() < 0.1 ? [l, `new ${i}\n`] : [l]));
    const ops = diffLines(a, b);
    rebuilds(a, b, ops);
    const edits = ops.filter((o) => o.kind !== ' ').length;
    expect(edits).toBeGreaterThan(DIFF_LIMITS.editsPerSearch);
    // Far from removing and adding everything (24 000 edits): the unchanged lines are kept.
    expect(edits).toBeLessThan(12000);
  }, 30_000);

  it('with small limits, every script still rebuilds both sides (searches in steps, then the rest whole)', () => {
    const next = random(21);
    for (let n = 0; n < 500; n++) {
      // 40 kinds of line: many are found in one text only, and are set aside before the search.
      const kindsOfLine = n % 2 ? 4 : 40;
      const line = (): string => `l${Math.floor(next() * kindsOfLine)}\n`;
      const a = Array.from({ length: Math.floor(next() * 60) }, line);
      const b = next() < 0.5 ? a.flatMap((l) => (next() < 0.3 ? [line()] : [l])) : Array.from({ length: Math.floor(next() * 60) }, line);
      rebuilds(a, b, diffLines(a, b, { editsPerSearch: 1 + (n % 7), steps: n % 3 === 0 ? 40 : 1e9 }));
    }
  });

  it('past the work budget, the rest of the file is removed and added whole', () => {
    // The same lines in the opposite order: every line is in both texts, none is set aside.
    const a = Array.from({ length: 100 }, (_, i) => `a${i}\n`);
    const b = [...a].reverse();
    const ops = diffLines(a, b, { editsPerSearch: 10, steps: 30 });
    rebuilds(a, b, ops);
    // The first search (10 edits) spends the budget; from where it stopped, all of a's rest, then all of b's.
    expect(ops.map((o) => o.kind).join('')).toMatch(/^[ +-]{1,20}-{80,}\+{80,}$/);
    expect(diffLines(a, b).filter((o) => o.kind === ' ')).toHaveLength(1);
  });
});

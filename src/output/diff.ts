import type { DiffEntry } from '../modules/types.js';

/**
 * Unified diffs for --diff, shaped like Ansible's (difflib.unified_diff with `--- before: PATH` /
 * `+++ after: PATH` headers, 3 lines of context). The line diff is our own Myers O(ND) implementation, so
 * there is no dependency; hunks may align differently from difflib's on ambiguous edits, never wrongly. Its memory
 * and work are bounded per file (DIFF_LIMITS): past them the diff is still correct, not always the shortest.
 */

export interface UnifiedDiffOptions {
  fromFile?: string;
  toFile?: string;
  /** Lines of context around each change (Ansible's DIFF_CONTEXT, 3). */
  context?: number;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

export interface DiffLimits {
  /**
   * Most edits one search explores (its work grows with their square; it keeps 2 × 64 rows of as many numbers, 2 MB
   * at 4096). A file that needs more is diffed in steps: the shortest path to the furthest point the search
   * reached, then a new search from there, as GNU diff settles for a less minimal diff when the optimal one is too
   * expensive.
   */
  editsPerSearch: number;
  /** Comparison steps all the searches of one file may take; past it, the rest is shown removed and added whole. */
  steps: number;
}

export const DIFF_LIMITS: DiffLimits = { editsPerSearch: 4096, steps: 400_000_000 };
/** Layers of the search between two saved rows: the rows in between are computed again while walking back. */
const ROWS_PER_SEGMENT = 64;

/** Split keeping line ends, as Python's str.splitlines(True) does for '\n' text. */
export function splitLinesKeepEnds(text: string): string[] {
  if (text === '') return [];
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/**
 * The shortest edit script from `a` to `b` (Myers 1986), with common prefix/suffix peeled off first; past the
 * limits, a correct script that may not be the shortest.
 */
export function diffLines(a: readonly string[], b: readonly string[], limits: DiffLimits = DIFF_LIMITS): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = a.slice(0, pre).map((line) => ({ kind: ' ' as const, line }));
  const [idsA, idsB] = lineIds(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf));
  let x = pre;
  let y = pre;
  for (const kind of editKinds(idsA, idsB, limits, { steps: limits.steps })) {
    if (kind === ADDED) {
      ops.push({ kind: '+', line: b[y++]! });
      continue;
    }
    ops.push({ kind: kind === SAME ? ' ' : '-', line: a[x++]! });
    if (kind === SAME) y++;
  }
  for (const line of a.slice(a.length - suf)) ops.push({ kind: ' ', line });
  return ops;
}

/** Each distinct line as a small integer, so the search compares numbers and keeps no strings. */
function lineIds(a: readonly string[], b: readonly string[]): [Int32Array, Int32Array] {
  const ids = new Map<string, number>();
  const idOf = (line: string): number => {
    let id = ids.get(line);
    if (id === undefined) ids.set(line, (id = ids.size));
    return id;
  };
  return [Int32Array.from(a, idOf), Int32Array.from(b, idOf)];
}

const SAME = 0;
const REMOVED = 1;
const ADDED = 2;
type EditKind = typeof SAME | typeof REMOVED | typeof ADDED;

/**
 * A line found in only one of the texts is an edit in any script, so when there are more of them than one search
 * explores, the shortest script is out of reach anyway: they are set aside (as GNU diff discards them) and the
 * search runs on the lines both texts have, which it may then still do exactly.
 */
function editKinds(a: Int32Array, b: Int32Array, limits: DiffLimits, budget: { steps: number }): EditKind[] {
  const inB = new Set(b);
  const inA = new Set(a);
  const keptA = a.filter((id) => inB.has(id));
  const keptB = b.filter((id) => inA.has(id));
  const unmatched = a.length - keptA.length + (b.length - keptB.length);
  if (unmatched <= limits.editsPerSearch) return inSteps(a, b, limits, budget);
  return withUnmatched(a, b, inSteps(keptA, keptB, limits, budget), inB, inA);
}

/**
 * The script of the kept lines, with the set-aside ones put back where they stand: each removed (added) one just
 * before the next kept line of its text that the script reaches, removals first.
 */
function withUnmatched(a: Int32Array, b: Int32Array, keptKinds: readonly EditKind[], inB: Set<number>, inA: Set<number>): EditKind[] {
  const kinds: EditKind[] = [];
  let x = 0;
  let y = 0;
  const unmatchedA = (): void => {
    for (; x < a.length && !inB.has(a[x]!); x++) kinds.push(REMOVED);
  };
  const unmatchedB = (): void => {
    for (; y < b.length && !inA.has(b[y]!); y++) kinds.push(ADDED);
  };
  for (const kind of keptKinds) {
    if (kind !== ADDED) unmatchedA();
    if (kind !== REMOVED) unmatchedB();
    kinds.push(kind);
    if (kind !== ADDED) x++;
    if (kind !== REMOVED) y++;
  }
  unmatchedA();
  unmatchedB();
  return kinds;
}

/** Searches from where the last one stopped until both ends are reached; past the work budget, the rest whole. */
function inSteps(a: Int32Array, b: Int32Array, limits: DiffLimits, budget: { steps: number }): EditKind[] {
  const kinds: EditKind[] = [];
  let x = 0;
  let y = 0;
  while (x < a.length || y < b.length) {
    let part = budget.steps > 0 ? searchFrom(a.subarray(x), b.subarray(y), limits.editsPerSearch, budget) : [];
    // A search that found no way forward inside both texts gives up too, rather than loop.
    if (part.length === 0) part = [...new Array<EditKind>(a.length - x).fill(REMOVED), ...new Array<EditKind>(b.length - y).fill(ADDED)];
    for (const kind of part) {
      kinds.push(kind);
      if (kind !== ADDED) x++;
      if (kind !== REMOVED) y++;
    }
  }
  return kinds;
}

/**
 * Myers' greedy forward search: row d holds, for each diagonal k = x - y in -d, -d+2 … d, the furthest x a path
 * with d edits reaches on it. Only every ROWS_PER_SEGMENT-th row is kept; walking the path back recomputes the
 * rows of one segment at a time from its first row. The choices (and so the script) are those of the textbook
 * version that keeps every row: rows may reach past the end of a or b there too, and are computed the same way.
 */
function searchFrom(a: Int32Array, b: Int32Array, editLimit: number, budget: { steps: number }): EditKind[] {
  const n = a.length;
  const m = b.length;
  const saved: Int32Array[] = [];
  const width = Math.min(editLimit, n + m) + 1;
  // The last row and the one being computed; only the saved ones are kept.
  let prev = new Int32Array(width);
  let row = new Int32Array(width);
  let end: { d: number; x: number; y: number } | undefined;
  for (let d = 0; d <= n + m && d <= editLimit; d++) {
    const done = nextRow(a, b, prev, d, row, budget);
    if (d % ROWS_PER_SEGMENT === 0) saved.push(row.slice(0, d + 1));
    if (done) {
      end = { d, x: n, y: m };
      break;
    }
    [prev, row] = [row, prev];
  }
  end ??= furthestPoint(prev, editLimit, n, m);
  return walkBack(a, b, saved, end, budget);
}

/**
 * Row d into `row` from row d-1 in `prev` (unread for d = 0); true when a path reached the end of both (the row
 * is then partial).
 */
function nextRow(a: Int32Array, b: Int32Array, prev: Int32Array, d: number, row: Int32Array, budget: { steps: number }): boolean {
  const n = a.length;
  const m = b.length;
  let steps = d + 1;
  for (let i = 0; i <= d; i++) {
    // Diagonal k = 2i - d; prev[i] is diagonal k+1 (a step down: an added line), prev[i-1] is k-1 (a removed one).
    let x: number;
    if (d === 0) x = 0;
    else if (i === 0 || (i !== d && prev[i - 1]! < prev[i]!)) x = prev[i]!;
    else x = prev[i - 1]! + 1;
    let y = x - (2 * i - d);
    const start = x;
    while (x < n && y < m && a[x] === b[y]) {
      x++;
      y++;
    }
    steps += x - start;
    row[i] = x;
    if (x >= n && y >= m) {
      budget.steps -= steps;
      return true;
    }
  }
  budget.steps -= steps;
  return false;
}

/**
 * Where a search that hit its edit limit goes on from: the point of its last row furthest from the start
 * (largest x + y) inside both texts, the one nearest the diagonal of the end among equals.
 */
function furthestPoint(row: Int32Array, d: number, n: number, m: number): { d: number; x: number; y: number } {
  let best = { d, x: 0, y: 0 };
  let bestScore = -1;
  for (let i = 0; i <= d; i++) {
    const k = 2 * i - d;
    const x = row[i]!;
    const y = x - k;
    if (x > n || y > m || y < 0) continue;
    const better = x + y > bestScore || (x + y === bestScore && Math.abs(k - (n - m)) < Math.abs(best.x - best.y - (n - m)));
    if (better) {
      best = { d, x, y };
      bestScore = x + y;
    }
  }
  return best;
}

/**
 * The path back from `end` to (0, 0), as edit kinds from the start. Row d-1 decides which diagonal the path came
 * from at edit d: the rows of each segment are recomputed from its saved first row, last segment first.
 */
function walkBack(a: Int32Array, b: Int32Array, saved: readonly Int32Array[], end: { d: number; x: number; y: number }, budget: { steps: number }): EditKind[] {
  const kinds: EditKind[] = [];
  let { x, y } = end;
  let rows: Int32Array[] = [];
  let rowsFrom = -1;
  // The rows of one segment at a time, in the same buffers.
  const buffers = Array.from({ length: Math.min(ROWS_PER_SEGMENT, end.d + 1) }, () => new Int32Array(end.d + 1));
  for (let d = end.d; d >= 0 && (x > 0 || y > 0); d--) {
    let prevX = 0;
    let prevY = 0;
    if (d > 0) {
      const want = d - 1;
      const segment = Math.floor(want / ROWS_PER_SEGMENT) * ROWS_PER_SEGMENT;
      if (segment !== rowsFrom) {
        rows = segmentRows(a, b, saved[segment / ROWS_PER_SEGMENT]!, segment, Math.min(segment + ROWS_PER_SEGMENT - 1, want), buffers, budget);
        rowsFrom = segment;
      }
      const prev = rows[want - segment]!;
      const k = x - y;
      // Indices in row d-1 of diagonals k+1 and k-1.
      const up = (k + d) / 2;
      const prevK = k === -d || (k !== d && prev[up - 1]! < prev[up]!) ? k + 1 : k - 1;
      prevX = prev[prevK === k + 1 ? up : up - 1]!;
      prevY = prevX - prevK;
    }
    while (x > prevX && y > prevY) {
      kinds.push(SAME);
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) kinds.push(ADDED);
      else kinds.push(REMOVED);
      x = prevX;
      y = prevY;
    }
  }
  return kinds.reverse();
}

/** Rows from..to of the search, row `from` being `first`, the others computed into `buffers`. */
function segmentRows(a: Int32Array, b: Int32Array, first: Int32Array, from: number, to: number, buffers: Int32Array[], budget: { steps: number }): Int32Array[] {
  const rows = [first];
  for (let d = from + 1; d <= to; d++) {
    const row = buffers[d - from]!;
    nextRow(a, b, rows[rows.length - 1]!, d, row, budget);
    rows.push(row);
  }
  return rows;
}

/** difflib's range format: `start,len`, `start` when len is 1, `start-1,0` when empty. */
function formatRange(start: number, length: number): string {
  if (length === 1) return String(start + 1);
  if (length === 0) return `${start},0`;
  return `${start + 1},${length}`;
}

function emitLine(prefix: string, line: string): string {
  return line.endsWith('\n') ? `${prefix}${line}` : `${prefix}${line}\n\\ No newline at end of file\n`;
}

/** A unified diff of two texts; '' when they are equal. */
export function unifiedDiff(before: string, after: string, opts: UnifiedDiffOptions = {}): string {
  if (before === after) return '';
  const ctx = opts.context ?? 3;
  const ops = diffLines(splitLinesKeepEnds(before), splitLinesKeepEnds(after));
  const changed = ops.map((o, i) => (o.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  // Group changes whose gap of unchanged lines is at most 2*context into one hunk.
  const groups: Array<[number, number]> = [];
  let gs = changed[0]!;
  let ge = changed[0]!;
  for (const i of changed.slice(1)) {
    if (i - ge - 1 > 2 * ctx) {
      groups.push([gs, ge]);
      gs = i;
    }
    ge = i;
  }
  groups.push([gs, ge]);
  // Line numbers before each op, for hunk headers.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const o of ops) {
    aAt.push(ai);
    bAt.push(bi);
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  let out = `--- ${opts.fromFile ?? 'before'}\n+++ ${opts.toFile ?? 'after'}\n`;
  for (const [s, e] of groups) {
    const from = Math.max(0, s - ctx);
    const to = Math.min(ops.length - 1, e + ctx);
    const slice = ops.slice(from, to + 1);
    const aLen = slice.filter((o) => o.kind !== '+').length;
    const bLen = slice.filter((o) => o.kind !== '-').length;
    out += `@@ -${formatRange(aAt[from]!, aLen)} +${formatRange(bAt[from]!, bLen)} @@\n`;
    for (const o of slice) out += emitLine(o.kind, o.line);
  }
  return out;
}

/** Ansible serialises dict before/after as sorted, 4-space-indented JSON before diffing. */
export function serializeDiffValue(v: string | Record<string, unknown> | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return `${JSON.stringify(sortKeys(v), null, 4)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Render one DiffEntry as Ansible's diff callback does; '' when before and after are the same. */
export function renderDiff(entry: DiffEntry, context = 3): string {
  const notes = (entry.skipped ?? []).map((s) => `${s}\n`).join('');
  if (entry.before === undefined && entry.after === undefined) return notes;
  return notes + renderBeforeAfter(entry, context);
}

function renderBeforeAfter(entry: DiffEntry, context: number): string {
  const before = serializeDiffValue(entry.before);
  const after = serializeDiffValue(entry.after);
  const bh = entry.beforeHeader ?? entry.path;
  const ah = entry.afterHeader ?? entry.path;
  return unifiedDiff(before, after, {
    fromFile: bh ? `before: ${bh}` : 'before',
    toFile: ah ? `after: ${ah}` : 'after',
    context,
  });
}

/** All of a task's diffs, in order, as Ansible prints them: notes, then each text diff followed by a blank line. */
export function renderDiffs(entries: readonly DiffEntry[], context = 3): string {
  return entries
    .map((e) => {
      const notes = (e.skipped ?? []).map((s) => `${s}\n`).join('');
      const text = e.before === undefined && e.after === undefined ? '' : renderBeforeAfter(e, context);
      return notes + (text ? `${text}\n` : '');
    })
    .join('');
}

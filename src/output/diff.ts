import type { DiffEntry } from '../modules/types.js';

/**
 * Unified diffs for --diff, shaped like Ansible's (difflib.unified_diff with `--- before: PATH` /
 * `+++ after: PATH` headers, 3 lines of context). The line diff is our own Myers O(ND) implementation, so
 * there is no dependency; hunks may align differently from difflib's on ambiguous edits, never wrongly.
 */

export interface UnifiedDiffOptions {
  fromFile?: string;
  toFile?: string;
  /** Lines of context around each change (Ansible's DIFF_CONTEXT, 3). */
  context?: number;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

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

/** The shortest edit script from `a` to `b` (Myers 1986), with common prefix/suffix peeled off first. */
export function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const midA = a.slice(pre, a.length - suf);
  const midB = b.slice(pre, b.length - suf);
  return [
    ...a.slice(0, pre).map((line) => ({ kind: ' ' as const, line })),
    ...myers(midA, midB),
    ...a.slice(a.length - suf).map((line) => ({ kind: ' ' as const, line })),
  ];
}

function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!;
      else x = v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace backwards to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!)) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1]! });
      else ops.push({ kind: '-', line: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
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

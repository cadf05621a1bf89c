import { nearest } from '../errors.js';

/**
 * `nearest` from errors.ts, plus the typo it misses: two neighbouring letters swapped (`pign` → `ping`,
 * `stauts` → `status`), which plain edit distance counts as two changes.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const near = nearest(word, list);
  if (near !== undefined) return near;
  const w = word.toLowerCase();
  return list.find((c) => isOneTransposition(w, c.toLowerCase()));
}

function isOneTransposition(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
}

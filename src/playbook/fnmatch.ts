/**
 * Python's fnmatch (fnmatch.translate of Python 3.11, case-sensitive as on Linux): `*`, `?`, `[…]`, `[!…]`, the
 * whole text must match. One implementation for every place Ansible uses it: host patterns (`web*`), apt's
 * `name=1.0*` versions and the fileglob lookup's file names. Tested against python3's fnmatch in
 * test/parity/fnmatch.test.ts.
 */

/** The RegExp that matches exactly the texts `pattern` matches under Python's fnmatch.fnmatchcase. */
export function fnmatchRegExp(pattern: string): RegExp {
  // Python indexes code points: so does this (Array.from), and the `u` flag makes `?` one code point too.
  const pat = Array.from(pattern);
  const n = pat.length;
  let re = '';
  let i = 0;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (pat[i - 2] !== '*') re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) re += '\\[';
      else {
        re += bracketClass(pat.slice(i, j));
        i = j + 1;
      }
    } else re += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'su');
}

export function fnmatch(text: string, pattern: string): boolean {
  return fnmatchRegExp(pattern).test(text);
}

/** A `[…]` set's inside (between the brackets) as a JavaScript character class, by Python's rules for ranges. */
function bracketClass(inside: string[]): string {
  const negated = inside[0] === '!';
  const body = negated ? inside.slice(1) : inside;
  // Split at the hyphens that make ranges (the first character, even a hyphen, is never one), as Python does.
  const chunks: string[][] = [];
  let start = 0;
  for (let k = 1; k < body.length; k++) {
    if (body[k] !== '-') continue;
    chunks.push(body.slice(start, k));
    start = k + 1;
    // The range's last character, and a hyphen right after it, are not range hyphens.
    k += 2;
  }
  const last = body.slice(start);
  if (last.length || chunks.length === 0) chunks.push(last);
  else chunks[chunks.length - 1]!.push('-');
  // A reversed range (z-a) is empty: Python drops it, joining its ends' neighbours.
  for (let k = chunks.length - 1; k > 0; k--) {
    const before = chunks[k - 1]!;
    const after = chunks[k]!;
    const from = before.at(-1);
    const to = after[0];
    if (from !== undefined && to !== undefined && from.codePointAt(0)! > to.codePointAt(0)!) {
      chunks[k - 1] = [...before.slice(0, -1), ...after.slice(1)];
      chunks.splice(k, 1);
    }
  }
  const escaped = chunks.map((chunk) => chunk.map((ch) => ch.replace(/[\\\]\[^-]/g, '\\$&')).join('')).join('-');
  if (escaped === '') return negated ? '.' : '(?!)';
  return negated ? `[^${escaped}]` : `[${escaped}]`;
}

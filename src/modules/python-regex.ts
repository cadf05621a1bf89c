/**
 * Python `re` patterns (as Ansible compiles search_regex: re.MULTILINE, on bytes) run as JavaScript RegExps on the
 * controller. Where the two dialects read the same text differently, the pattern is translated so it means what it
 * means in Python; what JavaScript cannot express is refused with the construct named.
 *
 * Translated: `(?P<name>…)` → `(?<name>…)`, `(?P=name)` → `\k<name>`, `(?#comment)` dropped, `\A` and `\Z` (start
 * and very end of the text), `^` and `$` (Python's MULTILINE: at `\n` only; JavaScript's `m` also breaks lines at
 * `\r`, U+2028 and U+2029), `.` (anything but `\n`; with `(?s)` anything), `{,n}` → `{0,n}`, a `]` first in a
 * class (a literal in Python, the end of an empty class in JavaScript), and leading global flags `(?i)`, `(?s)`,
 * `(?m)` (always on), `(?a)`/`(?L)`/`(?u)` (ignored: Ansible's pattern is bytes, so `\d`, `\w`, `\b` are ASCII, as
 * they are in JavaScript).
 * Refused: `(?x)` verbose patterns, flags anywhere but the start or scoped to a group (`(?i:…)`), conditionals
 * `(?(1)…)`, atomic groups `(?>…)`, possessive quantifiers (`a*+`), and `(?<name>…)` (not Python's spelling).
 */

export class PythonRegexError extends Error {}

const refuse = (what: string, at: number): PythonRegexError =>
  new PythonRegexError(`${what} (at character ${at + 1}) has no JavaScript equivalent; vncplay matches search_regex on the controller`);

/** The JavaScript RegExp that matches what Python's re.compile(src, re.MULTILINE) matches. */
export function pythonRegex(src: string): RegExp {
  let i = 0;
  let ignoreCase = false;
  let dotAll = false;
  const lead = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (lead) {
    const flags = lead[1]!;
    if (flags.includes('x')) throw refuse('the verbose flag (?x)', 0);
    ignoreCase = flags.includes('i');
    dotAll = flags.includes('s');
    i = lead[0].length;
  }
  let out = '';
  /** Whether the last thing written can take a quantifier's `+` as "possessive" (an atom or a quantifier). */
  let afterQuantifier = false;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === undefined) throw new PythonRegexError('a pattern cannot end with a backslash');
      out += next === 'A' ? '(?<![\\s\\S])' : next === 'Z' ? '(?![\\s\\S])' : ch + next;
      i += 2;
      afterQuantifier = false;
      continue;
    }
    if (ch === '[') {
      const end = classEnd(src, i);
      out += classBody(src.slice(i, end + 1));
      i = end + 1;
      afterQuantifier = false;
      continue;
    }
    if (ch === '+' && afterQuantifier) throw refuse('a possessive quantifier (…+)', i);
    afterQuantifier = ch === '*' || ch === '+' || ch === '?' || (ch === '}' && /\{\d*,?\d*\}$/.test(src.slice(0, i + 1)));
    if (ch === '(' && src[i + 1] === '?') {
      const group = groupOpening(src, i);
      out += group.text;
      i = group.next;
      continue;
    }
    if (ch === '{' && /^\{,\d+\}/.test(src.slice(i))) {
      out += '{0,';
      i += 2;
      continue;
    }
    out += ch === '.' ? (dotAll ? '[\\s\\S]' : '[^\\n]') : ch === '^' ? '(?<![^\\n])' : ch === '$' ? '(?=\\n|(?![\\s\\S]))' : ch;
    i++;
  }
  try {
    return new RegExp(out, ignoreCase ? 'i' : '');
  } catch (e) {
    throw new PythonRegexError((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''));
  }
}

/** Index of the `]` that closes the class opening at `start` (Python: a `]` right after `[` or `[^` is literal). */
function classEnd(src: string, start: number): number {
  let i = start + 1;
  if (src[i] === '^') i++;
  if (src[i] === ']') i++;
  for (; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === ']') return i;
  }
  throw new PythonRegexError(`unterminated character set at character ${start + 1}`);
}

/** A whole class `[…]`, with a leading literal `]` escaped for JavaScript. */
function classBody(cls: string): string {
  const neg = cls[1] === '^' ? 1 : 0;
  const head = cls.slice(0, 1 + neg);
  const rest = cls.slice(1 + neg);
  return rest.startsWith(']') && rest.length > 1 ? `${head}\\${rest}` : cls;
}

/** `(?…` at `at`: the JavaScript text for it and where to go on. */
function groupOpening(src: string, at: number): { text: string; next: number } {
  const rest = src.slice(at + 2);
  const named = /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
  if (named) return { text: `(?<${named[1]}>`, next: at + 2 + named[0].length };
  const backref = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
  if (backref) return { text: `\\k<${backref[1]}>`, next: at + 2 + backref[0].length };
  if (rest.startsWith('#')) {
    const close = src.indexOf(')', at);
    if (close < 0) throw new PythonRegexError(`missing ), unterminated comment at character ${at + 1}`);
    return { text: '', next: close + 1 };
  }
  if (/^(?::|=|!|<=|<!)/.test(rest)) return { text: '(?', next: at + 2 };
  if (rest.startsWith('(')) throw refuse('a conditional group (?(…)…)', at);
  if (rest.startsWith('>')) throw refuse('an atomic group (?>…)', at);
  if (rest.startsWith('<')) throw new PythonRegexError(`a named group is written (?P<name>…) in Python (character ${at + 1})`);
  if (/^-?[aiLmsux]/.test(rest)) throw refuse('a flag group not at the start of the pattern or scoped to a group, like (?i:…),', at);
  throw new PythonRegexError(`unknown extension (?${rest.slice(0, 1)} at character ${at + 1}`);
}

/**
 * Ansible's INI inventory passes every `key=value` value through Python's `ast.literal_eval` and keeps the raw
 * string when that fails. To give the same types (`ansible_port=2222` is an int, `x="'07'"` the string `07`,
 * `flag=True` a bool, `flag=true` the string "true"), this is a small evaluator for Python literal syntax:
 * strings (with prefixes, escapes, implicit concatenation), ints, floats, True/False/None, lists, tuples,
 * dicts, sets, unary +/- and comments. Anything else is "not a literal" and the caller keeps the text.
 */

export type LiteralResult = { ok: true; value: unknown } | { ok: false };

class NotLiteral extends Error {}

/** Evaluate `text` as a Python literal, as `ast.literal_eval` would (tuples and sets become arrays). */
export function parsePythonLiteral(text: string): LiteralResult {
  const p = new LiteralParser(text);
  try {
    p.skipSpace();
    const first = p.value();
    p.skipSpace();
    // A bare `1, 2` is a tuple expression in Python.
    if (p.peek() === ',') {
      const items = [first];
      while (p.eat(',')) {
        p.skipSpace();
        if (p.atEnd()) break;
        items.push(p.value());
        p.skipSpace();
      }
      p.skipSpace();
      if (!p.atEnd()) return { ok: false };
      return { ok: true, value: items };
    }
    if (!p.atEnd()) return { ok: false };
    return { ok: true, value: first };
  } catch (e) {
    if (e instanceof NotLiteral) return { ok: false };
    throw e;
  }
}

/** The INI value rule: the literal's value, or the text itself when it is not a literal. */
export function iniValue(text: string): unknown {
  const r = parsePythonLiteral(text);
  return r.ok ? r.value : text;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string | undefined {
    return this.s[this.i];
  }
  eat(ch: string): boolean {
    if (this.s.startsWith(ch, this.i)) {
      this.i += ch.length;
      return true;
    }
    return false;
  }
  private fail(): never {
    throw new NotLiteral();
  }

  /** Whitespace, `# comments` and backslash line continuations are insignificant between tokens. */
  skipSpace(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.i++;
      else if (c === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      } else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else return;
    }
  }

  value(): unknown {
    this.skipSpace();
    const c = this.peek();
    if (c === undefined) this.fail();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.parenthesized();
    if (c === '{') return this.braced();
    if (c === '-' || c === '+') {
      this.i++;
      this.skipSpace();
      const n = this.number();
      return c === '-' ? -n : n;
    }
    if (this.s.startsWith('...', this.i)) {
      this.i += 3;
      return '...';
    }
    if (/[0-9.]/.test(c)) return this.number();
    const str = this.tryStrings();
    if (str !== undefined) return str;
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (name === 'True' || name === 'False' || name === 'None') {
      this.i += name.length;
      return name === 'True' ? true : name === 'False' ? false : null;
    }
    return this.fail();
  }

  private sequence(open: string, close: string): unknown[] {
    this.eat(open);
    const items: unknown[] = [];
    this.skipSpace();
    while (!this.eat(close)) {
      items.push(this.value());
      this.skipSpace();
      if (this.eat(close)) break;
      if (!this.eat(',')) this.fail();
      this.skipSpace();
    }
    return items;
  }

  /** `()` empty tuple, `(x)` just x, `(x,)` / `(x, y)` tuples. */
  private parenthesized(): unknown {
    this.eat('(');
    this.skipSpace();
    if (this.eat(')')) return [];
    const first = this.value();
    this.skipSpace();
    if (this.eat(')')) return first;
    if (!this.eat(',')) this.fail();
    const items = [first];
    this.skipSpace();
    while (!this.eat(')')) {
      items.push(this.value());
      this.skipSpace();
      if (this.eat(')')) break;
      if (!this.eat(',')) this.fail();
      this.skipSpace();
    }
    return items;
  }

  /** `{}` dict, `{k: v, …}` dict, `{a, b}` set (as an array). */
  private braced(): unknown {
    this.eat('{');
    this.skipSpace();
    if (this.eat('}')) return {};
    const first = this.value();
    this.skipSpace();
    if (this.eat(':')) {
      const out: Record<string, unknown> = {};
      out[keyOf(first, () => this.fail())] = this.value();
      this.skipSpace();
      while (!this.eat('}')) {
        if (!this.eat(',')) this.fail();
        this.skipSpace();
        if (this.eat('}')) break;
        const k = this.value();
        this.skipSpace();
        if (!this.eat(':')) this.fail();
        out[keyOf(k, () => this.fail())] = this.value();
        this.skipSpace();
      }
      return out;
    }
    const items = [first];
    while (!this.eat('}')) {
      if (!this.eat(',')) this.fail();
      this.skipSpace();
      if (this.eat('}')) break;
      items.push(this.value());
      this.skipSpace();
    }
    return items;
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+/.exec(rest) ??
      /^0[oO](?:_?[0-7])+/.exec(rest) ??
      /^0[bB](?:_?[01])+/.exec(rest) ??
      /^(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(rest);
    if (!m) return this.fail();
    const tok = m[0];
    // Complex literals (`1j`) and names glued to numbers (`1abc`) are not plain numbers.
    if (/^[A-Za-z0-9_]/.test(rest.slice(tok.length))) this.fail();
    this.i += tok.length;
    const clean = tok.replace(/_/g, '');
    if (/^0[xXoObB]/.test(clean)) return Number(clean);
    if (/^[0-9]+$/.test(clean)) {
      // Python 3 rejects decimal ints with leading zeros (`007`), except all-zero.
      if (clean.length > 1 && clean.startsWith('0') && !/^0+$/.test(clean)) this.fail();
      return Number(clean);
    }
    return Number(clean);
  }

  /** One or more adjacent string literals, concatenated; undefined when no string starts here. */
  private tryStrings(): string | undefined {
    let out: string | undefined;
    for (;;) {
      const save = this.i;
      const s = this.stringLiteral();
      if (s === undefined) {
        this.i = save;
        return out;
      }
      out = (out ?? '') + s;
      this.skipSpace();
    }
  }

  private stringLiteral(): string | undefined {
    const m = /^([rRuUbB]{0,2})(['"])/.exec(this.s.slice(this.i));
    if (!m) return undefined;
    const prefix = m[1]!.toLowerCase();
    if (prefix.length === 2 && !(prefix === 'rb' || prefix === 'br')) this.fail();
    if (prefix.includes('u') && prefix.length > 1) this.fail();
    const raw = prefix.includes('r');
    const q = m[2]!;
    this.i += m[0].length;
    const triple = this.s.startsWith(q + q, this.i);
    if (triple) this.i += 2;
    const closing = triple ? q.repeat(3) : q;
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail();
      if (this.s.startsWith(closing, this.i)) {
        this.i += closing.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && !triple) this.fail();
      if (c === '\\') {
        const next = this.s[this.i + 1];
        if (next === undefined) this.fail();
        if (raw) {
          out += c + next;
          this.i += 2;
          continue;
        }
        out += this.escape();
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private escape(): string {
    const next = this.s[this.i + 1]!;
    if (next in SIMPLE_ESCAPES) {
      this.i += 2;
      return SIMPLE_ESCAPES[next]!;
    }
    const hex = (len: number): string => {
      const digits = this.s.slice(this.i + 2, this.i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) this.fail();
      this.i += 2 + len;
      return String.fromCodePoint(parseInt(digits, 16));
    };
    if (next === 'x') return hex(2);
    if (next === 'u') return hex(4);
    if (next === 'U') return hex(8);
    const oct = /^[0-7]{1,3}/.exec(this.s.slice(this.i + 1));
    if (oct) {
      this.i += 1 + oct[0].length;
      return String.fromCharCode(parseInt(oct[0], 8));
    }
    // Python keeps unknown escapes verbatim.
    this.i += 2;
    return '\\' + next;
  }
}

function keyOf(k: unknown, fail: () => never): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'boolean' || k === null) return String(k);
  return fail();
}

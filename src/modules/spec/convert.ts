/**
 * Ansible's argument_spec type conversions (ansible/module_utils/common/validation.py check_type_*,
 * parsing/convert_bool.py): the ONE place vncplay turns `"yes"` into true, `"22"` into 22 and `"a,b"` into a list.
 * The spec parser (parse.ts) and the JSON-Schema-driven conversion of modules not yet on the spec
 * (src/playbook/free-form.ts) both use these. test/pure/arg-coercion.test.ts and spec-parse.test.ts hold the
 * tables checked against ansible-core 2.14.
 */

/** Marks "does not convert" (undefined and null are real argument values). */
export const NO: unique symbol = Symbol('no conversion');
export type Converted = unknown;

/** convert_bool.BOOLEANS_TRUE / BOOLEANS_FALSE (strings compared lower-cased and trimmed; numbers 1 and 0). */
const BOOL_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const BOOL_FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);
/** Python int(): optional sign, digits with single underscores between them, surrounding whitespace. */
const PY_INT = /^[-+]?\d+(?:_\d+)*$/;
/** Python float() of a finite decimal: `1.5`, `.5`, `5.`, `1e3`, `1_000.5`. */
const PY_FLOAT = /^[-+]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][-+]?\d+)?$/;

/** Python's str() of a scalar: booleans print as True/False. */
export function pyStr(v: number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
}

/**
 * check_type_int: ints pass, strings go through int(); floats (even 1.0, as "1.0") are refused. Booleans are
 * refused too, where Python (whose bool is an int) would take them: `port: true` is a mistake.
 */
export function toInteger(v: unknown): Converted {
  if (typeof v === 'number') return Number.isInteger(v) ? v : NO;
  if (typeof v !== 'string') return NO;
  const t = v.trim();
  if (!PY_INT.test(t)) return NO;
  const n = Number(t.replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : NO;
}

/** check_type_float: numbers pass, strings go through float() (booleans refused, as for int). */
export function toNumber(v: unknown): Converted {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NO;
  const t = v.trim();
  if (!PY_FLOAT.test(t)) return NO;
  const n = Number(t.replace(/_/g, ''));
  return Number.isFinite(n) ? n : NO;
}

/** check_type_bool → convert_bool.boolean(strict=True): the one truth table for Ansible booleans. */
export function toBoolean(v: unknown): Converted {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : NO;
  if (typeof v !== 'string') return NO;
  const t = v.trim().toLowerCase();
  return BOOL_TRUE.has(t) ? true : BOOL_FALSE.has(t) ? false : NO;
}

/** check_type_str with conversion allowed, for scalars (the spec parser converts a list or mapping in a `str` itself). */
export function toStringValue(v: unknown): Converted {
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? pyStr(v) : NO;
}

/** check_type_list: a string is split on every comma (no trimming, as Ansible); a scalar is a one-item list. */
export function toList(v: unknown): Converted {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v.split(',');
  return typeof v === 'number' || typeof v === 'boolean' ? [pyStr(v)] : NO;
}

/** check_type_dict: a mapping passes; a string is JSON when it starts with `{`, else `k=v` pairs (comma or space separated). */
export function toDict(v: unknown): Converted {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
  if (typeof v !== 'string') return NO;
  const t = v.trim();
  if (t.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(t);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : NO;
    } catch {
      return NO;
    }
  }
  const out: Record<string, string> = {};
  for (const field of t.split(/[\s,]+/).filter((f) => f !== '')) {
    const eq = field.indexOf('=');
    if (eq <= 0) return NO;
    out[field.slice(0, eq)] = field.slice(eq + 1);
  }
  return out;
}

/** An octal mode ('644', '0644', '0o644'): the permission bits themselves. */
export const OCTAL_MODE = /^0?[0-7]{1,4}$|^0o[0-7]{1,4}$/;
/** One clause of a symbolic mode, as Ansible's _symbolic_mode_to_octal reads it: `[ugoa]*([-+=][rwxXstugo]*)+`. */
export const SYMBOLIC_CLAUSE = /^[ugoa]*(?:[-+=][rwxXstugo]*)+$/;

/**
 * A file mode (vncplay's `mode` type): an octal or symbolic string passes as it is. Numbers are refused: YAML reads
 * `644` as the decimal 644 (the loader already turned YAML 1.1's octal literal `0644` into the string "0644").
 */
export function toMode(v: unknown): Converted {
  if (typeof v !== 'string') return NO;
  return OCTAL_MODE.test(v) || v.split(',').every((clause) => SYMBOLIC_CLAUSE.test(clause)) ? v : NO;
}

/** A string the runner will still render (load time): its type is only known after templating. */
const TEMPLATE = /\{\{|\{%/;
export function isTemplateText(v: unknown): v is string {
  return typeof v === 'string' && TEMPLATE.test(v);
}

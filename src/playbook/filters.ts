import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Document, isScalar, parse as parseYaml, parseAllDocuments, visit } from 'yaml';
import { PLAIN_YAML_OPTIONS } from '../inventory/yaml-options.js';
import { setOwn } from './own-keys.js';
import { globNames } from './glob.js';
import { datetimeArith, datetimeOrder, PyDatetime, PyObject, StrptimeMismatch, strptime, strftime } from './py-datetime.js';
import { dumpPyYaml, YamlTimestamp } from './pyyaml.js';
import { Unsafe } from './unsafe.js';

export { Unsafe };

/*
 * Jinja2/Ansible value semantics shared by the template engine, filters and tests.
 *
 * nunjucks compiles expressions to plain JavaScript operators, which disagree with Python on exactly the
 * things playbooks rely on: `[]` and `{}` are falsy in Python, `[1] == [1]` is true, `a + b` concatenates
 * lists, `True` prints as "True". template.ts makes the compiled code call the helpers below instead.
 */

// ───────────────────────────── values that are data, and values that are missing ─────────────────────────────

// Unsafe (host data, rendered values, `!unsafe` text) lives in unsafe.ts, which the YAML options import too.

/** Wrap a value as data that is never rendered again (idempotent). */
export function markUnsafe(value: unknown): Unsafe {
  return value instanceof Unsafe ? value : new Unsafe(value);
}

export function isUnsafe(value: unknown): value is Unsafe {
  return value instanceof Unsafe;
}

/**
 * The value inside an Unsafe wrapper, or the value itself. String objects (nunjucks' SafeString from a macro
 * call) become plain strings here, so every filter sees a primitive.
 */
export function unwrapUnsafe(value: unknown): unknown {
  if (value instanceof Unsafe) return value.value;
  if (value instanceof String) return value.toString();
  return value;
}

/**
 * Ansible's StrictUndefined: looking up a missing variable gives this instead of failing at once, so that
 * `x | default(1)`, `x is defined` and `x.y | default(1)` work; using it in any other way raises.
 */
export class Undefined {
  constructor(
    /** The variable (root name) that was missing, or the expression whose attribute was missing. */
    readonly name: string,
    /** Set when a defined value lacks an attribute: `result.stdotu` → { attr: 'stdotu', keys of result }. */
    readonly missingAttr?: { attr: string; candidates: string[] },
    /** Overrides the message (mandatory('msg'), first of an empty list …). */
    readonly customMessage?: string,
  ) {}

  describe(): string {
    if (this.customMessage) return this.customMessage;
    if (this.missingAttr) return `'${this.name}' has no attribute '${this.missingAttr.attr}'`;
    return `undefined variable '${this.name}'`;
  }

  /** Arithmetic, comparison and string conversion of an undefined value are errors, as in Jinja's StrictUndefined. */
  [Symbol.toPrimitive](): never {
    throw new UndefinedAccess(this);
  }
}

/** Thrown inside rendering when an Undefined is used; template.ts turns it into a positioned TemplateError. */
export class UndefinedAccess extends Error {
  constructor(readonly undef: Undefined) {
    super(undef.describe());
  }
}

/** Any other error of a filter, test or operator; template.ts positions it. */
export class JinjaRuntimeError extends Error {}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

/** Throw if v is undefined; returns v otherwise (for call sites that must not see Undefined). */
export function defined<T>(v: T): Exclude<T, Undefined> {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  return v as Exclude<T, Undefined>;
}

/**
 * A mapping whose values are resolved on access (hostvars['web1'], a host's variables rendered in that host's
 * scope). memberLookup calls `get`; filters that need all entries call `entries`.
 */
export interface LazyMapping {
  readonly lazyMapping: true;
  get(key: string): unknown;
  has(key: string): boolean;
  keys(): string[];
}

export function isLazyMapping(v: unknown): v is LazyMapping {
  return typeof v === 'object' && v !== null && (v as Partial<LazyMapping>).lazyMapping === true;
}

// ───────────────────────────── Python-like predicates and conversions ─────────────────────────────

export type Mapping = Record<string, unknown>;

/** A dict in Jinja's sense: a plain object (not an array, not null, not a wrapper of ours). */
export function isMapping(v: unknown): v is Mapping {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  if (v instanceof Undefined || v instanceof Unsafe || v instanceof String || v instanceof PyObject) return false;
  return true;
}

/** Python truthiness: empty string, list and dict are false; an Undefined raises. */
export function truthy(v: unknown): boolean {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  if (v instanceof Unsafe || v instanceof String) return truthy(unwrapUnsafe(v));
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isLazyMapping(v)) return v.keys().length > 0;
  if (v instanceof PyObject) return v.truthy();
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Python's type name, for error messages. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (v instanceof String) return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof PyObject) return v.typeName;
  if (typeof v === 'function') return 'function';
  return 'dict';
}

/** The type's name as Python's TypeError messages give it: a class of a module with its module (`datetime.datetime`). */
function qualifiedTypeName(v: unknown): string {
  return v instanceof PyObject ? v.qualifiedName : typeName(v);
}

/** Python repr() of a value, as Jinja prints values nested in lists and dicts. */
export function pyRepr(v: unknown): string {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  if (v instanceof Unsafe || v instanceof String) return pyRepr(unwrapUnsafe(v));
  if (typeof v === 'string') return reprString(v);
  if (v instanceof PyObject) return v.repr();
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isLazyMapping(v)) return `{${v.keys().map((k) => `${reprString(k)}: ${pyRepr(v.get(k))}`).join(', ')}}`;
  if (isMapping(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${reprString(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return pyStr(v);
}

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return quote + out + quote;
}

/** Python str() of a value: what `{{ x }}` prints inside a larger string. */
export function pyStr(v: unknown): string {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  if (v instanceof Unsafe || v instanceof String) return pyStr(unwrapUnsafe(v));
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyObject) return v.str();
  if (typeof v === 'object') return pyRepr(v);
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python ==: deep for lists and dicts, no string/number coercion, True == 1. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a instanceof Undefined) throw new UndefinedAccess(a);
  if (b instanceof Undefined) throw new UndefinedAccess(b);
  a = unwrapUnsafe(a);
  b = unwrapUnsafe(b);
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  const order = datetimeOrder(a, b);
  if (order !== undefined) return order === 0;
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
    return Number(a) === Number(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  }
  if (isMapping(a) && isMapping(b) && !isLazyMapping(a) && !isLazyMapping(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  return false;
}

/** Python ordering (<, >, …): numbers with numbers, strings with strings, lists element-wise; else TypeError. */
export function pyCompare(a: unknown, b: unknown, op: string): number {
  a = unwrapUnsafe(defined(a));
  b = unwrapUnsafe(defined(b));
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
    return Number(a) - Number(b);
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const order = datetimeOrder(a, b);
  if (order !== undefined) return order;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEq(a[i], b[i])) return pyCompare(a[i], b[i], op);
    }
    return a.length - b.length;
  }
  throw new JinjaRuntimeError(`'${op}' not supported between instances of '${qualifiedTypeName(a)}' and '${qualifiedTypeName(b)}'`);
}

/** Python `item in container`. */
export function pyContains(container: unknown, item: unknown): boolean {
  container = unwrapUnsafe(defined(container));
  item = unwrapUnsafe(defined(item));
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      throw new JinjaRuntimeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isLazyMapping(container)) return typeof item === 'string' && container.has(item);
  if (isMapping(container)) return typeof item === 'string' && Object.hasOwn(container, item);
  throw new JinjaRuntimeError(`argument of type '${typeName(container)}' is not iterable`);
}

function isNumeric(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

/** Python binary arithmetic as Jinja does it (`+` concatenates strings and lists, `*` repeats). */
export function pyArith(op: string, a: unknown, b: unknown): unknown {
  a = unwrapUnsafe(defined(a));
  b = unwrapUnsafe(defined(b));
  if (isNumeric(a) && isNumeric(b)) {
    const x = Number(a);
    const y = Number(b);
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        if (y === 0) throw new JinjaRuntimeError('division by zero');
        return x / y;
      case '//':
        if (y === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
        return Math.floor(x / y);
      case '%':
        if (y === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
        return ((x % y) + y) % y;
      case '**':
        return x ** y;
    }
  }
  const moment = datetimeArith(op, a, b);
  if (moment !== undefined) return moment;
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (op === '*' && (typeof a === 'string' || Array.isArray(a)) && typeof b === 'number') return repeat(a, b);
  if (op === '*' && (typeof b === 'string' || Array.isArray(b)) && typeof a === 'number') return repeat(b, a);
  if (op === '%' && typeof a === 'string') return percentFormat(a, Array.isArray(b) ? b : [b]);
  throw new JinjaRuntimeError(
    `unsupported operand type(s) for ${op}: '${qualifiedTypeName(a)}' and '${qualifiedTypeName(b)}'`,
  );
}

function repeat(v: string | unknown[], n: number): string | unknown[] {
  // A typo like `'-' * 10000000000` must fail clearly instead of exhausting the controller's memory.
  if (v.length * n > 10_000_000) throw new JinjaRuntimeError(`result of * would have ${v.length * n} items (limit 10000000)`);
  if (typeof v === 'string') return v.repeat(Math.max(0, n));
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(...v);
  return out;
}

/** printf-style `'%s-%d' % (a, b)` and the `format` filter: %s %d %i %f %x %r %% with width/precision. */
export function percentFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-0 +#]*)(\d+)?(?:\.(\d+))?([sdifrxXo%])/g, (_m, flags: string, width?: string, prec?: string, conv?: string) => {
    if (conv === '%') return '%';
    const arg = args[i++];
    let s: string;
    switch (conv) {
      case 'd':
      case 'i':
        s = String(Math.trunc(Number(defined(arg))));
        break;
      case 'f':
        s = Number(defined(arg)).toFixed(prec === undefined ? 6 : Number(prec));
        break;
      case 'x':
        s = Math.trunc(Number(defined(arg))).toString(16);
        break;
      case 'X':
        s = Math.trunc(Number(defined(arg))).toString(16).toUpperCase();
        break;
      case 'o':
        s = Math.trunc(Number(defined(arg))).toString(8);
        break;
      case 'r':
        s = pyRepr(arg);
        break;
      default:
        s = pyStr(arg);
        if (prec !== undefined) s = s.slice(0, Number(prec));
    }
    const w = width === undefined ? 0 : Number(width);
    if (s.length < w) {
      s = flags.includes('-') ? s.padEnd(w) : flags.includes('0') && conv !== 's' ? s.padStart(w, '0') : s.padStart(w);
    }
    return s;
  });
}

/** Ansible's `bool` filter and the truth of `when: "yes"`. */
export function toBool(v: unknown): boolean {
  v = unwrapUnsafe(defined(v));
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true', 'y', 't'].includes(v.trim().toLowerCase());
  return false;
}

/** Items of a sequence as a list: lists, strings (characters), dicts (keys), as Python's iter(). */
export function toList(v: unknown, what = 'value'): unknown[] {
  v = unwrapUnsafe(defined(v));
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (isLazyMapping(v)) return v.keys();
  if (isMapping(v)) return Object.keys(v);
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) return Array.from(v as Iterable<unknown>);
  throw new JinjaRuntimeError(`${what} of type '${typeName(v)}' is not iterable`);
}

/** Entries of a mapping (lazy ones resolved). */
export function mappingEntries(v: unknown, what: string): [string, unknown][] {
  v = unwrapUnsafe(defined(v));
  if (isLazyMapping(v)) return v.keys().map((k) => [k, v.get(k)]);
  if (isMapping(v)) return Object.entries(v);
  throw new JinjaRuntimeError(`${what} expects a dictionary, got '${typeName(v)}'`);
}

// ───────────────────────────── attribute access, shared with template.ts ─────────────────────────────

const STRING_METHODS: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  split: (s, sep, max) => pySplit(s, sep, max),
  rsplit: (s, sep) => pySplit(s, sep),
  strip: (s, chars) => pyStrip(s, chars, true, true),
  lstrip: (s, chars) => pyStrip(s, chars, true, false),
  rstrip: (s, chars) => pyStrip(s, chars, false, true),
  startswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.startsWith(pyStr(x))) : s.startsWith(pyStr(p))),
  endswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.endsWith(pyStr(x))) : s.endsWith(pyStr(p))),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s) => s.replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  replace: (s, a, b) => s.split(pyStr(a)).join(pyStr(b)),
  find: (s, sub) => s.indexOf(pyStr(sub)),
  count: (s, sub) => (pyStr(sub) === '' ? s.length + 1 : s.split(pyStr(sub)).length - 1),
  join: (s, items) => toList(items).map(pyStr).join(s),
  splitlines: (s) => splitLines(s),
  isdigit: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^[A-Za-z]+$/.test(s),
  format: (s, ...args) => pyStrFormat(s, args),
  zfill: (s, w) => s.padStart(Number(w), '0'),
};

const LIST_METHODS: Record<string, (l: unknown[], ...a: unknown[]) => unknown> = {
  index: (l, x) => {
    const i = l.findIndex((y) => pyEq(y, x));
    if (i < 0) throw new JinjaRuntimeError(`${pyRepr(x)} is not in list`);
    return i;
  },
  count: (l, x) => l.filter((y) => pyEq(y, x)).length,
};

const DICT_METHODS: Record<string, (d: Mapping | LazyMapping, ...a: unknown[]) => unknown> = {
  keys: (d) => (isLazyMapping(d) ? d.keys() : Object.keys(d)),
  values: (d) => mappingEntries(d, 'values()').map(([, v]) => v),
  items: (d) => mappingEntries(d, 'items()'),
  get: (d, k, dflt = null) => {
    const key = pyStr(k);
    if (isLazyMapping(d)) return d.has(key) ? d.get(key) : dflt;
    return Object.hasOwn(d, key) ? d[key] : dflt;
  },
};

/** A method from one of the tables above; never an Object.prototype member (`constructor`, `__proto__`). */
function ownMethod<F>(table: Record<string, F>, key: string): F | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * `obj.key` / `obj[key]` with Python semantics. Only own properties are visible (no prototype walk: a template
 * cannot reach `constructor`), negative list indexes count from the end, and str/list/dict methods that
 * playbooks call (`x.split(',')`, `d.items()`, `s.startswith('a')`) are emulated.
 */
export function getAttr(obj: unknown, key: unknown, exprName: string): unknown {
  if (obj instanceof Undefined) {
    // Chained access on a missing variable stays undefined so `a.b.c | default(x)` works, as in Ansible.
    return obj;
  }
  obj = unwrapUnsafe(obj);
  if (Array.isArray(key)) return sliceValue(obj, key, exprName);
  if (key instanceof Undefined) throw new UndefinedAccess(key);
  key = unwrapUnsafe(key);
  if (Array.isArray(obj)) {
    if (typeof key === 'number' && Number.isInteger(key)) {
      const i = key < 0 ? obj.length + key : key;
      if (i >= 0 && i < obj.length) return unwrapUnsafe(obj[i]);
      return new Undefined(exprName, undefined, `list index ${key} out of range in '${exprName}'`);
    }
    const m = typeof key === 'string' ? ownMethod(LIST_METHODS, key) : undefined;
    if (m) return (...a: unknown[]) => m(obj as unknown[], ...a);
    return new Undefined(exprName, { attr: pyStr(key), candidates: [] });
  }
  if (typeof obj === 'string') {
    if (typeof key === 'number' && Number.isInteger(key)) {
      const i = key < 0 ? obj.length + key : key;
      if (i >= 0 && i < obj.length) return obj[i];
      return new Undefined(exprName, undefined, `string index ${key} out of range in '${exprName}'`);
    }
    const m = typeof key === 'string' ? ownMethod(STRING_METHODS, key) : undefined;
    if (m) return (...a: unknown[]) => m(obj as string, ...a.map(unwrapUnsafe));
    return new Undefined(exprName, { attr: pyStr(key), candidates: [] });
  }
  if (isLazyMapping(obj)) {
    const k = pyStr(key);
    if (obj.has(k)) return unwrapUnsafe(obj.get(k));
    const m = ownMethod(DICT_METHODS, k);
    if (m) return (...a: unknown[]) => m(obj as LazyMapping, ...a);
    return new Undefined(exprName, { attr: k, candidates: obj.keys() });
  }
  if (isMapping(obj)) {
    const k = typeof key === 'string' ? key : pyStr(key);
    if (Object.hasOwn(obj, k)) {
      const v = obj[k];
      // Host data nested in a mapping (hostvars[h].fact) is read as the plain value it wraps.
      return v === undefined ? null : unwrapUnsafe(v);
    }
    const m = ownMethod(DICT_METHODS, k);
    if (m) return (...a: unknown[]) => m(obj as Mapping, ...a);
    return new Undefined(exprName, { attr: k, candidates: Object.keys(obj) });
  }
  if (obj instanceof PyObject) {
    const found = typeof key === 'string' ? obj.attr(key) : undefined;
    return found !== undefined ? found : new Undefined(exprName, { attr: pyStr(key), candidates: [] }, `'${obj.qualifiedName} object' has no attribute '${pyStr(key)}' (in '${exprName}')`);
  }
  if (obj === null || obj === undefined) {
    return new Undefined(exprName, { attr: pyStr(key), candidates: [] }, `'None' has no attribute '${pyStr(key)}' (in '${exprName}')`);
  }
  return new Undefined(exprName, { attr: pyStr(key), candidates: [] });
}

function sliceValue(obj: unknown, parts: unknown[], exprName: string): unknown {
  obj = defined(obj);
  const [start, stop, step] = parts.map((p) => unwrapUnsafe(defined(p)));
  if (!(typeof obj === 'string' || Array.isArray(obj))) {
    throw new JinjaRuntimeError(`'${typeName(obj)}' object is not subscriptable (in '${exprName}')`);
  }
  const arr: unknown[] = typeof obj === 'string' ? Array.from(obj) : obj;
  const st = step === null || step === undefined ? 1 : Number(step);
  if (st === 0) throw new JinjaRuntimeError('slice step cannot be zero');
  const n = arr.length;
  const norm = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    let x = Number(v);
    if (x < 0) x += n;
    return st > 0 ? Math.min(Math.max(x, 0), n) : Math.min(Math.max(x, -1), n - 1);
  };
  const out: unknown[] = [];
  if (st > 0) {
    for (let i = norm(start, 0); i < norm(stop, n); i += st) out.push(arr[i]);
  } else {
    for (let i = norm(start, n - 1); i > norm(stop, -1); i += st) out.push(arr[i]);
  }
  return typeof obj === 'string' ? out.join('') : out;
}

function pySplit(s: string, sep?: unknown, max?: unknown): string[] {
  const limit = max === undefined || max === null ? -1 : Number(max);
  if (sep === undefined || sep === null) {
    const parts = s.trim().split(/\s+/).filter((p) => p !== '');
    if (limit < 0 || parts.length <= limit + 1) return parts;
    // Python keeps the remainder of the string (with its inner whitespace) as the last part.
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    for (let i = 0; i < limit; i++) {
      const m = /\s+/.exec(rest);
      if (!m) break;
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    out.push(rest);
    return out;
  }
  const d = pyStr(sep);
  if (d === '') throw new JinjaRuntimeError('empty separator');
  const parts = s.split(d);
  if (limit < 0 || parts.length <= limit + 1) return parts;
  return [...parts.slice(0, limit), parts.slice(limit).join(d)];
}

function pyStrip(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? null : new Set(Array.from(pyStr(chars)));
  const strip = (c: string): boolean => (set ? set.has(c) : /\s/.test(c));
  let a = 0;
  let b = s.length;
  if (left) while (a < b && strip(s[a]!)) a++;
  if (right) while (b > a && strip(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `'{} and {0} {name}'.format(...)`, the common subset. */
function pyStrFormat(fmt: string, args: unknown[]): string {
  const last = args[args.length - 1];
  const kw = isKeywords(last) ? stripKeywords(last) : {};
  const pos = isKeywords(last) ? args.slice(0, -1) : args;
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field?: string) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const name = (field ?? '').split(':')[0]!;
    if (name === '') return pyStr(pos[auto++]);
    if (/^\d+$/.test(name)) return pyStr(pos[Number(name)]);
    return pyStr(kw[name]);
  });
}

// ───────────────────────────── keyword arguments (nunjucks passes them as a tagged last object) ───────────

export function isKeywords(v: unknown): v is Mapping {
  return isMapping(v) && (v as { __keywords?: unknown }).__keywords === true;
}

function stripKeywords(v: Mapping): Mapping {
  const out: Mapping = {};
  for (const [k, x] of Object.entries(v)) if (k !== '__keywords') setOwn(out, k, x);
  return out;
}

/** Split nunjucks call arguments into positional arguments and keyword arguments. */
export function splitArgs(args: unknown[]): { pos: unknown[]; kw: Mapping } {
  const last = args[args.length - 1];
  if (isKeywords(last)) return { pos: args.slice(0, -1), kw: stripKeywords(last) };
  return { pos: args, kw: {} };
}

// ───────────────────────────── filters ─────────────────────────────

/** What a filter or test may need from the engine: other tests, controller lookups. */
export interface FilterEnv {
  test(name: string): TestFn;
  filter(name: string): FilterFn;
}

/** value | name(pos…, kw=…). `this`-free so filters are plain functions. */
export type FilterFn = (value: unknown, pos: unknown[], kw: Mapping, env: FilterEnv) => unknown;
/** value is name(pos…). */
export type TestFn = (value: unknown, pos: unknown[], env: FilterEnv) => boolean;

/** Filters that receive an Undefined input on purpose; every other filter raises on it. */
export const UNDEFINED_SAFE_FILTERS: ReadonlySet<string> = new Set(['default', 'd', 'mandatory']);
/** Tests that receive an Undefined input on purpose. */
export const UNDEFINED_SAFE_TESTS: ReadonlySet<string> = new Set(['defined', 'undefined']);
/** Type tests that are simply false for an Undefined (as in Jinja/Ansible: `missing is none` → false). */
export const UNDEFINED_FALSE_TESTS: ReadonlySet<string> = new Set([
  'none', 'string', 'number', 'integer', 'float', 'boolean', 'mapping', 'sameas', 'callable', 'true', 'false',
]);

function arg(pos: unknown[], kw: Mapping, i: number, name: string, dflt?: unknown): unknown {
  if (i < pos.length) return pos[i];
  if (Object.hasOwn(kw, name)) return kw[name];
  return dflt;
}

function str(v: unknown): string {
  return pyStr(v);
}

function toInt(v: unknown, dflt: number, base = 10): number {
  v = unwrapUnsafe(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10) {
      if (/^[-+]?\d+$/.test(s)) return parseInt(s, 10);
      // Jinja's int filter accepts "3.7" by going through float.
      if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Math.trunc(parseFloat(s));
      return dflt;
    }
    const body = s.replace(/^0[xob]/i, '');
    const n = parseInt(body, base);
    return Number.isNaN(n) ? dflt : n;
  }
  return dflt;
}

function toFloat(v: unknown, dflt: number): number {
  v = unwrapUnsafe(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'inf' || s === '+inf') return Infinity;
    if (s === '-inf') return -Infinity;
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return parseFloat(s);
  }
  return dflt;
}

/**
 * Python `re` pattern → JavaScript RegExp. Covers what playbooks use: named groups `(?P<n>…)`, `\A` `\Z`,
 * leading inline flags `(?i)`/`(?m)`/`(?s)`/`(?x)` (x only strips whitespace), and the ignorecase/multiline args.
 */
export function pyRegex(pattern: unknown, opts: { ignorecase?: unknown; multiline?: unknown; global?: boolean } = {}): RegExp {
  let src = str(pattern);
  let flags = '';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags += f;
      if (f === 'x') src = src.replace(/\\#/g, '\u0000').replace(/#.*$/gm, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
    }
  }
  src = src.replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>');
  src = src.replace(/\\A/g, '^').replace(/\\Z/g, '$');
  if (truthy(opts.ignorecase ?? false) && !flags.includes('i')) flags += 'i';
  if (truthy(opts.multiline ?? false) && !flags.includes('m')) flags += 'm';
  if (opts.global) flags += 'g';
  try {
    return new RegExp(src, flags + 'u');
  } catch {
    try {
      return new RegExp(src, flags);
    } catch (e) {
      throw new JinjaRuntimeError(`invalid regular expression ${reprString(str(pattern))}: ${(e as Error).message}`);
    }
  }
}

/** Python replacement template (`\1`, `\g<1>`, `\g<name>`) → a function for String.replace. */
function pyReplacement(repl: string): (m: RegExpExecArray | string[], groups?: Record<string, string>) => string {
  return (m, groups) =>
    repl.replace(/\\(?:g<(\w+)>|(\d{1,2})|([\\nt]))/g, (_x, g?: string, n?: string, esc?: string) => {
      if (esc !== undefined) return esc === 'n' ? '\n' : esc === 't' ? '\t' : '\\';
      const ref = g ?? n!;
      if (/^\d+$/.test(ref)) return m[Number(ref)] ?? '';
      return groups?.[ref] ?? '';
    });
}

function regexReplace(value: unknown, pos: unknown[], kw: Mapping): string {
  const re = pyRegex(arg(pos, kw, 0, 'pattern', ''), {
    ignorecase: arg(pos, kw, 2, 'ignorecase'),
    multiline: arg(pos, kw, 3, 'multiline'),
    global: true,
  });
  const repl = pyReplacement(str(arg(pos, kw, 1, 'replacement', '')));
  let count = toInt(arg(pos, kw, 4, 'count', 0), 0);
  return str(value).replace(re, (...all: unknown[]) => {
    if (count < 0) return all[0] as string;
    const last = all[all.length - 1];
    const groups = typeof last === 'object' && last !== null ? (last as Record<string, string>) : undefined;
    const nGroups = all.length - (groups ? 3 : 2);
    const m = all.slice(0, nGroups) as string[];
    const out = repl(m, groups);
    if (count > 0 && --count === 0) count = -1;
    return out;
  });
}

function regexSearch(value: unknown, pos: unknown[], kw: Mapping): unknown {
  const re = pyRegex(pos[0] ?? kw.pattern, { ignorecase: kw.ignorecase, multiline: kw.multiline });
  const m = re.exec(str(value));
  const groupRefs = pos.slice(1).map(str);
  if (!m) return groupRefs.length > 0 ? [] : null;
  if (groupRefs.length === 0) return m[0];
  return groupRefs.map((g) => {
    const named = /^\\g<(\w+)>$/.exec(g);
    const num = /^\\(\d+)$/.exec(g);
    if (named) return /^\d+$/.test(named[1]!) ? (m[Number(named[1])] ?? null) : (m.groups?.[named[1]!] ?? null);
    if (num) return m[Number(num[1])] ?? null;
    throw new JinjaRuntimeError(`regex_search: unknown group reference ${reprString(g)} (use '\\\\1' or '\\\\g<name>')`);
  });
}

function regexFindall(value: unknown, pos: unknown[], kw: Mapping): unknown[] {
  const re = pyRegex(arg(pos, kw, 0, 'pattern', ''), {
    ignorecase: arg(pos, kw, 1, 'ignorecase'),
    multiline: arg(pos, kw, 2, 'multiline'),
    global: true,
  });
  const out: unknown[] = [];
  for (const m of str(value).matchAll(re)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    else out.push(m.slice(1).map((g) => g ?? ''));
  }
  return out;
}

function attrPath(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const part of path.split('.')) {
    v = getAttr(v, /^\d+$/.test(part) && Array.isArray(unwrapUnsafe(v)) ? Number(part) : part, path);
    if (v instanceof Undefined) return v;
  }
  return v;
}

function uniqueList(items: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of items) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}

function sortKey(items: unknown[], attribute: unknown, reverse: boolean, caseSensitive: boolean): unknown[] {
  const key = (x: unknown): unknown => {
    let v = attribute === undefined || attribute === null ? x : attrPath(x, str(attribute));
    v = unwrapUnsafe(v);
    return !caseSensitive && typeof v === 'string' ? v.toLowerCase() : v;
  };
  const sorted = [...items].sort((a, b) => pyCompare(key(a), key(b), '<'));
  return reverse ? sorted.reverse() : sorted;
}

function combine(dicts: unknown[], recursive: boolean, listMerge: string): Mapping {
  let out: Mapping = {};
  for (const d of dicts) {
    const list = Array.isArray(unwrapUnsafe(d)) ? (unwrapUnsafe(d) as unknown[]) : [d];
    for (const one of list) out = mergeDicts(out, Object.fromEntries(mappingEntries(one, 'combine')), recursive, listMerge);
  }
  return out;
}

function mergedValue(old: unknown, v: unknown, recursive: boolean, listMerge: string): unknown {
  if (recursive && isMapping(old) && isMapping(v)) return mergeDicts(old, v, true, listMerge);
  if (!Array.isArray(old) || !Array.isArray(v) || listMerge === 'replace') return v;
  if (listMerge === 'keep') return old;
  if (listMerge === 'append') return [...old, ...v];
  if (listMerge === 'prepend') return [...v, ...old];
  if (listMerge === 'append_rp') return [...old.filter((x) => !v.some((y) => pyEq(x, y))), ...v];
  if (listMerge === 'prepend_rp') return [...v, ...old.filter((x) => !v.some((y) => pyEq(x, y)))];
  throw new JinjaRuntimeError(`combine: unknown list_merge '${listMerge}'`);
}

function mergeDicts(a: Mapping, b: Mapping, recursive: boolean, listMerge: string): Mapping {
  const out: Mapping = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    setOwn(out, k, mergedValue(old, v, recursive, listMerge));
  }
  return out;
}

/**
 * Plain JSON-able copy (Unsafe unwrapped, lazy mappings resolved, undefined → null); a datetime becomes what
 * `pyValue` makes of it (by default what Ansible's JSON encoder writes).
 */
export function toPlain(v: unknown, pyValue: (o: PyObject) => unknown = (o) => o.toJSON()): unknown {
  v = unwrapUnsafe(defined(v));
  if (v instanceof PyObject) return pyValue(v);
  const inner = (x: unknown): unknown => toPlain(x, pyValue);
  if (Array.isArray(v)) return v.map(inner);
  if (isLazyMapping(v)) return Object.fromEntries(v.keys().map((k) => [k, inner(v.get(k))]));
  if (isMapping(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inner(x)]));
  if (v === undefined) return null;
  return v;
}

/**
 * JSON.parse's message without the piece of the text it quotes (`Unexpected token 's', "{"pw": secr"... is not
 * valid JSON`): the text may be a secret, and a 10-character piece of one is not recognised by redaction. Messages
 * that give a position instead of text are kept.
 */
function jsonErrorWithoutText(message: string): string {
  if (/^Unexpected token /.test(message)) return 'Unexpected token in JSON (text not shown)';
  if (/ is not valid JSON$/.test(message)) return 'not valid JSON (text not shown)';
  return message;
}

/** Python json.dumps: `", "` and `": "` separators unless indented; non-ASCII kept as is (ensure_ascii=False as Ansible). */
export function pyJson(v: unknown, indent: number | undefined, sortKeys: boolean): string {
  const plain = toPlain(v, (o) => {
    // AnsibleJSONEncoder writes dates and datetimes as ISO 8601 and knows no timedelta.
    if (!(o instanceof PyDatetime)) throw new JinjaRuntimeError(`Object of type ${o.typeName} is not JSON serializable`);
    return o.toJSON();
  });
  const sorted = sortKeys ? sortDeep(plain) : plain;
  if (indent !== undefined && indent > 0) return JSON.stringify(sorted, null, indent);
  return compactJson(sorted);
}

function compactJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(compactJson).join(', ')}]`;
  if (isMapping(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${compactJson(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isMapping(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortDeep(v[k])]),
    );
  }
  return v;
}

/**
 * PyYAML's dump as Ansible calls it: keys sorted; `to_yaml` (default_flow_style=None) writes collections that
 * hold only scalars in flow style (`{a: 1, b: [x, y]}`), `to_nice_yaml` writes block style throughout.
 */
function dumpYaml(v: unknown, indent: number, flowLeaves: boolean, sortKeys: boolean): string {
  const plain = toPlain(v, (o) => {
    if (!(o instanceof PyDatetime)) throw new JinjaRuntimeError(`cannot represent an object: ${o.repr()}`);
    return new YamlTimestamp(o.str());
  }) as Parameters<typeof dumpPyYaml>[0];
  // PyYAML writes a datetime alone as its str(), unquoted.
  if (plain instanceof YamlTimestamp) return `${plain.text}\n`;
  const asPyYaml = dumpPyYaml(plain, { indent, flowLeaves, sortKeys });
  if (asPyYaml !== undefined) return asPyYaml;
  // A single scalar.
  const doc = new Document(toPlain(v), { sortMapEntries: sortKeys });
  if (flowLeaves) {
    visit(doc, {
      Map(_k, node) {
        if (node.items.every((p) => isScalar(p.value) || p.value === null)) node.flow = true;
      },
      Seq(_k, node) {
        if (node.items.every((i) => isScalar(i) || i === null)) node.flow = true;
      },
    });
  }
  return doc.toString({ indent, lineWidth: 0, flowCollectionPadding: false, indentSeq: false });
}

function pyBasename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function pyDirname(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  if (head && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return head;
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Byte order of the final encoding in Drepper's SHA-crypt, for 64-byte (SHA-512) and 32-byte (SHA-256) digests. */
const SHA512_ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29],
  [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16],
  [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];
const SHA256_ORDER = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]];

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += CRYPT_ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

/** glibc's SHA-crypt (`$6$` / `$5$`), as Python's crypt.crypt and Ansible's password_hash produce it. */
export function shaCrypt(password: string, salt: string, algo: 'sha512' | 'sha256', rounds?: number): string {
  const H = (...parts: Buffer[]): Buffer => {
    const h = createHash(algo);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const n = rounds === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, rounds));
  const B = H(P, S, P);
  const aParts: Buffer[] = [P, S, repeatTo(B, P.length)];
  for (let len = P.length; len > 0; len >>= 1) aParts.push(len & 1 ? B : P);
  const A = H(...aParts);
  const DP = H(...Array.from({ length: P.length }, () => P));
  const Pseq = repeatTo(DP, P.length);
  const DS = H(...Array.from({ length: 16 + A[0]! }, () => S));
  const Sseq = repeatTo(DS, S.length);
  let C = A;
  for (let i = 0; i < n; i++) {
    const parts: Buffer[] = [i & 1 ? Pseq : C];
    if (i % 3) parts.push(Sseq);
    if (i % 7) parts.push(Pseq);
    parts.push(i & 1 ? C : Pseq);
    C = H(...parts);
  }
  let enc = '';
  if (algo === 'sha512') {
    for (const [a, b, c] of SHA512_ORDER) enc += b64From24(C[a!]!, C[b!]!, C[c!]!, 4);
    enc += b64From24(0, 0, C[63]!, 2);
  } else {
    for (const [a, b, c] of SHA256_ORDER) enc += b64From24(C[a!]!, C[b!]!, C[c!]!, 4);
    enc += b64From24(0, C[31]!, C[30]!, 3);
  }
  const id = algo === 'sha512' ? '6' : '5';
  return `$${id}$${rounds === undefined ? '' : `rounds=${n}$`}${S.toString('utf8')}$${enc}`;
}

/**
 * Rounds Ansible uses when none are given (passlib's defaults; ansible-core prefers passlib when installed, as
 * Debian's package does), so the same password and salt give byte-identical hashes and the `user` module stays
 * idempotent across both tools.
 */
const DEFAULT_ROUNDS = { sha512: 656000, sha256: 535000 } as const;
/** Hashing at 656000 rounds takes seconds: the same password, salt and rounds are hashed once per process. */
const passwordHashCache = new Map<string, string>();

/** Ansible's password_hash('sha512'|'sha256', salt?, rounds=?): a random 16-character salt when none is given. */
function passwordHash(value: unknown, pos: unknown[], kw: Mapping): string {
  const scheme = str(arg(pos, kw, 0, 'hashtype', 'sha512'));
  const algo = scheme === 'sha512' || scheme === 'sha512_crypt' ? 'sha512' : scheme === 'sha256' || scheme === 'sha256_crypt' ? 'sha256' : undefined;
  if (!algo) throw new JinjaRuntimeError(`password_hash: unsupported hash type '${scheme}' (use sha512 or sha256)`);
  const saltArg = arg(pos, kw, 1, 'salt');
  const salt =
    saltArg === undefined || saltArg === null
      ? Array.from(randomBytes(16), (b) => CRYPT_ALPHABET[b & 0x3f]).join('')
      : str(saltArg);
  if (!/^[./0-9A-Za-z]*$/.test(salt)) throw new JinjaRuntimeError('password_hash: the salt may only use the characters ./0-9A-Za-z');
  const roundsArg = arg(pos, kw, 3, 'rounds');
  const rounds = roundsArg === undefined || roundsArg === null ? DEFAULT_ROUNDS[algo] : toInt(roundsArg, DEFAULT_ROUNDS[algo]);
  const key = `${algo}\u0000${rounds}\u0000${salt}\u0000${str(value)}`;
  let out = passwordHashCache.get(key);
  if (out === undefined) {
    out = shaCrypt(str(value), salt, algo, rounds);
    passwordHashCache.set(key, out);
  }
  return out;
}

function hashOf(value: unknown, algo: string): string {
  const map: Record<string, string> = { sha1: 'sha1', md5: 'md5', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
  const a = map[algo];
  if (!a) throw new JinjaRuntimeError(`hash: unsupported algorithm '${algo}' (use one of ${Object.keys(map).join(', ')})`);
  return createHash(a).update(str(value), 'utf8').digest('hex');
}

function selectWith(items: unknown[], pos: unknown[], env: FilterEnv, want: boolean, attr?: string): unknown[] {
  const [testName, ...testArgs] = pos;
  const pick = (x: unknown): unknown => (attr === undefined ? x : attrPath(x, attr));
  return items.filter((x) => {
    const v = pick(x);
    const ok = testName === undefined ? truthy(v) : env.test(str(testName))(v, testArgs, env);
    return ok === want;
  });
}

function flatten(items: unknown[], levels: number | null, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const x of items) {
    const v = unwrapUnsafe(x);
    if (Array.isArray(v) && (levels === null || levels > 0)) out.push(...flatten(v, levels === null ? null : levels - 1, skipNulls));
    else if (!(skipNulls && (v === null || v === 'None'))) out.push(v);
  }
  return out;
}

function minMax(value: unknown, kw: Mapping, sign: 1 | -1): unknown {
  const items = toList(value);
  if (items.length === 0) return new Undefined('', undefined, `${sign > 0 ? 'max' : 'min'}() of an empty sequence`);
  const attribute = kw.attribute;
  const key = (x: unknown): unknown => (attribute === undefined ? x : attrPath(x, str(attribute)));
  let best = items[0];
  for (const x of items.slice(1)) if (pyCompare(key(x), key(best), '<') * sign > 0) best = x;
  return best;
}

function items2dict(value: unknown, kw: Mapping): Mapping {
  const kn = str(kw.key_name ?? 'key');
  const vn = str(kw.value_name ?? 'value');
  const out: Mapping = {};
  for (const it of toList(value)) {
    const k = attrPath(it, kn);
    out[str(defined(k))] = defined(attrPath(it, vn));
  }
  return out;
}

function versionParts(v: string): (number | string)[] {
  return v.split(/[.\-+_~]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** LooseVersion-style comparison used by Ansible's `version` test. */
export function compareVersions(a: string, b: string): number {
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // Numbers sort before strings, as LooseVersion does when comparing mixed parts.
    if (typeof x === 'number') return 1;
    if (typeof y === 'number') return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function versionTest(value: unknown, pos: unknown[]): boolean {
  const other = str(defined(pos[0]));
  const op = str(pos[1] ?? 'eq');
  const c = compareVersions(str(value), other);
  switch (op) {
    case '<':
    case 'lt':
      return c < 0;
    case '<=':
    case 'le':
      return c <= 0;
    case '>':
    case 'gt':
      return c > 0;
    case '>=':
    case 'ge':
      return c >= 0;
    case '==':
    case '=':
    case 'eq':
      return c === 0;
    case '!=':
    case '<>':
    case 'ne':
      return c !== 0;
    default:
      throw new JinjaRuntimeError(`version: invalid operator '${op}'`);
  }
}

function resultDict(value: unknown, test: string): Mapping {
  const v = unwrapUnsafe(value);
  if (isLazyMapping(v)) return Object.fromEntries(v.keys().map((k) => [k, v.get(k)]));
  if (!isMapping(v)) throw new JinjaRuntimeError(`the '${test}' test expects a registered task result (a dictionary), got '${typeName(v)}'`);
  return v;
}

// ───────────────────────────── comment, controller paths, math ─────────────────────────────

const COMMENT_STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

/** Ansible's `comment` filter: the text as a comment block of a style, every part overridable by keyword. */
function commentFilter(value: unknown, pos: unknown[], kw: Mapping): string {
  const styleName = str(arg(pos, kw, 0, 'style', 'plain'));
  const style = Object.hasOwn(COMMENT_STYLES, styleName) ? COMMENT_STYLES[styleName]! : undefined;
  if (!style) throw new JinjaRuntimeError(`comment: unknown style '${styleName}' (known: ${Object.keys(COMMENT_STYLES).join(', ')})`);
  const own = Object.fromEntries(Object.entries(kw).filter(([k]) => k !== 'style').map(([k, v]) => [k, unwrapUnsafe(v)]));
  const prepostfix = str(own['decoration'] ?? style['decoration']).trimEnd();
  const p: Record<string, unknown> = { newline: '\n', beginning: '', prefix: prepostfix, prefix_count: 1, decoration: '', postfix: prepostfix, postfix_count: 1, end: '', ...style, ...own };
  const nl = str(p['newline']);
  const decoration = str(p['decoration']);
  const prefix = str(p['prefix']);
  const beginning = p['beginning'] ? `${str(p['beginning'])}${nl}` : '';
  const prefixText = prefix ? (prefix !== nl ? `${prefix}${nl}` : nl).repeat(toInt(p['prefix_count'], 1)) : '';
  const text = `${decoration}${str(value).split(nl).join(`${nl}${decoration}`)}`.split(`${decoration}${nl}`).join(`${decoration.trimEnd()}${nl}`);
  const postfix = ['', ...Array.from({ length: toInt(p['postfix_count'], 1) }, () => str(p['postfix']))].join(nl);
  const end = p['end'] ? `${nl}${str(p['end'])}` : '';
  return `${beginning}${prefixText}${text}${postfix}${end}`;
}

/** Python's os.path tests on a controller path (Ansible's files tests): false for what cannot be a path. */
function pathTest(check: (p: string) => boolean): TestFn {
  return (v) => {
    const x = unwrapUnsafe(v);
    if (typeof x !== 'string') return false;
    try {
      return check(x);
    } catch {
      return false;
    }
  };
}

function sameFile(a: string, b: string): boolean {
  const stat = (p: string): Stats => {
    try {
      return statSync(p);
    } catch (e) {
      throw new JinjaRuntimeError(`same_file: ${(e as Error).message}`);
    }
  };
  const [x, y] = [stat(a), stat(b)];
  return x.dev === y.dev && x.ino === y.ino;
}

function isMountPoint(p: string): boolean {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return false;
  const parent = statSync(path.join(p, '..'));
  return st.dev !== parent.dev || st.ino === parent.ino;
}

/** Python's math.log(x[, base]). */
/** Python's shlex.quote, which Ansible's quote filter is: the same text, byte for byte. */
function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function pyLog(v: unknown, base: unknown): number {
  const x = toFloat(v, NaN);
  if (!(x > 0)) throw new JinjaRuntimeError('log: math domain error');
  return base === undefined ? Math.log(x) : Math.log(x) / Math.log(toFloat(base, Math.E));
}

const SIZE_RANGES: [string, number][] = [['Y', 2 ** 80], ['Z', 2 ** 70], ['E', 2 ** 60], ['P', 2 ** 50], ['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10], ['B', 1]];

/** Ansible's human_readable (bytes_to_human): `'%.2f %s'` in the largest unit that fits, or the one asked for. */
function humanReadable(value: unknown, isbits: boolean, unit: unknown): string {
  const size = toFloat(value, NaN);
  if (Number.isNaN(size)) throw new JinjaRuntimeError(`human_readable() can't interpret following string: ${str(value)}`);
  const wanted = unit === undefined || unit === null ? undefined : str(unit).toUpperCase()[0];
  const [suffix, limit] = SIZE_RANGES.find(([s, l]) => (wanted === undefined ? size >= l : wanted === s)) ?? SIZE_RANGES[SIZE_RANGES.length - 1]!;
  const base = isbits ? 'bits' : 'Bytes';
  return `${(size / limit).toFixed(2)} ${limit !== 1 ? suffix + base[0] : base}`;
}

/** Ansible's human_to_bytes: '10M' → 10485760; `isbits` expects Mb, Kb … */
function humanToBytes(value: unknown, defaultUnit: unknown, isbits: boolean): number {
  const text = str(value);
  const fail = (why = ''): never => {
    throw new JinjaRuntimeError(`human_to_bytes() can't interpret following string: ${text}${why}`);
  };
  const m = /^\s*(\d*\.?\d*)\s*([A-Za-z]+)?/.exec(text);
  if (!m || m[1] === '' || m[1] === '.') return fail();
  const num = Number(m[1]);
  const unit = m[2] ?? (defaultUnit === undefined || defaultUnit === null ? undefined : str(defaultUnit));
  if (unit === undefined) return Math.round(num);
  const range = SIZE_RANGES.find(([s]) => s === unit[0]!.toUpperCase());
  if (!range) return fail(` (the suffix must be one of ${SIZE_RANGES.map(([s]) => s).join(', ')})`);
  const [unitClass, unitName] = isbits ? ['b', 'bit'] : ['B', 'byte'];
  if (unit.length > 1 && !unit.toLowerCase().includes(unitName) && unit[1] !== unitClass) return fail(` (expect ${range[0]}${unitClass} or ${range[0]})`);
  return Math.round(num * range[1]);
}

/** uuid.uuid5(namespace, name) as text, Ansible's to_uuid (its own namespace by default). */
function uuid5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new JinjaRuntimeError(`Invalid value '${namespace}' for 'namespace'`);
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Python's urllib.parse.urlsplit as Ansible's urlsplit filter returns it (a dict, or one component). */
function urlSplit(value: unknown, query: unknown): unknown {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s.exec(str(value))!;
  const netloc = m[2] ?? '';
  const at = netloc.lastIndexOf('@');
  const userinfo = at >= 0 ? netloc.slice(0, at) : undefined;
  const hostport = at >= 0 ? netloc.slice(at + 1) : netloc;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  const host = hp?.[1]?.replace(/^\[|\]$/g, '') ?? '';
  const parts: Mapping = {
    fragment: m[5] ?? '',
    hostname: host === '' ? null : host.toLowerCase(),
    netloc,
    password: userinfo !== undefined && userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : null,
    path: m[3] ?? '',
    port: hp?.[2] ? Number(hp[2]) : null,
    query: m[4] ?? '',
    scheme: (m[1] ?? '').toLowerCase(),
    username: userinfo === undefined ? null : userinfo.split(':')[0]!,
  };
  if (query === undefined || query === null || query === '') return parts;
  const key = str(query);
  if (!Object.hasOwn(parts, key)) throw new JinjaRuntimeError(`urlsplit: unknown URL component: ${key}`);
  return parts[key];
}

/** Ansible's subelements filter: [element, value] for each value of the list at the key path (elements keep it). */
function subelementsFilter(obj: unknown, keys: unknown, skipMissing: boolean): unknown[][] {
  const o = unwrapUnsafe(obj);
  const elements = Array.isArray(o) ? o : isMapping(o) ? Object.values(o) : undefined;
  if (!elements) throw new JinjaRuntimeError('subelements: obj must be a list of dicts or a nested dict');
  const k = unwrapUnsafe(keys);
  const path = Array.isArray(k) ? k.map(str) : typeof k === 'string' ? k.split('.') : undefined;
  if (!path) throw new JinjaRuntimeError('subelements must be a list or a string');
  const out: unknown[][] = [];
  for (const element of elements) {
    let values: unknown = unwrapUnsafe(element);
    for (const key of path) {
      if (!isMapping(values)) throw new JinjaRuntimeError(`the key ${key} should point to a dictionary, got '${pyStr(values)}'`);
      if (!Object.hasOwn(values, key)) {
        if (skipMissing) {
          values = [];
          break;
        }
        throw new JinjaRuntimeError(`could not find ${pyRepr(key)} key in iterated item ${pyRepr(values)}`);
      }
      values = unwrapUnsafe(values[key]);
    }
    if (!Array.isArray(values)) throw new JinjaRuntimeError(`the key ${pyRepr(path[path.length - 1])} should point to a list, got ${pyRepr(values)}`);
    for (const value of values) out.push([element, value]);
  }
  return out;
}

export const FILTERS: Record<string, FilterFn> = {
  default: (v, pos, kw) => {
    const dflt = arg(pos, kw, 0, 'default_value', '');
    const boolean = truthy(arg(pos, kw, 1, 'boolean', false));
    if (v instanceof Undefined) return dflt;
    if (boolean && !truthy(v)) return dflt;
    return v;
  },
  mandatory: (v, pos) => {
    if (v instanceof Undefined) {
      throw new UndefinedAccess(new Undefined(v.name, v.missingAttr, pos[0] === undefined ? `mandatory variable '${v.name}' is not defined` : str(pos[0])));
    }
    return v;
  },
  bool: (v) => toBool(v),
  int: (v, pos, kw) => toInt(v, toInt(arg(pos, kw, 0, 'default', 0), 0), toInt(arg(pos, kw, 1, 'base', 10), 10)),
  float: (v, pos, kw) => toFloat(v, toFloat(arg(pos, kw, 0, 'default', 0), 0)),
  string: (v) => str(v),
  abs: (v) => Math.abs(Number(unwrapUnsafe(v))),
  round: (v, pos, kw) => {
    const prec = toInt(arg(pos, kw, 0, 'precision', 0), 0);
    const method = str(arg(pos, kw, 1, 'method', 'common'));
    const f = 10 ** prec;
    const x = toFloat(v, 0) * f;
    const r = method === 'ceil' ? Math.ceil(x) : method === 'floor' ? Math.floor(x) : Math.sign(x) * Math.round(Math.abs(x));
    return r / f;
  },
  lower: (v) => str(v).toLowerCase(),
  upper: (v) => str(v).toUpperCase(),
  capitalize: (v) => STRING_METHODS.capitalize!(str(v)),
  title: (v) => STRING_METHODS.title!(str(v)),
  trim: (v, pos) => pyStrip(str(v), pos[0], true, true),
  replace: (v, pos) => {
    const s = str(v);
    const old = str(pos[0]);
    const nw = str(pos[1]);
    const count = pos[2] === undefined ? -1 : toInt(pos[2], -1);
    if (count < 0) return s.split(old).join(nw);
    const parts = s.split(old);
    return parts.slice(0, count + 1).join(nw) + (parts.length > count + 1 ? old + parts.slice(count + 1).join(old) : '');
  },
  regex_replace: (v, pos, kw) => regexReplace(v, pos, kw),
  regex_search: (v, pos, kw) => regexSearch(v, pos, kw),
  regex_findall: (v, pos, kw) => regexFindall(v, pos, kw),
  regex_escape: (v) => str(v).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'),
  format: (v, pos) => percentFormat(str(v), pos),
  join: (v, pos, kw) => {
    const attribute = arg(pos, kw, 1, 'attribute');
    const items = toList(v).map((x) => (attribute === undefined ? x : attrPath(x, str(attribute))));
    return items.map(str).join(str(arg(pos, kw, 0, 'd', '')));
  },
  split: (v, pos) => pySplit(str(v), pos[0], pos[1]),
  splitlines: (v) => splitLines(str(v)),
  length: (v) => {
    const x = unwrapUnsafe(defined(v));
    if (typeof x === 'string' || Array.isArray(x)) return Array.isArray(x) ? x.length : Array.from(x).length;
    if (isLazyMapping(x)) return x.keys().length;
    if (isMapping(x)) return Object.keys(x).length;
    throw new JinjaRuntimeError(`object of type '${typeName(x)}' has no len()`);
  },
  first: (v) => {
    const items = toList(v);
    return items.length ? items[0] : new Undefined('', undefined, 'first() of an empty sequence');
  },
  last: (v) => {
    const items = toList(v);
    return items.length ? items[items.length - 1] : new Undefined('', undefined, 'last() of an empty sequence');
  },
  min: (v, _pos, kw) => minMax(v, kw, -1),
  max: (v, _pos, kw) => minMax(v, kw, 1),
  sum: (v, pos, kw) => {
    const attribute = arg(pos, kw, 0, 'attribute');
    let total: unknown = arg(pos, kw, 1, 'start', 0);
    for (const x of toList(v)) total = pyArith('+', total, attribute === undefined ? x : attrPath(x, str(attribute)));
    return total;
  },
  unique: (v) => uniqueList(toList(v)),
  union: (v, pos) => uniqueList([...toList(v), ...toList(pos[0])]),
  difference: (v, pos) => {
    const other = toList(pos[0]);
    return uniqueList(toList(v).filter((x) => !other.some((y) => pyEq(x, y))));
  },
  intersect: (v, pos) => {
    const other = toList(pos[0]);
    return uniqueList(toList(v).filter((x) => other.some((y) => pyEq(x, y))));
  },
  symmetric_difference: (v, pos) => {
    const a = toList(v);
    const b = toList(pos[0]);
    return uniqueList([...a.filter((x) => !b.some((y) => pyEq(x, y))), ...b.filter((x) => !a.some((y) => pyEq(x, y)))]);
  },
  sort: (v, pos, kw) =>
    sortKey(toList(v), arg(pos, kw, 2, 'attribute'), truthy(arg(pos, kw, 0, 'reverse', false)), truthy(arg(pos, kw, 1, 'case_sensitive', false))),
  reverse: (v) => {
    const x = unwrapUnsafe(defined(v));
    return typeof x === 'string' ? Array.from(x).reverse().join('') : [...toList(x)].reverse();
  },
  flatten: (v, pos, kw) => {
    const levels = arg(pos, kw, 0, 'levels');
    return flatten(toList(v), levels === undefined || levels === null ? null : toInt(levels, 0), truthy(kw.skip_nulls ?? true));
  },
  zip: (v, pos) => {
    const lists = [toList(v), ...pos.map((p) => toList(p))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
  },
  product: (v, pos) => {
    let out: unknown[][] = [[]];
    for (const l of [toList(v), ...pos.map((p) => toList(p))]) out = out.flatMap((prefix) => l.map((x) => [...prefix, x]));
    return out;
  },
  select: (v, pos, _kw, env) => selectWith(toList(v), pos, env, true),
  reject: (v, pos, _kw, env) => selectWith(toList(v), pos, env, false),
  selectattr: (v, pos, _kw, env) => selectWith(toList(v), pos.slice(1), env, true, str(pos[0])),
  rejectattr: (v, pos, _kw, env) => selectWith(toList(v), pos.slice(1), env, false, str(pos[0])),
  map: (v, pos, kw, env) => {
    const items = toList(v);
    if (kw.attribute !== undefined) {
      const a = str(kw.attribute);
      return items.map((x) => {
        const got = attrPath(x, a);
        return got instanceof Undefined && Object.hasOwn(kw, 'default') ? kw.default : got;
      });
    }
    if (pos.length === 0) throw new JinjaRuntimeError("map: give a filter name or attribute='…'");
    const f = env.filter(str(pos[0]));
    return items.map((x) => f(x, pos.slice(1), kw, env));
  },
  extract: (v, pos) => {
    let out = getAttr(pos[0], v, `extract(${pyRepr(unwrapUnsafe(v))})`);
    if (pos[1] !== undefined) {
      const path = Array.isArray(unwrapUnsafe(pos[1])) ? (unwrapUnsafe(pos[1]) as unknown[]) : [pos[1]];
      for (const k of path) out = getAttr(out, k, `extract(${pyRepr(unwrapUnsafe(v))})`);
    }
    return out;
  },
  attr: (v, pos) => getAttr(v, pos[0], `attr(${pyRepr(pos[0])})`),
  list: (v) => [...toList(v)],
  items: (v) => mappingEntries(v, 'items'),
  dict2items: (v, pos, kw) => {
    const kn = str(arg(pos, kw, 0, 'key_name', 'key'));
    const vn = str(arg(pos, kw, 1, 'value_name', 'value'));
    return mappingEntries(v, 'dict2items').map(([k, x]) => ({ [kn]: k, [vn]: x }));
  },
  items2dict: (v, pos, kw) => items2dict(v, { key_name: arg(pos, kw, 0, 'key_name', 'key'), value_name: arg(pos, kw, 1, 'value_name', 'value') }),
  dict: (v) => Object.fromEntries(toList(v).map((p) => toList(p) as [string, unknown])),
  combine: (v, pos, kw) => combine([v, ...pos], truthy(kw.recursive ?? false), str(kw.list_merge ?? 'replace')),
  groupby: (v, pos, kw) => {
    const attribute = str(arg(pos, kw, 0, 'attribute'));
    const groups: [unknown, unknown[]][] = [];
    for (const item of sortKey(toList(v), attribute, false, true)) {
      const key = attrPath(item, attribute);
      const last = groups[groups.length - 1];
      if (last && pyEq(last[0], key)) last[1].push(item);
      else groups.push([key, [item]]);
    }
    return groups;
  },
  batch: (v, pos) => {
    const n = toInt(pos[0], 1);
    if (n < 1) throw new JinjaRuntimeError('batch: size must be at least 1');
    const items = toList(v);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const last = out[out.length - 1];
    if (pos.length > 1 && last) while (last.length < n) last.push(pos[1]);
    return out;
  },
  dictsort: (v, pos) => {
    const entries = mappingEntries(v, 'dictsort');
    const byValue = str(pos[1] ?? 'key') === 'value';
    return entries.sort((a, b) => pyCompare(byValue ? a[1] : a[0].toLowerCase(), byValue ? b[1] : b[0].toLowerCase(), '<'));
  },
  to_json: (v, _pos, kw) => pyJson(v, kw.indent === undefined ? undefined : toInt(kw.indent, 0), truthy(kw.sort_keys ?? false)),
  tojson: (v, pos) => pyJson(v, pos[0] === undefined ? undefined : toInt(pos[0], 0), true),
  to_nice_json: (v, pos, kw) => pyJson(v, toInt(arg(pos, kw, 0, 'indent', 4), 4), truthy(kw.sort_keys ?? true)),
  from_json: (v) => {
    try {
      return JSON.parse(str(v)) as unknown;
    } catch (e) {
      throw new JinjaRuntimeError(`from_json: ${jsonErrorWithoutText((e as Error).message)}`);
    }
  },
  to_yaml: (v, _pos, kw) => dumpYaml(v, toInt(kw.indent ?? 2, 2), true, truthy(kw.sort_keys ?? true)),
  to_nice_yaml: (v, pos, kw) => dumpYaml(v, toInt(arg(pos, kw, 0, 'indent', 4), 4), false, truthy(kw.sort_keys ?? true)),
  from_yaml: (v) => {
    try {
      // PyYAML's reading, as Ansible's from_yaml: `yes` is true, `0755` octal.
      return (parseYaml(str(v), PLAIN_YAML_OPTIONS) as unknown) ?? null;
    } catch (e) {
      throw new JinjaRuntimeError(`from_yaml: ${(e as Error).message}`);
    }
  },
  from_yaml_all: (v) => {
    const docs = parseAllDocuments(str(v), PLAIN_YAML_OPTIONS);
    if (!Array.isArray(docs)) throw new JinjaRuntimeError('from_yaml_all: not a YAML stream');
    return docs.map((d) => d.toJS() as unknown);
  },
  b64encode: (v) => Buffer.from(str(v), 'utf8').toString('base64'),
  b64decode: (v) => Buffer.from(str(v), 'base64').toString('utf8'),
  basename: (v) => pyBasename(str(v)),
  dirname: (v) => pyDirname(str(v)),
  splitext: (v) => {
    const s = str(v);
    const base = pyBasename(s);
    const dot = base.lastIndexOf('.');
    if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [s, ''];
    const cut = s.length - (base.length - dot);
    return [s.slice(0, cut), s.slice(cut)];
  },
  path_join: (v) => {
    const parts = Array.isArray(unwrapUnsafe(v)) ? toList(v).map(str) : [str(v)];
    return parts.reduce((acc, p) => (p.startsWith('/') || acc === '' ? p : acc.endsWith('/') ? acc + p : `${acc}/${p}`), '');
  },
  quote: (v) => shlexQuote(str(v)),
  ternary: (v, pos) => {
    const x = unwrapUnsafe(defined(v));
    if (x === null && pos.length > 2) return pos[2];
    return truthy(x) ? pos[0] : pos[1];
  },
  hash: (v, pos) => hashOf(v, str(pos[0] ?? 'sha1')),
  checksum: (v) => hashOf(v, 'sha1'),
  sha1: (v) => hashOf(v, 'sha1'),
  md5: (v) => hashOf(v, 'md5'),
  password_hash: (v, pos, kw) => passwordHash(v, pos, kw),
  indent: (v, pos, kw) => {
    const width = arg(pos, kw, 0, 'width', 4);
    const pad = typeof width === 'string' ? width : ' '.repeat(toInt(width, 4));
    const first = truthy(arg(pos, kw, 1, 'first', false));
    const blank = truthy(arg(pos, kw, 2, 'blank', false));
    return str(v)
      .split('\n')
      .map((l, i) => ((i > 0 || first) && (blank || l.trim() !== '') ? pad + l : l))
      .join('\n');
  },
  type_debug: (v) => typeName(unwrapUnsafe(v)),
  // Ansible's to_datetime(string, format='%Y-%m-%d %H:%M:%S'): datetime.strptime.
  to_datetime: (v, pos, kw) => {
    const fmt = str(arg(pos, kw, 0, 'format', '%Y-%m-%d %H:%M:%S'));
    try {
      return strptime(str(v), fmt);
    } catch (e) {
      if (e instanceof StrptimeMismatch) throw new JinjaRuntimeError(`to_datetime: ${e.message}`);
      throw e;
    }
  },
  // `'%Y-%m-%d' | strftime(epoch?, utc=false)`, as Ansible's filter (the format is the input).
  strftime: (v, pos, kw) => {
    const second = arg(pos, kw, 0, 'second');
    const date = second === undefined || second === null ? new Date() : new Date(toFloat(second, 0) * 1000);
    return strftime(str(v), date, truthy(arg(pos, kw, 1, 'utc', false)));
  },
  safe: (v) => v,
  escape: (v) => str(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  random: () => {
    throw new JinjaRuntimeError('the random filter is not supported: vncplay runs must be reproducible');
  },
  comment: commentFilter,
  subelements: (v, pos, kw) => subelementsFilter(v, arg(pos, kw, 0, 'subelements'), truthy(arg(pos, kw, 1, 'skip_missing', false))),
  // Python's glob.glob on the controller, relative to the working directory (the wildcard in the last part only).
  fileglob: (v) => {
    const pattern = str(v);
    const slash = pattern.lastIndexOf('/');
    const dir = slash < 0 ? '' : pattern.slice(0, slash + 1);
    return globNames(dir === '' ? '.' : dir, pattern.slice(slash + 1)).map((n) => dir + n);
  },
  human_readable: (v, pos, kw) => humanReadable(v, truthy(arg(pos, kw, 0, 'isbits', false)), arg(pos, kw, 1, 'unit')),
  human_to_bytes: (v, pos, kw) => humanToBytes(v, arg(pos, kw, 0, 'default_unit'), truthy(arg(pos, kw, 1, 'isbits', false))),
  to_uuid: (v, pos, kw) => uuid5(str(v), str(arg(pos, kw, 0, 'namespace', '361E6D51-FAEC-444A-9079-341386DA8E2E'))),
  urlsplit: (v, pos, kw) => urlSplit(v, arg(pos, kw, 0, 'query')),
  expandvars: (v) => str(v).replace(/\$(\w+)|\$\{([^}]*)\}/g, (m, a?: string, b?: string) => process.env[a ?? b ?? ''] ?? m),
  // Controller paths, as Ansible's filters compute them on the controller.
  expanduser: (v) => str(v).replace(/^~(?=\/|$)/, homedir()),
  realpath: (v) => {
    const p = path.resolve(str(v));
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
  relpath: (v, pos, kw) => {
    const start = arg(pos, kw, 0, 'start');
    return path.relative(start === undefined || start === null ? process.cwd() : path.resolve(str(start)), path.resolve(str(v))) || '.';
  },
  log: (v, pos, kw) => pyLog(v, arg(pos, kw, 0, 'base')),
  pow: (v, pos, kw) => toFloat(v, NaN) ** toFloat(arg(pos, kw, 0, 'y'), NaN),
  root: (v, pos, kw) => {
    const base = toFloat(arg(pos, kw, 0, 'base', 2), 2);
    return base === 2 ? Math.sqrt(toFloat(v, NaN)) : toFloat(v, NaN) ** (1 / base);
  },
  zip_longest: (v, pos, kw) => {
    const lists = [v, ...pos].map((x) => toList(x));
    const fill = kw['fillvalue'] ?? null;
    const length = Math.max(0, ...lists.map((l) => l.length));
    return Array.from({ length }, (_, i) => lists.map((l) => (i < l.length ? l[i] : fill)));
  },
};
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;
FILTERS.e = FILTERS.escape!;

function cmpTest(op: string): TestFn {
  return (v, pos) => {
    const other = pos[0];
    switch (op) {
      case '==':
        return pyEq(v, other);
      case '!=':
        return !pyEq(v, other);
      case '<':
        return pyCompare(v, other, op) < 0;
      case '<=':
        return pyCompare(v, other, op) <= 0;
      case '>':
        return pyCompare(v, other, op) > 0;
      default:
        return pyCompare(v, other, op) >= 0;
    }
  };
}

function isTaskFailed(value: unknown): boolean {
  const r = resultDict(value, 'failed');
  return truthy(r.failed ?? false);
}

export const TESTS: Record<string, TestFn> = {
  defined: (v) => !(v instanceof Undefined),
  undefined: (v) => v instanceof Undefined,
  none: (v) => unwrapUnsafe(v) === null || unwrapUnsafe(v) === undefined,
  string: (v) => typeof unwrapUnsafe(v) === 'string',
  number: (v) => typeof unwrapUnsafe(v) === 'number',
  integer: (v) => Number.isInteger(unwrapUnsafe(v)),
  float: (v) => typeof unwrapUnsafe(v) === 'number' && !Number.isInteger(unwrapUnsafe(v)),
  boolean: (v) => typeof unwrapUnsafe(v) === 'boolean',
  mapping: (v) => isMapping(unwrapUnsafe(v)),
  iterable: (v) => {
    const x = unwrapUnsafe(v);
    return typeof x === 'string' || Array.isArray(x) || isMapping(x);
  },
  sequence: (v) => {
    const x = unwrapUnsafe(v);
    return typeof x === 'string' || Array.isArray(x) || isMapping(x);
  },
  callable: (v) => typeof unwrapUnsafe(v) === 'function',
  sameas: (v, pos) => unwrapUnsafe(v) === unwrapUnsafe(pos[0]),
  eq: cmpTest('=='),
  equalto: cmpTest('=='),
  '==': cmpTest('=='),
  ne: cmpTest('!='),
  '!=': cmpTest('!='),
  lt: cmpTest('<'),
  lessthan: cmpTest('<'),
  '<': cmpTest('<'),
  le: cmpTest('<='),
  '<=': cmpTest('<='),
  gt: cmpTest('>'),
  greaterthan: cmpTest('>'),
  '>': cmpTest('>'),
  ge: cmpTest('>='),
  '>=': cmpTest('>='),
  in: (v, pos) => pyContains(pos[0], v),
  contains: (v, pos) => pyContains(v, pos[0]),
  odd: (v) => Number(unwrapUnsafe(v)) % 2 !== 0,
  even: (v) => Number(unwrapUnsafe(v)) % 2 === 0,
  divisibleby: (v, pos) => Number(unwrapUnsafe(v)) % Number(unwrapUnsafe(pos[0])) === 0,
  lower: (v) => str(v) === str(v).toLowerCase(),
  upper: (v) => str(v) === str(v).toUpperCase(),
  truthy: (v) => truthy(v),
  falsy: (v) => !truthy(v),
  true: (v) => unwrapUnsafe(v) === true,
  false: (v) => unwrapUnsafe(v) === false,
  match: (v, pos, _env) => {
    const re = pyRegex(pos[0], { ignorecase: pos[1], multiline: pos[2] });
    const m = re.exec(str(v));
    return m !== null && m.index === 0;
  },
  search: (v, pos) => pyRegex(pos[0], { ignorecase: pos[1], multiline: pos[2] }).test(str(v)),
  regex: (v, pos) => {
    const { pos: p, kw } = splitArgs(pos);
    const re = pyRegex(p[0], { ignorecase: kw.ignorecase ?? p[1], multiline: kw.multiline ?? p[2] });
    const m = re.exec(str(v));
    return str(kw.match_type ?? p[3] ?? 'search') === 'match' ? m !== null && m.index === 0 : m !== null;
  },
  version: (v, pos) => versionTest(v, pos),
  version_compare: (v, pos) => versionTest(v, pos),
  failed: (v) => isTaskFailed(v),
  failure: (v) => isTaskFailed(v),
  success: (v) => !isTaskFailed(v),
  succeeded: (v) => !isTaskFailed(v),
  changed: (v) => truthy(resultDict(v, 'changed').changed ?? false),
  change: (v) => truthy(resultDict(v, 'changed').changed ?? false),
  skipped: (v) => truthy(resultDict(v, 'skipped').skipped ?? false),
  skip: (v) => truthy(resultDict(v, 'skipped').skipped ?? false),
  finished: (v) => truthy(resultDict(v, 'finished').finished ?? true),
  subset: (v, pos) => toList(v).every((x) => toList(pos[0]).some((y) => pyEq(x, y))),
  superset: (v, pos) => toList(pos[0]).every((x) => toList(v).some((y) => pyEq(x, y))),
  any: (v) => toList(v).some(truthy),
  all: (v) => toList(v).every(truthy),
  issubset: (v, pos) => toList(v).every((x) => toList(pos[0]).some((y) => pyEq(x, y))),
  issuperset: (v, pos) => toList(pos[0]).every((x) => toList(v).some((y) => pyEq(x, y))),
  nan: (v) => Number.isNaN(unwrapUnsafe(v)),
  isnan: (v) => Number.isNaN(unwrapUnsafe(v)),
  // Controller paths (Ansible's files tests: Python's os.path on the machine running the playbook).
  file: pathTest((p) => statSync(p).isFile()),
  is_file: pathTest((p) => statSync(p).isFile()),
  directory: pathTest((p) => statSync(p).isDirectory()),
  is_dir: pathTest((p) => statSync(p).isDirectory()),
  link: pathTest((p) => lstatSync(p).isSymbolicLink()),
  is_link: pathTest((p) => lstatSync(p).isSymbolicLink()),
  exists: pathTest((p) => existsSync(p)),
  link_exists: pathTest((p) => (lstatSync(p), true)),
  abs: pathTest((p) => path.isAbsolute(p)),
  is_abs: pathTest((p) => path.isAbsolute(p)),
  // Python's samefile raises for a missing path (Ansible's test fails the task); so does this one.
  same_file: (v, pos) => sameFile(str(v), str(pos[0])),
  is_same_file: (v, pos) => sameFile(str(v), str(pos[0])),
  mount: pathTest(isMountPoint),
  is_mount: pathTest(isMountPoint),
};

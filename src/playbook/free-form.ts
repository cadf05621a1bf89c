import { isTemplateText, NO, toBoolean, toInteger, toList, toNumber, toStringValue } from '../modules/spec/convert.js';
import { Unsafe } from './filters.js';

/**
 * Ansible's string form of module arguments: `file: path=/x state=touch`, `command: chdir=/tmp ls -l`.
 * Splitting follows Ansible's split_args: whitespace separates, but not inside quotes or `{{ }}`/`{% %}`.
 */

/** Split on whitespace outside quotes and Jinja2 blocks; tokens keep their quotes. */
export function splitArgs(s: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let jinja = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const two = s.slice(i, i + 2);
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i]!;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (two === '{{' || two === '{%') {
      jinja++;
      cur += two;
      i++;
      continue;
    }
    if (jinja > 0 && (two === '}}' || two === '%}')) {
      jinja--;
      cur += two;
      i++;
      continue;
    }
    if (jinja === 0 && /\s/.test(c)) {
      if (cur) tokens.push(cur);
      cur = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    cur += c;
  }
  if (cur) tokens.push(cur);
  return tokens;
}

/**
 * `key=value` → [key, value], as Ansible's parse_kv reads it: backslash escapes decoded (`\n` is a newline), then
 * the value's outer quotes removed. Undefined when not a key=value token.
 */
export function parseKeyValue(token: string): [string, string] | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(token);
  if (!m) return undefined;
  return [m[1]!, unquote(decodeEscapes(m[2]!))];
}

/** Ansible's unquote(): outer quotes of one kind go, unless the last one is escaped. */
function unquote(v: string): string {
  const quoted = v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] && v[v.length - 2] !== '\\';
  return quoted ? v.slice(1, -1) : v;
}

/** The escapes of Ansible's _ESCAPE_SEQUENCE_RE, decoded as Python's unicode-escape codec does. */
const ESCAPE = /\\(?:U([0-9a-fA-F]{8})|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([\\'"abfnrtv]))/g;
const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * `\n`, `\t`, `\"`, `\\`, `\x41`, `\u00e9` … in a key=value token. Octal escapes stay as written, as in Ansible;
 * so does `\N{name}`, which Ansible decodes and vncplay cannot (it has no table of Unicode names).
 */
function decodeEscapes(text: string): string {
  return text.replace(ESCAPE, (whole, long?: string, short?: string, hex?: string, simple?: string) => {
    if (simple !== undefined) return SIMPLE_ESCAPES[simple]!;
    const code = parseInt(long ?? short ?? hex!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

// ───────────────────────────── Ansible's argument_spec type conversion ─────────────────────────────

/*
 * AnsibleModule converts each argument to its declared type before checking it
 * (ansible/module_utils/common/validation.py check_type_*): `port: "22"` is 22, `force: "yes"` is true, a
 * comma-separated string is a list. Templated values render to strings, so this matters most at run time;
 * key=value text has no types at all. One function does it for all three (load time, key=value, run time), by the
 * JSON Schema of a module not yet on the declarative spec; the conversions themselves are src/modules/spec/convert.ts.
 * What does not convert is left as it was, so the schema check reports the value the user wrote.
 */

export interface CoerceOptions {
  /**
   * True for values after templating (run time): a `{{` in them is literal text (from `!unsafe`) and converts
   * like any other string. False (the default) at load time, where a template string is kept for the runner.
   */
  rendered?: boolean;
}

const converters: Record<string, (v: unknown) => unknown> = {
  integer: toInteger,
  number: toNumber,
  boolean: toBoolean,
  string: toStringValue,
  array: toList,
};

type SchemaObject = Record<string, unknown>;

function isSchemaObject(s: unknown): s is SchemaObject {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

function typesOf(schema: SchemaObject): string[] {
  const t = schema.type;
  return Array.isArray(t) ? t.map(String) : typeof t === 'string' ? [t] : [];
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** The value already has one of the schema's types (and is one of its enum values, when it has some). */
function fits(v: unknown, schema: SchemaObject): boolean {
  const types = typesOf(schema);
  const t = jsonType(v);
  if (types.length > 0 && !types.includes(t) && !(t === 'integer' && types.includes('number'))) return false;
  if (Array.isArray(schema.enum) && !schema.enum.includes(v)) return false;
  if ('const' in schema && schema.const !== v) return false;
  return true;
}

function alternatives(schema: SchemaObject): SchemaObject[] | undefined {
  const list = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  return list?.filter(isSchemaObject);
}

/** Convert `v` to what `schema` wants, or NO. A value that already fits is only walked into (lists, mappings). */
function coerceTo(v: unknown, schema: SchemaObject, opts: CoerceOptions): unknown {
  const branches = alternatives(schema);
  if (branches && typesOf(schema).length === 0) {
    const fitting = branches.find((b) => fits(v, b));
    if (fitting) return inside(v, fitting, opts);
    for (const b of branches) {
      const c = coerceTo(v, b, opts);
      if (c !== NO) return c;
    }
    return NO;
  }
  if (fits(v, schema)) return inside(v, schema, opts);
  const types = typesOf(schema);
  // `{enum: [tcp, udp]}` without a type: Ansible's choices compare strings, so a number may match as text.
  const tries = types.length > 0 ? types : Array.isArray(schema.enum) && schema.enum.some((e) => typeof e === 'string') ? ['string'] : [];
  for (const t of tries) {
    const c = converters[t]?.(v) ?? NO;
    if (c !== NO && fits(c, schema)) return inside(c, schema, opts);
  }
  return NO;
}

/** Items of a list and properties of a mapping convert too (Ansible's `elements` and suboptions). */
function inside(v: unknown, schema: SchemaObject, opts: CoerceOptions): unknown {
  if (Array.isArray(v) && isSchemaObject(schema.items)) {
    const items = schema.items;
    const out = v.map((x) => coerceToSchemaType(x, items, opts));
    return out.some((x, i) => x !== v[i]) ? out : v;
  }
  if (isSchemaObject(v) && !(v instanceof Unsafe) && (isSchemaObject(schema.properties) || isSchemaObject(schema.additionalProperties))) {
    const out = coerceArgs(v, schema, opts);
    return out === v ? v : out;
  }
  return v;
}

/** Strings that came from `!unsafe` stay unsafe after conversion (a split list: each item). */
function rewrapUnsafe(v: unknown): unknown {
  if (typeof v === 'string') return new Unsafe(v);
  return Array.isArray(v) ? v.map(rewrapUnsafe) : v;
}

/**
 * `value` converted to the type `propSchema` asks for, following Ansible's rules; unchanged when it already
 * fits, when it cannot be converted (the schema check then refuses it), or when it is a template still to be
 * rendered (load time). An `!unsafe` value converts by its text and stays unsafe when it remains text.
 */
export function coerceToSchemaType(value: unknown, propSchema: unknown, opts: CoerceOptions = {}): unknown {
  if (!isSchemaObject(propSchema)) return value;
  if (value instanceof Unsafe) {
    const inner = value.value;
    const c = coerceToSchemaType(inner, propSchema, { ...opts, rendered: true });
    return c === inner ? value : rewrapUnsafe(c);
  }
  if (!opts.rendered && isTemplateText(value)) return value;
  const c = coerceTo(value, propSchema, opts);
  return c === NO ? value : c;
}

/**
 * Every argument of `args` converted by its property schema (unknown names are left for the schema check).
 * Returns `args` itself when nothing changed, else a copy.
 */
export function coerceArgs(args: Record<string, unknown>, schema: unknown, opts: CoerceOptions = {}): Record<string, unknown> {
  if (!isSchemaObject(schema)) return args;
  const props = isSchemaObject(schema.properties) ? schema.properties : {};
  const rest = schema.additionalProperties;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(args)) {
    const prop = Object.hasOwn(props, k) ? props[k] : rest;
    const c = coerceToSchemaType(v, prop, opts);
    if (c !== v) (out ??= { ...args })[k] = c;
  }
  return out ?? args;
}

import { pyStr, Unsafe, unwrapUnsafe } from '../../playbook/filters.js';
import { suggest } from '../../playbook/suggest.js';
import { isTemplateText, NO, toBoolean, toDict, toInteger, toList, toMode, toNumber, toStringValue } from './convert.js';
import type { ArgsOf, ModuleSpec, Options, ParamSpec, ParamType } from './types.js';

/**
 * Arguments in, parsed arguments or positioned problems out: the spec's types convert (Ansible's rules, done
 * here once), aliases resolve to the canonical name, defaults fill in, choices and the cross-field rules are
 * checked. The loader calls it on the arguments as written (`rendered: false`: a template string is left for
 * later), the runner again on the rendered ones; a module's hooks only ever see the result.
 *
 * Order and meaning follow Ansible's ArgumentSpecValidator.validate, except where vncplay is stricter:
 * a parameter given under two of its names is an error (Ansible warns and takes the alias), a boolean is not a
 * number, a list or mapping is not a path (a `str` takes it as Ansible does, as Python's str() of it), and `null`
 * means "not given" (so the default applies). A `path` is not `~`-expanded here: the controller does not know the
 * remote user's home (the module or the host does it).
 */

/** One problem, with the path of the offending value inside the arguments (the loader maps it to a YAML node). */
export interface SpecIssue {
  path: (string | number)[];
  /** Point at the key (an unknown parameter) rather than at its value. */
  onKey: boolean;
  code: string;
  message: string;
  hint?: string;
  /** A removed parameter or value (`removedParams`, `removedValues`): Ansible refuses it only when the task runs. */
  runTimeOnly?: true;
  /** A cross-field rule's problem in Ansible's own words (its common/validation.py). */
  ansible?: string;
}

export interface ParseOptions {
  /** The module's name, for messages. */
  owner: string;
  /** false at load time: template strings ("{{ x }}") are not checked yet, the runner checks them rendered. */
  rendered: boolean;
}

export interface ParseResult<A> {
  /** The parsed arguments; only meaningful when `issues` is empty. */
  args: A;
  issues: SpecIssue[];
  /**
   * The arguments as written, under the names they were written with, each literal value converted to its type
   * (the loader keeps these in the task, so later checks see `port: 22`, not `"22"`).
   */
  converted: Record<string, unknown>;
}

export function parseArgs<O extends Options>(spec: ModuleSpec<O>, input: Record<string, unknown>, opts: ParseOptions): ParseResult<ArgsOf<O>> {
  const p = new Parser(opts);
  const converted: Record<string, unknown> = { ...input };
  const args = p.options(spec.options, input, [], converted, spec);
  if (p.issues.length === 0 && !p.pending && spec.check) {
    const found = spec.check(args as ArgsOf<O>) ?? [];
    for (const problem of Array.isArray(found) ? found : [found]) {
      const key = p.writtenName(problem.param);
      const hint = problem.hint ?? `see the parameters of \`${opts.owner}\` in the README's module reference`;
      p.issues.push({ path: key === undefined ? [] : [key, ...(problem.at ?? [])], onKey: false, code: 'E_MODULE_ARGS', message: problem.message, hint });
    }
  }
  return { args: args as ArgsOf<O>, issues: p.issues, converted };
}

const TYPE_WORDS: Record<ParamType, string> = {
  str: 'a string',
  path: 'a path (string)',
  int: 'an integer',
  float: 'a number',
  bool: 'a boolean (true/false)',
  list: 'a list',
  dict: 'a mapping',
  raw: 'any value',
  mode: "a file mode: a quoted octal ('0644') or symbolic ('u=rw,go=r') string",
};

const TYPE_HINTS: Record<ParamType, string> = {
  str: 'write a string',
  path: 'write a path',
  int: 'write a number without quotes, or a "{{ template }}" that renders to one',
  float: 'write a number without quotes, or a "{{ template }}" that renders to one',
  bool: 'write true or false (YAML also reads yes/no), or a "{{ template }}" that renders to one',
  list: 'write a YAML list (one `- item` per line, or [a, b]) or a comma-separated string',
  dict: 'write a mapping (indented `key: value` lines)',
  raw: '',
  mode: "quote an octal mode (mode: '0644'; YAML reads an unquoted 644 as the decimal number 644) or write it symbolically ('u=rw,g=r,o=', 'a+x')",
};

function convertScalar(type: ParamType, v: unknown): unknown {
  switch (type) {
    case 'str':
      // check_type_str converts a list or mapping too: Python's str() of it, `{'a': 1, 'b': [True, None]}`.
      return typeof v === 'object' && v !== null ? pyStr(v) : toStringValue(v);
    case 'path':
      return toStringValue(v);
    case 'int':
      return toInteger(v);
    case 'float':
      return toNumber(v);
    case 'bool':
      return toBoolean(v);
    case 'list':
      return toList(v);
    case 'dict':
      return toDict(v);
    case 'mode':
      return toMode(v);
    case 'raw':
      return v;
  }
}

/** What a value is, in words ("the string \"x\"", "a list"). */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

const quote = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

/** Each pattern compiled once per process (the runner parses every task's arguments on every host). */
const patterns = new Map<string, RegExp>();
function matches(pattern: string, text: string): boolean {
  let rx = patterns.get(pattern);
  if (!rx) patterns.set(pattern, (rx = new RegExp(pattern, 'u')));
  return rx.test(text);
}

/** What parsing needs from an options object, worked out once per object (not per task and host). */
interface Shape {
  /** Every name a parameter answers to → its canonical name. */
  byName: Map<string, string>;
  required: string[];
  defaults: [string, unknown][];
}
const shapes = new WeakMap<Options, Shape>();
function shapeOf(options: Options): Shape {
  let shape = shapes.get(options);
  if (!shape) {
    shape = { byName: new Map(), required: [], defaults: [] };
    for (const [name, p] of Object.entries(options)) {
      for (const n of [name, ...(p.aliases ?? [])]) shape.byName.set(n, name);
      if (p.required) shape.required.push(name);
      if (p.default !== undefined) shape.defaults.push([name, p.default]);
    }
    shapes.set(options, shape);
  }
  return shape;
}

/** A default the module may keep or change without touching the spec's own value. */
function copyOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

class Parser {
  readonly issues: SpecIssue[] = [];
  /** A template string was met (load time): module checks wait for the rendered values. */
  pending = false;
  /** Top-level canonical name → the name it was written with (for positions). */
  private readonly written = new Map<string, string>();

  constructor(private readonly opts: ParseOptions) {}

  writtenName(canonical: string): string | undefined {
    return this.written.get(canonical);
  }

  /** `input` checked against `options` (the module's, or a dict parameter's); `converted` gets the converted values. */
  options(options: Options, input: Record<string, unknown>, path: (string | number)[], converted: Record<string, unknown>, spec?: ModuleSpec): Record<string, unknown> {
    const shape = shapeOf(options);
    const byName = shape.byName;
    const out: Record<string, unknown> = {};
    const given = new Map<string, string>();
    /** Parameters whose value is a template still to render: present, but their value unknown. */
    const templated = new Set<string>();
    for (const [key, raw] of Object.entries(input)) {
      const name = byName.get(key);
      if (name === undefined) {
        this.unknownOrExtra(key, raw, path, options, out, spec);
        continue;
      }
      // `null` is "not given" (the default applies), except where any value is welcome (debug's msg: ~).
      if (raw === undefined || (raw === null && options[name]!.type !== 'raw')) continue;
      const first = given.get(name);
      if (first !== undefined) {
        this.issues.push({
          path: [...path, key],
          onKey: true,
          code: 'E_EXCLUSIVE_PARAMS',
          message: `\`${key}\` and \`${first}\` are names of the same parameter \`${name}\``,
          hint: `keep one of them`,
        });
        continue;
      }
      given.set(name, key);
      if (path.length === 0) this.written.set(name, key);
      const value = this.value(options[name]!, raw, [...path, key]);
      if (value === PENDING) {
        templated.add(name);
        continue;
      }
      if (value === NO) continue;
      out[name] = value;
      // Mappings are written back as they were: their parsed form carries defaults the task never wrote.
      const nested = options[name]!.type === 'dict' || options[name]!.elements === 'dict';
      if (!(raw instanceof Unsafe) && value !== raw && !nested) converted[key] = value;
    }
    for (const name of shape.required) if (!given.has(name)) this.missing(name, options[name]!, path);
    if (spec) this.rules(spec, out, given, path);
    for (const [name, value] of shape.defaults) if (out[name] === undefined && !templated.has(name)) out[name] = copyOf(value);
    return out;
  }

  private unknownOrExtra(key: string, raw: unknown, path: (string | number)[], options: Options, out: Record<string, unknown>, spec?: ModuleSpec): void {
    const extra = spec?.extra;
    if (extra) {
      if (matches(extra.pattern, key)) out[key] = this.opts.rendered ? unwrapUnsafe(raw) : raw;
      else this.issues.push({ path: [...path, key], onKey: true, code: 'E_MODULE_ARGS', message: `\`${key}\` is not ${extra.patternText}`, hint: extra.description });
      return;
    }
    const removed = path.length === 0 ? spec?.removedParams?.[key] : undefined;
    if (removed !== undefined) {
      this.issues.push({ path: [key], onKey: true, code: 'E_UNKNOWN_PARAM', message: `\`${key}\` is no longer a parameter of \`${this.opts.owner}\``, hint: removed, runTimeOnly: true });
      return;
    }
    const names = Object.keys(options).filter((n) => !options[n]!.ignored).sort();
    const near = suggest(key, [...names, ...Object.values(options).flatMap((p) => p.aliases ?? [])]);
    const where = path.length === 0 ? `module \`${this.opts.owner}\`` : `\`${pathText(path)}\``;
    this.issues.push({
      path: [...path, key],
      onKey: true,
      code: 'E_UNKNOWN_PARAM',
      message: `unknown parameter \`${key}\` for ${where}`,
      hint: near ? `did you mean \`${near}\`?` : `valid parameters: ${names.join(', ')}`,
    });
  }

  /** One value converted to its declared type; PENDING for a template still to render, NO after reporting a problem. */
  private value(p: ParamSpec, raw: unknown, path: (string | number)[]): unknown {
    if (!this.opts.rendered && isTemplateText(raw)) {
      this.pending = true;
      return PENDING;
    }
    const plain = unwrapUnsafe(raw);
    if (typeof plain === 'string' && p.keywords?.includes(plain)) return plain;
    const v = convertScalar(p.type, plain);
    if (v === NO) {
      this.typeIssue(p.type, plain, path);
      return NO;
    }
    if (p.type === 'list') return this.list(p, v as unknown[], path);
    if (p.type === 'dict' && p.options) {
      const before = this.issues.length;
      const out = this.options(p.options, v as Record<string, unknown>, path, {});
      return this.issues.length > before ? NO : out;
    }
    return this.constraints(p, v, path) ? v : NO;
  }

  private list(p: ParamSpec, items: unknown[], path: (string | number)[]): unknown {
    const element = p.elements;
    if (element === undefined) return items;
    const before = this.issues.length;
    const out: unknown[] = [];
    for (const [i, item] of items.entries()) {
      const v = this.value({ ...p, type: element }, item, [...path, i]);
      // An item still to render keeps its text: the runner checks the rendered list.
      out.push(v === PENDING ? item : v);
    }
    return this.issues.length > before ? NO : out;
  }

  /** choices, min/max, pattern; true when the value passes. */
  private constraints(p: ParamSpec, v: unknown, path: (string | number)[]): boolean {
    const name = (): string => valueName(path);
    if (p.choices && !p.choices.includes(v as string | number)) {
      const removed = typeof v === 'string' ? p.removedValues?.[v] : undefined;
      if (removed !== undefined) {
        this.issues.push({ path, onKey: false, code: 'E_ENUM', message: `${name()}: ${String(v)} is no longer accepted by \`${this.opts.owner}\``, hint: removed, runTimeOnly: true });
        return false;
      }
      const allowed = p.choices.map(String);
      const near = typeof v === 'string' ? suggest(v, allowed) : undefined;
      this.issues.push({
        path,
        onKey: false,
        code: 'E_ENUM',
        message: `${name()} must be one of ${quote(allowed)}, got ${describeValue(v)}`,
        hint: near ? `did you mean \`${near}\`?` : `use one of: ${allowed.join(', ')}`,
      });
      return false;
    }
    if (typeof v === 'number' && ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max))) {
      const range = p.max === undefined ? `at least ${p.min}` : p.min === undefined ? `at most ${p.max}` : `${p.min}-${p.max}`;
      this.issues.push({ path, onKey: false, code: 'E_RANGE', message: `${name()} must be ${range}, got ${describeValue(v)}`, hint: 'write a number in that range' });
      return false;
    }
    if (p.pattern !== undefined && typeof v === 'string' && !matches(p.pattern, v)) {
      this.issues.push({
        path,
        onKey: false,
        code: 'E_PATTERN',
        message: `${name()} must be ${p.patternText ?? `a string matching /${p.pattern}/`}, got ${describeValue(v)}`,
        hint: 'check the value for typos or stray characters',
      });
      return false;
    }
    return true;
  }

  private typeIssue(type: ParamType, v: unknown, path: (string | number)[]): void {
    const name = valueName(path);
    const orTemplate = this.opts.rendered ? '' : ' or a "{{ template }}" string';
    const fraction = type === 'int' && (typeof v === 'number' || (typeof v === 'string' && /^\s*[-+]?(\d*\.\d+|\d+\.\d*)\s*$/.test(v)));
    this.issues.push({
      path,
      onKey: false,
      code: 'E_TYPE',
      message: `${name} must be ${TYPE_WORDS[type]}${orTemplate}, got ${describeValue(v)}`,
      hint: fraction ? 'a whole number is needed here: Ansible converts "22" but not "1.5" or "1.0"' : TYPE_HINTS[type],
    });
  }

  private missing(name: string, p: ParamSpec, path: (string | number)[]): void {
    const aliases = p.aliases ?? [];
    this.issues.push({
      path,
      onKey: false,
      code: 'E_MISSING_PARAM',
      message: `missing required parameter \`${name}\` for ${path.length === 0 ? `module \`${this.opts.owner}\`` : `\`${pathText(path)}\``}`,
      hint: aliases.length > 0 ? `add \`${name}: …\` (or one of its aliases ${quote(aliases)})` : `add \`${name}: …\``,
    });
  }

  /**
   * The cross-field rules. A parameter whose value is a template counts as given for the rules that ask for a
   * parameter (it may render to a value) and as absent for those that forbid one (it may render to `omit`); so does
   * a parameter whose value was refused (its own error says what is wrong: "missing" would be a second, false one).
   */
  private rules(spec: ModuleSpec, out: Record<string, unknown>, given: Map<string, string>, path: (string | number)[]): void {
    const has = (n: string): boolean => out[n] !== undefined;
    const mayHave = (n: string): boolean => has(n) || given.has(n);
    const at = (n: string): (string | number)[] => [...path, given.get(n) ?? n];
    for (const group of spec.mutually_exclusive ?? []) {
      const present = group.filter(has);
      if (present.length > 1) {
        this.issues.push({
          path: at(present[1]!),
          onKey: false,
          code: 'E_EXCLUSIVE_PARAMS',
          message: `\`${present[1]}\` cannot be given with \`${present[0]}\`: ${quote(group)} are mutually exclusive`,
          hint: 'keep one of them',
          ansible: `parameters are mutually exclusive: ${group.join('|')}${foundIn(path)}`,
        });
      }
    }
    for (const group of spec.required_one_of ?? []) {
      if (group.some(mayHave)) continue;
      this.issues.push({
        path,
        onKey: false,
        code: 'E_MISSING_PARAM',
        message: `one of ${quote(group)} is required for module \`${this.opts.owner}\``,
        hint: `add \`${group[0]}: …\``,
        ansible: `one of the following is required: ${group.join(', ')}${foundIn(path)}`,
      });
    }
    for (const group of spec.required_together ?? []) {
      const present = group.filter(mayHave);
      const missing = group.filter((n) => !mayHave(n));
      if (present.length === 0 || missing.length === 0) continue;
      this.issues.push({
        path: at(present[0]!),
        onKey: false,
        code: 'E_MISSING_PARAM',
        message: `\`${present[0]}\` needs ${quote(missing)} too: ${quote(group)} go together`,
        hint: `add ${missing.map((m) => `\`${m}: …\``).join(', ')} or remove \`${present[0]}\``,
        ansible: `parameters are required together: ${group.join(', ')}${foundIn(path)}`,
      });
    }
    for (const [param, value, then, anyOf] of spec.required_if ?? []) {
      if (!has(param) || out[param] !== value) continue;
      const missing = then.filter((n) => !mayHave(n));
      if (missing.length === 0 || (anyOf && missing.length < then.length)) continue;
      const what = anyOf ? `one of ${quote(then)} is required` : `${quote(missing)} ${missing.length > 1 ? 'are' : 'is'} required`;
      this.issues.push({
        path: at(param),
        onKey: false,
        code: 'E_MISSING_PARAM',
        message: `\`${param}\` is ${JSON.stringify(value)}, so ${what}`,
        hint: `add \`${(anyOf ? then : missing)[0]}: …\``,
        ansible: `${param} is ${pyStr(value)} but ${anyOf ? 'any' : 'all'} of the following are missing: ${missing.join(', ')}${foundIn(path)}`,
      });
    }
    for (const [param, needs] of Object.entries(spec.required_by ?? {})) {
      if (!has(param)) continue;
      const missing = needs.filter((n) => !mayHave(n));
      if (missing.length === 0) continue;
      this.issues.push({
        path: at(param),
        onKey: false,
        code: 'E_MISSING_PARAM',
        message: `\`${param}\` needs ${quote(missing)}`,
        hint: `add \`${missing[0]}: …\` or remove \`${param}\``,
        ansible: `missing parameter(s) required by '${param}': ${missing.join(', ')}${foundIn(path)}`,
      });
    }
  }
}

/** Ansible's " found in a -> b" for a problem inside a dict parameter (list items are not named); empty at the top. */
export function foundIn(path: readonly (string | number)[]): string {
  const names = path.filter((p): p is string => typeof p === 'string');
  return names.length > 0 ? ` found in ${names.join(' -> ')}` : '';
}

const PENDING: unique symbol = Symbol('template still to render');

/** How a message names a value: `` `port` ``, `` `rules[0].cidr` ``, `` item 1 of `hosts` ``. */
function valueName(path: readonly (string | number)[]): string {
  const last = path[path.length - 1];
  return typeof last === 'number' ? `item ${last} of \`${pathText(path.slice(0, -1))}\`` : `\`${pathText(path)}\``;
}

/** `rules[0].cidr` for a path. */
function pathText(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Issues as one line for a run-time failure: `systemd: \`enabled\` must be …; …`. The module's name is said once. */
export function issuesText(owner: string, issues: readonly SpecIssue[]): string {
  return `${owner}: ${issues.map((i) => i.message).join('; ')}`;
}

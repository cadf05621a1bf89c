import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { TemplateError, VaultError, formatExcerpt, nearest, type SourcePos } from '../errors.js';
import { decryptFileText, recordSecret } from '../vault/session.js';
import { callPlugin, hasPlugin, pluginNamesKnown } from './python-plugins.js';
import { setOwn } from './own-keys.js';
import { passwordLookup } from './password-lookup.js';
import { PyDatetime, PyObject } from './py-datetime.js';
import {
  FILTERS,
  JinjaRuntimeError,
  TESTS,
  UNDEFINED_FALSE_TESTS,
  UNDEFINED_SAFE_FILTERS,
  UNDEFINED_SAFE_TESTS,
  Undefined,
  UndefinedAccess,
  Unsafe,
  getAttr,
  isMapping,
  mappingEntries as mappingEntriesOf,
  pyArith,
  pyCompare,
  pyContains,
  pyEq,
  pyStr,
  splitArgs,
  toList,
  truthy,
  unwrapUnsafe,
  type FilterEnv,
  type FilterFn,
  type Mapping,
  type TestFn,
} from './filters.js';
import {
  BASE_LOOKUPS,
  LookupError,
  canonicalLookupName,
  controllerCandidates,
  findControllerFile,
  asIterable,
  listifyTerms,
  unknownLookupHint,
  type ControllerSubdir,
  type LookupEnv,
  type LookupFn,
  type LookupPlugin,
} from './lookups.js';

export { Unsafe, Undefined, markUnsafe, isUnsafe, unwrapUnsafe } from './filters.js';
// The runner and modules import conditionals from here; the implementation lives in conditional.ts.
export { evaluateCondition } from './conditional.js';

/*
 * Jinja2-compatible rendering on top of nunjucks' lexer and parser.
 *
 * nunjucks parses Jinja syntax well but compiles it to JavaScript operators (`[]` is truthy, `'1' == 1`,
 * lists add as strings, a missing variable is silently empty). We keep its parser and code generator and
 * override the node compilers whose semantics differ, so every operator, lookup, filter and test call goes
 * through the Python-like helpers in filters.ts. The compiled code runs with our own runtime object; the
 * global nunjucks runtime is never patched, so another nunjucks user in the process is unaffected.
 */

// ───────────────────────────── nunjucks internals we build on (untyped in @types/nunjucks) ─────────────────────

interface NjNode {
  typename: string;
  lineno: number;
  colno: number;
  children: NjNode[];
  value?: unknown;
  [field: string]: unknown;
}
interface NjFrame {
  lookup(name: string): unknown;
  set(name: string, value: unknown, resolveUp?: boolean): void;
  /** A child frame: reads fall through to this one, writes stay in the child. */
  push(isolateWrites?: boolean): NjFrame;
}
interface NjCompilerBase {
  codebuf: string[];
  _emit(code: string): void;
  _emitLine(code: string): void;
  compile(node: NjNode, frame: NjFrame): void;
  _compileExpression(node: NjNode, frame: NjFrame): void;
  _compileAggregate(node: NjNode, frame: NjFrame, start?: string, end?: string): void;
  _withScopedSyntax(f: () => void): void;
  _getNodeName(node: NjNode): string;
  fail(msg: string, lineno?: number, colno?: number): never;
  getCode(): string;
}
interface NjParserBase {
  tokens: unknown;
  peeked: unknown;
  extensions: unknown[];
  parseAsRoot(): NjNode;
  peekToken(): NjToken | null;
  nextToken(): NjToken | null;
  parseSignature(): NjNode;
  parseAggregate(): NjNode;
  fail(msg: string, lineno?: number, colno?: number): never;
}
interface NjToken {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface NjNodeClass {
  new (lineno: number, colno: number, ...fields: unknown[]): NjNode;
}
interface NjInternals {
  compiler: { Compiler: new (name?: string, throwOnUndefined?: boolean) => NjCompilerBase };
  parser: { Parser: new (tokens: unknown) => NjParserBase };
  lexer: { lex(src: string, opts: Record<string, unknown>): unknown; TOKEN_INT: string; TOKEN_SYMBOL: string; TOKEN_OPERATOR: string; TOKEN_LEFT_PAREN: string; TOKEN_LEFT_BRACKET: string };
  nodes: Record<string, NjNodeClass>;
  runtime: Record<string, unknown> & { Frame: new () => NjFrame };
  lib: { TemplateError: new (msg: string, lineno?: number, colno?: number) => Error };
}

const nj = nunjucks as unknown as NjInternals;
const { nodes: njNodes, lexer: njLexer } = nj;
const CompilerBase = nj.compiler.Compiler;
const ParserBase = nj.parser.Parser;

// ───────────────────────────── public surface ─────────────────────────────

/**
 * Ansible's `omit`: a module argument whose value renders to this string is dropped (render() removes such keys
 * and list items). A string, so it survives filters like `default(omit)`.
 */
export const OMIT = '__omit_place_holder__vncplay_5f1c2e';

/** How a template is rendered: lexer options as Ansible's Templar sets them (trim_blocks on). */
export interface TemplateOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** The template file's path: errors then point at file:line:col inside it (and name `where` as the user). */
  file?: string;
}

/** True when a string would be treated as a template (`{{`, `{%` or `{#`). */
export function isTemplateString(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

/** True when any string inside `value` (deep, outside Unsafe) is a template. Cached for objects. */
export function containsTemplate(value: unknown): boolean {
  return (scan(value) & HAS_TEMPLATE) !== 0;
}

const HAS_TEMPLATE = 1;
const HAS_UNSAFE = 2;
/** What a value holds (templates, Unsafe wrappers), cached per object: vars are read far more than written. */
const scanCache = new WeakMap<object, number>();

function scan(value: unknown): number {
  if (typeof value === 'string') return isTemplateString(value) ? HAS_TEMPLATE : 0;
  if (typeof value !== 'object' || value === null) return 0;
  if (value instanceof Unsafe) return HAS_UNSAFE;
  const cached = scanCache.get(value);
  if (cached !== undefined) return cached;
  let flags = 0;
  if (Array.isArray(value)) for (const v of value) flags |= scan(v);
  else if (isPlainObject(value)) for (const k in value) flags |= scan(value[k]);
  scanCache.set(value, flags);
  return flags;
}

/**
 * Render every string inside `value` (deep through plain objects and arrays) with Ansible semantics.
 * A string that is exactly one `{{ expr }}` yields the expression's native value (list, dict, number, bool);
 * any other template yields a string; strings without template markers are returned untouched. Unsafe values
 * are unwrapped and never rendered. Object keys and list items that render to `omit` are dropped.
 * Throws TemplateError (codes E_TEMPLATE_UNDEFINED, E_TEMPLATE_SYNTAX, E_TEMPLATE_CYCLE, E_TEMPLATE_FILTER,
 * E_TEMPLATE_LOOKUP, E_TEMPLATE_RUNTIME) positioned at `where`.
 */
export function render(value: unknown, vars: Record<string, unknown>, where?: SourcePos): unknown {
  if (typeof value === 'string' && !isTemplateString(value)) return value;
  const state = newState(vars, where);
  return withErrors(state, value, () => renderDeep(value, state, true));
}

/**
 * render() that also says whether host data (Unsafe values) was read while rendering. Conditionals use it to
 * decide whether a rendered string may be evaluated again as an expression (Ansible's legacy `when: "{{ x }} == 1"`).
 */
export function renderTracked(value: unknown, vars: Record<string, unknown>, where?: SourcePos): { value: unknown; unsafeRead: boolean } {
  const state = newState(vars, where);
  const out = withErrors(state, value, () => renderDeep(value, state, true));
  return { value: out, unsafeRead: state.unsafeRead };
}

/** Render a template (a `template:` file or ctx.render) to text; never native. */
export function renderText(
  source: string,
  vars: Record<string, unknown>,
  where?: SourcePos,
  opts: TemplateOptions = {},
): string {
  if (!isTemplateString(source)) return source;
  const state = newState(vars, where);
  if (opts.file !== undefined) state.templateFile = opts.file;
  state.lexing = opts;
  return withErrors(state, source, () => {
    const compiled = compile(source, 'text', opts);
    return compiled.kind === 'text' ? runText(compiled, state) : pyStr(checkDefined(runExpr(compiled, state)));
  });
}

/**
 * Evaluate a bare Jinja expression (`result.rc != 0`, `x is defined`) and return its native value.
 * Used by conditionals and by `loop:`-style values written without braces.
 */
export function evaluateExpression(expr: string, vars: Record<string, unknown>, where?: SourcePos): unknown {
  const state = newState(vars, where);
  return withErrors(state, expr, () => checkDefined(runExpr(compileExpression(expr), state)));
}

/** Evaluate a bare expression for its Python truth value (Undefined raises). */
export function evaluateTruth(expr: string, vars: Record<string, unknown>, where?: SourcePos): boolean {
  const state = newState(vars, where);
  return withErrors(state, expr, () => truthy(runExpr(compileExpression(expr), state)));
}

/**
 * The value of one variable of `vars`, rendered lazily as a template reference to it would see it
 * (Unsafe unwrapped, `{{ }}` inside resolved). A missing variable raises E_TEMPLATE_UNDEFINED.
 */
export function resolveVariable(vars: Record<string, unknown>, name: string, where?: SourcePos): unknown {
  const state = newState(vars, where);
  return withErrors(state, name, () => {
    const v = resolveVar(state, name);
    return checkDefined(v === NOT_FOUND ? new Undefined(name) : v);
  });
}

/** Throw the positioned syntax error of a template without rendering it (for load-time validation). */
export function checkTemplateSyntax(value: unknown, where?: SourcePos): void {
  if (typeof value === 'string') {
    if (!isTemplateString(value)) return;
    const state = newState({}, where);
    withErrors(state, value, () => compile(value, 'value', {}));
  } else if (Array.isArray(value)) value.forEach((v) => checkTemplateSyntax(v, where));
  else if (isPlainObject(value)) Object.values(value).forEach((v) => checkTemplateSyntax(v, where));
}

/** Throw the positioned syntax error of a bare expression (`when: result.rc != 0`) without evaluating it. */
export function checkExpressionSyntax(expr: string, where?: SourcePos): void {
  const state = newState({}, where);
  withErrors(state, expr, () => compileExpression(expr));
}

/** A node of a parsed template (nunjucks' tree after our parser's changes), for static analysis. */
export type TemplateNode = NjNode;

/**
 * The parse tree of a playbook value (`{{ }}` text) or of a bare expression (`when:`), as render() would compile
 * it; for static checks that must read templates without evaluating them (undefined-vars.ts). Throws on a syntax
 * error (the loader reports those with positions).
 */
export function parseTemplateTree(source: string, kind: 'value' | 'expression'): TemplateNode {
  return kind === 'value' ? parse(source, {}, true) : parse(`{{ ${source} }}`, {}, false);
}

/** Names every template can use without defining them (lookup, query, range, dict, namespace …). */
export function templateGlobalNames(): string[] {
  return [...Object.keys(GLOBALS), ...Object.keys(LITERAL_SYMBOLS)];
}

/** Number of compiled templates held (for tests and metrics). */
export function templateCacheSize(): number {
  return cache.size;
}

// ───────────────────────────── render state and variable resolution ─────────────────────────────

interface RenderState {
  /** Path of the template file being rendered (renderText with opts.file), for error positions. */
  templateFile?: string;
  /** How the template being rendered was lexed: its `{% include %}`s are lexed the same way. */
  lexing?: TemplateOptions;
  /** Set once any host data (an Unsafe value) was read: conditionals refuse to evaluate such text again. */
  unsafeRead: boolean;
  vars: Record<string, unknown>;
  where: SourcePos | undefined;
  /** Variables being resolved right now, outermost first, for the cycle check. */
  resolving: string[];
  /** Each variable is rendered at most once per top-level call. */
  memo: Map<string, unknown>;
}

function newState(vars: Record<string, unknown>, where: SourcePos | undefined): RenderState {
  return { vars, where, resolving: [], memo: new Map(), unsafeRead: false };
}

/** Thrown when variables reference each other in a loop. */
class CycleError extends Error {
  constructor(readonly chain: string[]) {
    super(`recursive loop in variable definitions: ${chain.join(' -> ')}`);
  }
}

/** An Undefined met while resolving another variable: `a: "{{ b }}"`, b missing → lookup of a is Undefined. */
class NestedUndefined extends Undefined {
  constructor(
    readonly inner: Undefined,
    readonly via: string[],
  ) {
    super(inner.name, inner.missingAttr, inner.customMessage);
  }
  override describe(): string {
    return `${this.inner.describe()} (while resolving ${this.via.map((v) => `'${v}'`).join(' -> ')})`;
  }
}

const NOT_FOUND: unique symbol = Symbol('not found');

function hasVar(vars: Record<string, unknown>, name: string): boolean {
  if (Object.hasOwn(vars, name)) return true;
  // Scopes may be layered with prototypes (Object.create); never expose Object.prototype members as variables.
  return name in vars && !(name in Object.prototype);
}

/**
 * Resolve a variable lazily: its raw value is rendered (deep) in the same scope on first use, as Ansible does,
 * so `a: "{{ b }}-x"` sees b from any layer. Unsafe values are returned as they are.
 */
function resolveVar(state: RenderState, name: string): unknown {
  if (state.memo.has(name)) return state.memo.get(name);
  if (!hasVar(state.vars, name)) return NOT_FOUND;
  const at = state.resolving.indexOf(name);
  if (at >= 0) throw new CycleError([...state.resolving.slice(at), name]);
  const raw = state.vars[name];
  let value: unknown;
  const flags = scan(raw);
  if (flags & HAS_UNSAFE) state.unsafeRead = true;
  if (raw instanceof Unsafe) value = raw.value;
  else if (flags !== 0) {
    state.resolving.push(name);
    try {
      value = renderDeep(raw, state, false);
    } catch (e) {
      if (!(e instanceof UndefinedAccess)) throw e;
      // Keep it lazy: `a | default(1)` must still work when a's definition uses something undefined.
      value = e.undef instanceof NestedUndefined ? e.undef : new NestedUndefined(e.undef, [...state.resolving]);
    } finally {
      state.resolving.pop();
    }
  } else value = raw;
  if (value === undefined) value = null;
  state.memo.set(name, value);
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function renderDeep(value: unknown, state: RenderState, dropOmit: boolean): unknown {
  if (typeof value === 'string') return isTemplateString(value) ? renderOne(value, state) : value;
  if (value instanceof Unsafe) return value.value;
  if (Array.isArray(value)) {
    if (scan(value) === 0) return value;
    const out: unknown[] = [];
    for (const item of value) {
      const r = renderDeep(item, state, dropOmit);
      if (!(dropOmit && r === OMIT)) out.push(r);
    }
    return out;
  }
  if (isPlainObject(value)) {
    if (scan(value) === 0) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = renderDeep(v, state, dropOmit);
      if (!(dropOmit && r === OMIT)) setOwn(out, k, r);
    }
    return out;
  }
  return value;
}

function renderOne(source: string, state: RenderState): unknown {
  const compiled = compile(source, 'value', {});
  if (compiled.kind === 'text') return runText(compiled, state);
  const value = checkDefined(runExpr(compiled, state));
  // Ansible's templar keeps a result only when its str() reads back as a Python literal: a datetime, or a list
  // holding one, becomes its text.
  return holdsPyObject(value) ? pyStr(value) : value;
}

function holdsPyObject(v: unknown): boolean {
  if (v instanceof PyObject) return true;
  if (Array.isArray(v)) return v.some(holdsPyObject);
  if (isPlainObject(v)) return Object.values(v).some(holdsPyObject);
  return false;
}

function checkDefined(v: unknown): unknown {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  if (v instanceof Unsafe || v instanceof String) return unwrapUnsafe(v);
  if (typeof v === 'object' && v !== null) assertNoUndefinedInside(v, 0);
  return v === undefined ? null : v;
}

/**
 * A list or dict built in the template (`[a, b]`, `{'k': x}`) must not smuggle an Undefined out of render().
 * Objects that came from variables were scanned already (scanCache) and cannot hold one, so only new ones are walked.
 */
function assertNoUndefinedInside(v: object, depth: number): void {
  if (depth > 32 || scanCache.has(v) || v instanceof Unsafe) return;
  const items = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : [];
  for (const x of items) {
    if (x instanceof Undefined) throw new UndefinedAccess(x);
    if (typeof x === 'object' && x !== null) assertNoUndefinedInside(x, depth + 1);
  }
}

// ───────────────────────────── the context compiled code sees ─────────────────────────────

/** `context` in compiled code: variable lookup, top-level `{% set %}`, and the state globals need. */
class RenderContext implements LookupEnv {
  /** Set for a `with_first_found` loop on a template or include_vars task. */
  subdir?: ControllerSubdir;
  private readonly locals = new Map<string, unknown>();
  /** nunjucks reads `context.ctx` for includes; we support none, but keep the field. */
  readonly ctx: Record<string, unknown>;
  constructor(readonly state: RenderState) {
    this.ctx = state.vars;
  }
  setVariable(name: string, value: unknown): void {
    this.locals.set(name, value);
  }
  addExport(): void {}
  lookup(name: string): unknown {
    return this.resolve(name);
  }
  resolve(name: string): unknown {
    if (this.locals.has(name)) return this.locals.get(name);
    const v = resolveVar(this.state, name);
    if (v !== NOT_FOUND) return v;
    if (Object.hasOwn(GLOBALS, name)) return GLOBALS[name];
    return new Undefined(name);
  }
  getVariables(): Record<string, unknown> {
    return this.state.vars;
  }

  /**
   * Jinja's `{% include name %}`: the named template, found as Ansible's template action searches (each folder of
   * ansible_search_path, the playbook's folder and the including template's own, each with templates/ first),
   * rendered with the includer's variables, its `{% set %}`s and the loop variables around the tag (`frame`).
   * As Jinja (keep_trailing_newline off) it drops one newline at the end of the included text.
   */
  include(name: unknown, frame: NjFrame, ignoreMissing: boolean): string {
    const rel = pyStr(unwrapUnsafe(name));
    const own = this.state.templateFile === undefined ? [] : [path.join(path.dirname(this.state.templateFile), 'templates', rel), path.join(path.dirname(this.state.templateFile), rel)];
    const candidates = [...new Set([...controllerCandidates(this, 'templates', rel), ...(path.isAbsolute(rel) ? [] : own)])];
    const file = candidates.find((c) => existsSync(c));
    if (file === undefined) {
      if (ignoreMissing) return '';
      throw new LookupError(`{% include '${rel}' %}: template not found`, `searched: ${candidates.join(', ')}`);
    }
    const { text, encrypted } = readControllerText(file, 'template');
    const context = new RenderContext(this.state);
    for (const [k, v] of this.locals) context.setVariable(k, v);
    const out = runRoot(compile(text, 'text', this.state.lexing ?? {}), context, frame.push());
    if (encrypted) recordSecret(out);
    return out;
  }
}

// ───────────────────────────── globals: lookup/query, range, dict ─────────────────────────────

type GlobalFn = (this: RenderContext, ...args: unknown[]) => unknown;

/** Lookups that read controller files through the template engine (decrypting, rendering); the rest are in lookups.ts. */
const LOOKUPS: Record<string, LookupPlugin> = {
  ...BASE_LOOKUPS,
  file: {
    doc: 'A controller file\'s text (vault-encrypted files decrypted; trailing whitespace stripped unless `rstrip=False`).',
    run: (env, terms, kw) => terms.map((t) => readLookupFile(env, pyStr(t), kw)),
  },
  template: {
    doc: 'A controller template (templates/) rendered with the current variables.',
    run: (env, terms) =>
      terms.map((t) => {
        const ctx = env as RenderContext;
        const file = findControllerFile(env, 'templates', pyStr(t));
        if (!file) throw new LookupError(`lookup('template'): could not find '${pyStr(t)}'`, `searched: ${controllerCandidates(env, 'templates', pyStr(t)).join(', ')}`);
        const { text, encrypted } = readControllerText(file, 'template');
        const rendered = renderText(text, ctx.state.vars, ctx.state.where);
        if (encrypted) recordSecret(rendered);
        return rendered;
      }),
  },
  password: passwordLookup,
  pipe: {
    doc: 'Refused: vncplay does not run controller commands from templates.',
    run: () => {
      throw new LookupError(
        "lookup('pipe') is refused: vncplay does not run controller commands from templates",
        "run the command in a task with 'delegate_to: localhost' and 'register:' its output",
      );
    },
  },
};

/** Each lookup with its one-line description, for the README's generated reference. */
export function lookupDocs(): [string, string][] {
  return Object.entries(LOOKUPS)
    .map(([name, p]): [string, string] => [name, p.doc])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The lookups templates and `with_<name>:` loops can use (short names; ansible.builtin.X and known FQCNs map to them). */
export function lookupNames(): string[] {
  return Object.keys(LOOKUPS).sort();
}

/** True when `name` (as written after `with_`, or in lookup()) is a lookup vncplay has. */
export function isKnownLookup(name: string): boolean {
  return Object.hasOwn(LOOKUPS, canonicalLookupName(name));
}

/** lookup('file'): relative paths are searched as Ansible does (role and task folders, files/, the playbook's). */
function readLookupFile(env: LookupEnv, rel: string, kw: Mapping): string {
  const file = findControllerFile(env, 'files', rel);
  if (!file) throw new LookupError(`lookup('file'): could not find '${rel}'`, `searched: ${controllerCandidates(env, 'files', rel).join(', ')}`);
  const { text, encrypted } = readControllerText(file, 'file');
  // Ansible's file lookup strips trailing whitespace unless rstrip=False.
  const value = kw.rstrip === false ? text : text.replace(/\s+$/, '');
  if (encrypted) recordSecret(value);
  return value;
}

/**
 * A controller file's text for a lookup; a vault-encrypted one is decrypted with the run's vault passwords, as
 * Ansible's file and template lookups do (the caller records what it returns as a secret).
 */
function readControllerText(file: string, lookup: 'file' | 'template'): { text: string; encrypted: boolean } {
  try {
    return decryptFileText(readFileSync(file, 'utf8'), file);
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    throw new LookupError(`lookup('${lookup}'): ${e.message}`, e.hint ?? 'pass --vault-password-file, --vault-id or --ask-vault-pass');
  }
}

function lookupImpl(written: string): LookupFn {
  const name = canonicalLookupName(written);
  const plugin = Object.hasOwn(LOOKUPS, name) ? LOOKUPS[name] : undefined;
  if (!plugin) throw new LookupError(`unsupported lookup plugin '${written}'`, unknownLookupHint(name, lookupNames()));
  return plugin.run;
}

function runLookup(ctx: RenderContext, args: unknown[], wantList: boolean): unknown {
  const { pos, kw } = splitArgs(args);
  const impl = lookupImpl(pyStr(pos[0]));
  const values = impl(ctx, pos.slice(1), kw);
  if (wantList || truthy(kw.wantlist ?? false)) return values;
  // lookup() joins several results with commas, as Ansible does (and gives '' for none).
  return values.length === 1 ? values[0] : values.map(pyStr).join(',');
}

/**
 * The items of a `with_<name>:` loop (Ansible's TaskExecutor._get_loop_items): the terms rendered and listified,
 * then the lookup run on them for a list. first_found drops the names that use an undefined variable (Ansible
 * renders its terms without failing on them); `subdir` is where it looks first (templates/ for a template task).
 * Throws TemplateError (E_TEMPLATE_LOOKUP …) positioned at `where`.
 */
export function loopLookupItems(name: string, terms: unknown, vars: Record<string, unknown>, where: SourcePos | undefined, subdir: ControllerSubdir): unknown[] {
  const state = newState(vars, where);
  return withErrors(state, terms, () => {
    const impl = lookupImpl(name);
    const rendered = canonicalLookupName(name) === 'first_found' ? renderSkippingUndefined(terms, state) : renderDeep(terms, state, false);
    // A dict (hostvars too) stays whole for with_dict; every other lookup iterates it as Python does, by its keys.
    const list = canonicalLookupName(name) === 'dict' && !Array.isArray(listifyTerms(rendered)) ? [rendered] : asIterable(rendered);
    const ctx = new RenderContext(state);
    ctx.subdir = subdir;
    return impl(ctx, list, {});
  });
}

/**
 * with_first_found's terms as Ansible 2.14 renders them (listify_lookup_plugin_terms with fail_on_undefined=False,
 * then `not templar.is_template(t)`): a term that uses an undefined variable anywhere — a file name, or a mapping
 * of files and paths — is left out whole.
 */
function renderSkippingUndefined(terms: unknown, state: RenderState): unknown {
  const renderTerm = (term: unknown): unknown => {
    try {
      return renderDeep(term, state, false);
    } catch (e) {
      if (e instanceof UndefinedAccess) return SKIPPED_TERM;
      throw e;
    }
  };
  if (!Array.isArray(terms)) {
    const rendered = renderTerm(terms);
    return rendered === SKIPPED_TERM ? [] : rendered;
  }
  return terms.map(renderTerm).filter((t) => t !== SKIPPED_TERM);
}

const SKIPPED_TERM: unique symbol = Symbol('term with an undefined variable');

/** Objects made by namespace(): the only ones `{% set ns.x = … %}` may change (as in Jinja). */
const namespaces = new WeakSet<object>();

const GLOBALS: Record<string, GlobalFn> = {
  /** Ansible's now(utc=False, fmt=None): a datetime, or its strftime(fmt) when fmt is given. */
  now(...args) {
    const { pos, kw } = splitArgs(args);
    const moment = PyDatetime.now(truthy(kw.utc ?? pos[0] ?? false));
    const fmt = kw.fmt ?? pos[1];
    return fmt === undefined || fmt === null ? moment : moment.strftime(pyStr(fmt));
  },
  namespace(...args) {
    const { pos, kw } = splitArgs(args);
    const ns: Mapping = {};
    for (const p of pos) Object.assign(ns, Object.fromEntries(mappingEntriesOf(p, 'namespace()')));
    Object.assign(ns, kw);
    namespaces.add(ns);
    return ns;
  },
  lookup(...args) {
    return runLookup(this, args, false);
  },
  query(...args) {
    return runLookup(this, args, true);
  },
  q(...args) {
    return runLookup(this, args, true);
  },
  range(...args) {
    const n = args.map((a) => Number(unwrapUnsafe(a)));
    const [start, stop, step] = n.length === 1 ? [0, n[0]!, 1] : [n[0]!, n[1]!, n[2] ?? 1];
    if (step === 0) throw new JinjaRuntimeError('range() arg 3 must not be zero');
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
      out.push(i);
      if (out.length > 100000) throw new JinjaRuntimeError('range() too large (over 100000 items)');
    }
    return out;
  },
  dict(...args) {
    const { pos, kw } = splitArgs(args);
    const out: Mapping = {};
    for (const p of pos) Object.assign(out, isMapping(unwrapUnsafe(p)) ? unwrapUnsafe(p) : Object.fromEntries(toList(p) as [string, unknown][]));
    return Object.assign(out, kw);
  },
};

// ───────────────────────────── runtime for compiled code ─────────────────────────────

const filterEnv: FilterEnv = {
  test: (name) => wrapTest(name),
  filter: (name) => wrapFilter(name),
};

function unknownName(kind: 'filter' | 'test', name: string, table: Record<string, unknown>): JinjaRuntimeError {
  const near = nearest(name, [...Object.keys(table), ...pluginNamesKnown(kind)]);
  const err = new JinjaRuntimeError(`no ${kind} named '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
  (err as JinjaRuntimeError & { code?: string }).code = 'E_TEMPLATE_FILTER';
  return err;
}

function wrapFilter(fullName: string): FilterFn {
  const name = shortPluginName(fullName);
  const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : hasPlugin('filter', name) ? pythonFilter(name) : undefined;
  if (!f) throw unknownName('filter', name, FILTERS);
  return f;
}

/** A filter or test from a Python plugin file (python-plugins.ts): its failure is a positioned rendering error. */
function pythonFilter(name: string): FilterFn {
  return (value, pos, kw) => runPlugin(() => callPlugin('filter', name, value, pos, kw));
}
function pythonTest(name: string): TestFn {
  return (value, pos) => truthy(runPlugin(() => callPlugin('test', name, value, pos, {})));
}
function runPlugin(call: () => unknown): unknown {
  try {
    return call();
  } catch (e) {
    throw new JinjaRuntimeError((e as Error).message);
  }
}

function wrapTest(fullName: string): TestFn {
  const name = shortPluginName(fullName);
  const t = Object.hasOwn(TESTS, name) ? TESTS[name] : hasPlugin('test', name) ? pythonTest(name) : undefined;
  if (!t) throw unknownName('test', name, TESTS);
  if (UNDEFINED_SAFE_TESTS.has(name)) return t;
  const falseOnUndefined = UNDEFINED_FALSE_TESTS.has(name);
  return (v, pos, env) => {
    if (v instanceof Undefined) {
      if (falseOnUndefined) return false;
      throw new UndefinedAccess(v);
    }
    return t(v, pos, env);
  };
}

function callFilter(name: string, value: unknown, ...rest: unknown[]): unknown {
  const f = wrapFilter(name);
  const { pos, kw } = splitArgs(rest);
  if (!UNDEFINED_SAFE_FILTERS.has(name)) {
    if (value instanceof Undefined) throw new UndefinedAccess(value);
  }
  for (const a of pos) if (a instanceof Undefined) throw new UndefinedAccess(a);
  for (const a of Object.values(kw)) if (a instanceof Undefined) throw new UndefinedAccess(a);
  return f(value, pos, kw, filterEnv);
}

function callTest(name: string, value: unknown, args: unknown[]): boolean {
  const t = wrapTest(name);
  for (const a of args) if (a instanceof Undefined) throw new UndefinedAccess(a);
  return t(value, args, filterEnv);
}

function compareOp(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
    case '===':
      return pyEq(a, b);
    case '!=':
    case '!==':
      return !pyEq(a, b);
    case '<':
      return pyCompare(a, b, op) < 0;
    case '<=':
      return pyCompare(a, b, op) <= 0;
    case '>':
      return pyCompare(a, b, op) > 0;
    case '>=':
      return pyCompare(a, b, op) >= 0;
    default:
      throw new JinjaRuntimeError(`unknown comparison '${op}'`);
  }
}

/** Iterating in `{% for %}`: lists as they are, dicts over their keys, strings over characters. */
function iterate(v: unknown): unknown {
  if (v instanceof Undefined) throw new UndefinedAccess(v);
  v = unwrapUnsafe(v);
  if (v === null || v === undefined || v === false) return v;
  return toList(v, 'for-loop value');
}

function callValue(fn: unknown, name: string, context: RenderContext, args: unknown[]): unknown {
  if (fn instanceof Undefined) {
    throw new UndefinedAccess(fn.missingAttr ? fn : new Undefined(fn.name, undefined, `'${name}' is undefined or not callable`));
  }
  if (typeof fn !== 'function') throw new JinjaRuntimeError(`'${name}' is not callable`);
  return (fn as (...a: unknown[]) => unknown).apply(context, args);
}

const jinjaRuntime: Record<string, unknown> = {
  ...nj.runtime,
  lookupVar(context: RenderContext, frame: NjFrame, name: string): unknown {
    // nunjucks frames are plain objects: never let `constructor` & co. resolve through their prototype.
    const v = name in Object.prototype ? undefined : frame.lookup(name);
    return v !== undefined ? v : context.resolve(name);
  },
  member: getAttr,
  callWrap: callValue,
  filter: callFilter,
  test: callTest,
  truthy,
  and: (a: unknown, b: () => unknown): unknown => (truthy(a) ? b() : a),
  or: (a: unknown, b: () => unknown): unknown => (truthy(a) ? a : b()),
  compare: compareOp,
  contains: pyContains,
  arith: pyArith,
  concat: (a: unknown, b: unknown): string => pyStr(a) + pyStr(b),
  neg: (a: unknown): number => -Number(unwrapUnsafe(checkDefined(a))),
  pos: (a: unknown): number => Number(unwrapUnsafe(checkDefined(a))),
  // Ansible's finalize: None prints as an empty string in text (but as None inside a printed list or dict).
  out: (v: unknown): string => (v === null || v === undefined ? '' : pyStr(v)),
  fromIterator: iterate,
  setAttr(target: unknown, key: unknown, value: unknown): void {
    if (!(typeof target === 'object' && target !== null && namespaces.has(target))) {
      throw new JinjaRuntimeError(`cannot assign attribute on ${target instanceof Undefined ? 'an undefined value' : "a non-namespace object (use namespace())"}`);
    }
    (target as Record<string, unknown>)[pyStr(key)] = value;
  },
  makeDict(pairs: [unknown, unknown][]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) {
      const key = unwrapUnsafe(checkDefined(k));
      // Keys become strings (JSON objects); `__proto__` must stay an ordinary key, not a prototype switch.
      Object.defineProperty(out, typeof key === 'string' ? key : pyStr(key), { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  },
  loopFilter(items: unknown, cond: (f: NjFrame) => unknown, names: string[], frame: NjFrame & { push(): NjFrame }): unknown {
    const list = iterate(items);
    if (!Array.isArray(list)) return list;
    return list.filter((item) => {
      const f = frame.push();
      if (names.length === 1) f.set(names[0]!, item);
      else names.forEach((n, i) => f.set(n, getAttr(item, i, n)));
      return truthy(cond(f));
    });
  },
  // The root function's catch: remember where in the template it failed (0-based in nunjucks nodes).
  handleError: (e: unknown, lineno: number, colno: number): unknown => {
    if (typeof e === 'object' && e !== null && !('templatePos' in e)) {
      (e as { templatePos?: TemplatePos }).templatePos = { line: lineno + 1, col: colno + 1 };
    }
    return e;
  },
};

const jinjaEnv = {
  opts: { autoescape: false },
  getFilter: (name: string): never => {
    throw new JinjaRuntimeError(`internal: direct filter call '${name}'`);
  },
  getTest: (name: string): never => {
    throw new JinjaRuntimeError(`internal: direct test call '${name}'`);
  },
};

// ───────────────────────────── the parser and compiler overrides ─────────────────────────────

const LITERAL_SYMBOLS: Record<string, string> = { True: 'true', False: 'false', None: 'null' };
const UNSUPPORTED_TAGS = ['Extends', 'Import', 'FromImport', 'Block', 'Super', 'CallExtension', 'CallExtensionAsync'];

class JinjaParser extends (ParserBase as unknown as new (tokens: unknown) => NjParserBase) {
  /** Jinja allows `item.0` (index by number after a dot); nunjucks does not. Slices `x[1:]` are added too. */
  parsePostfix(node: NjNode): NjNode {
    let tok = this.peekToken();
    while (tok) {
      if (tok.type === njLexer.TOKEN_LEFT_PAREN) {
        node = new njNodes.FunCall!(tok.lineno, tok.colno, node, this.parseSignature());
      } else if (tok.type === njLexer.TOKEN_LEFT_BRACKET) {
        const lookup = this.parseSubscript();
        node = new njNodes.LookupVal!(tok.lineno, tok.colno, node, lookup);
      } else if (tok.type === njLexer.TOKEN_OPERATOR && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        if (!val) this.fail('expected a name after "."');
        let key: NjNode;
        if (val.type === njLexer.TOKEN_SYMBOL) key = new njNodes.Literal!(val.lineno, val.colno, val.value);
        else if (val.type === njLexer.TOKEN_INT) key = new njNodes.Literal!(val.lineno, val.colno, parseInt(val.value, 10));
        else this.fail(`expected a name after ".", got ${val.value}`, val.lineno, val.colno);
        node = new njNodes.LookupVal!(tok.lineno, tok.colno, node, key);
      } else break;
      tok = this.peekToken();
    }
    return node;
  }

  /**
   * Tests bind like filters in Jinja (parse_filter_expr): `x is mapping | ternary(a, b)` is `(x is mapping) | …` and
   * `1 + x is number` is `1 + (x is number)`. nunjucks parsed `is` at the comparison level; here it is taken after
   * each operand together with its filters, in the order written.
   */
  parseFilter(node: NjNode): NjNode {
    const self = this as unknown as { skip(t: string): boolean; parseFilterName(): NjNode; parseFilterArgs(n: NjNode): NjNode[] };
    for (;;) {
      const tok = this.peekToken();
      if (tok?.type === 'pipe') {
        this.nextToken();
        const name = self.parseFilterName();
        node = new njNodes.Filter!(name.lineno, name.colno, name, new njNodes.NodeList!(name.lineno, name.colno, [node, ...self.parseFilterArgs(node)]));
      } else if (tok?.type === njLexer.TOKEN_SYMBOL && tok.value === 'is') node = this.parseTest(node);
      else return node;
    }
  }

  /** The comparison level no longer takes `is` (see parseFilter). */
  parseIs(): NjNode {
    return (this as unknown as { parseCompare(): NjNode }).parseCompare();
  }

  /**
   * `x is [not] NAME`, `NAME(args)`, Jinja's one-argument form `x is divisibleby 3` / `x is sameas false`, and
   * dotted FQCN names (`ansible.builtin.match(...)`).
   */
  parseTest(node: NjNode): NjNode {
    const self = this as unknown as NjParserBase & {
      parsePrimary(noPostfix?: boolean): NjNode;
      skipSymbol(v: string): boolean;
      skipValue(type: string, v: string): boolean;
    };
    self.skipSymbol('is');
    const negate = self.skipSymbol('not');
    const tok = this.nextToken();
    let name: NjNode;
    if (tok?.type === 'symbol') {
      let text = tok.value;
      while (self.skipValue(njLexer.TOKEN_OPERATOR, '.')) {
        const part = this.nextToken();
        if (part?.type !== 'symbol') this.fail('expected a name after "." in a test name', tok.lineno, tok.colno);
        text += `.${part.value}`;
      }
      name = new njNodes.Symbol!(tok.lineno, tok.colno, text);
    } else if (tok?.type === 'none') name = new njNodes.Literal!(tok.lineno, tok.colno, null);
    else if (tok?.type === 'boolean') name = new njNodes.Literal!(tok.lineno, tok.colno, tok.value === 'true');
    else this.fail('expected a test name after "is"', tok?.lineno, tok?.colno);
    let right: NjNode = name;
    const next = this.peekToken();
    if (next?.type === njLexer.TOKEN_LEFT_PAREN) right = new njNodes.FunCall!(next.lineno, next.colno, name, this.parseSignature());
    else if (next && startsTestArgument(next)) {
      const argNode = self.parsePrimary();
      right = new njNodes.FunCall!(next.lineno, next.colno, name, new njNodes.NodeList!(next.lineno, next.colno, [argNode]));
    }
    const is = new njNodes.Is!(node.lineno, node.colno, node, right);
    return negate ? new njNodes.Not!(node.lineno, node.colno, is) : is;
  }

  /**
   * Jinja's conditional expression: the `else` part is itself a conditional expression, so
   * `a if x else b if y else c` chains; nunjucks parses only an `or` expression there.
   */
  parseInlineIf(): NjNode {
    const self = this as unknown as { skipSymbol(name: string): boolean; parseOr(): NjNode };
    let node = self.parseOr();
    while (self.skipSymbol('if')) {
      const inline = new njNodes.InlineIf!(node.lineno, node.colno) as NjNode & { body: NjNode; cond: NjNode; else_: NjNode | null };
      inline.body = node;
      inline.cond = self.parseOr();
      inline.else_ = self.skipSymbol('else') ? this.parseInlineIf() : null;
      node = inline;
    }
    return node;
  }

  /**
   * Python precedence for arithmetic: nunjucks nests `+` over `-` and `*` over `/`, `//`, `%`, which makes
   * `3 * 5 // 2` come out as 3 * (5 // 2). Here each level is one left-associative loop, as in Jinja.
   */
  parseAdd(): NjNode {
    const self = this as unknown as { skipValue(type: string, v: string): boolean; parseMul(): NjNode };
    let node = self.parseMul();
    for (;;) {
      if (self.skipValue(njLexer.TOKEN_OPERATOR, '+')) node = new njNodes.Add!(node.lineno, node.colno, node, self.parseMul());
      else if (self.skipValue(njLexer.TOKEN_OPERATOR, '-')) node = new njNodes.Sub!(node.lineno, node.colno, node, self.parseMul());
      else return node;
    }
  }

  parseMul(): NjNode {
    const self = this as unknown as { skipValue(type: string, v: string): boolean; parsePow(): NjNode };
    const ops: [string, string][] = [
      ['*', 'Mul'],
      ['//', 'FloorDiv'],
      ['/', 'Div'],
      ['%', 'Mod'],
    ];
    let node = self.parsePow();
    outer: for (;;) {
      for (const [op, cls] of ops) {
        if (self.skipValue(njLexer.TOKEN_OPERATOR, op)) {
          node = new njNodes[cls]!(node.lineno, node.colno, node, self.parsePow());
          continue outer;
        }
      }
      return node;
    }
  }

  /**
   * `(…)`, `[…]` and `{…}` literals. Unlike nunjucks: a dict key may be any expression (`{name ~ '_x': 1}`),
   * trailing commas are allowed, and the closing bracket must match the opening one.
   */
  override parseAggregate(): NjNode {
    const self = this as unknown as { skip(t: string): boolean; parseExpression(): NjNode };
    const open = this.nextToken();
    const kinds: Record<string, [string, string]> = {
      'left-paren': ['Group', 'right-paren'],
      'left-bracket': ['Array', 'right-bracket'],
      'left-curly': ['Dict', 'right-curly'],
    };
    const kind = open ? kinds[open.type] : undefined;
    if (!open || !kind) return null as unknown as NjNode;
    const [cls, close] = kind;
    const node = new njNodes[cls]!(open.lineno, open.colno) as NjNode & { addChild(n: NjNode): void };
    const closing = { 'right-paren': ')', 'right-bracket': ']', 'right-curly': '}' }[close]!;
    for (;;) {
      const t = this.peekToken();
      if (!t) this.fail(`expected '${closing}' before the end of the template`, open.lineno, open.colno);
      if (t.type === close) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!self.skip('comma')) this.fail(`expected ',' or '${closing}', got ${t.value}`, t.lineno, t.colno);
        if (this.peekToken()?.type === close) {
          this.nextToken();
          break;
        }
      }
      if (cls === 'Dict') {
        const key = self.parseExpression();
        if (!self.skip('colon')) this.fail("expected ':' after a dict key", key.lineno, key.colno);
        node.addChild(new njNodes.Pair!(key.lineno, key.colno, key, self.parseExpression()));
      } else node.addChild(self.parseExpression());
    }
    return node;
  }

  /** `[expr]` or a slice `[a:b:c]` (any part may be empty); a slice becomes an Array node of three parts. */
  parseSubscript(): NjNode {
    const open = this.nextToken()!;
    const parts: (NjNode | null)[] = [null];
    const self = this as unknown as { skip(t: string): boolean; parseExpression(): NjNode };
    for (;;) {
      if (self.skip('right-bracket')) break;
      if (self.skip('colon')) {
        parts.push(null);
        if (parts.length > 3) this.fail('too many ":" in slice', open.lineno, open.colno);
        continue;
      }
      if (parts[parts.length - 1] !== null) this.fail('expected "]" or ":" in subscript', open.lineno, open.colno);
      parts[parts.length - 1] = self.parseExpression();
    }
    if (parts.length === 1) {
      if (!parts[0]) this.fail('empty subscript []', open.lineno, open.colno);
      return parts[0]!;
    }
    const lit = (n: NjNode | null | undefined): NjNode => n ?? new njNodes.Literal!(open.lineno, open.colno, null);
    return new njNodes.Array!(open.lineno, open.colno, [lit(parts[0]), lit(parts[1]), lit(parts[2])]);
  }
}

/** `ansible.builtin.to_json` and `to_json` are the same plugin; other collections' plugins are not ours. */
function shortPluginName(name: string): string {
  return name.startsWith('ansible.builtin.') ? name.slice('ansible.builtin.'.length) : name;
}

/** The name in `x is NAME` / `x is NAME(args)`: a symbol, a literal (none/true/false) or a dotted FQCN. */
function testName(node: NjNode): string | undefined {
  if (node.typename === 'Symbol') return shortPluginName(String(node.value));
  if (node.typename === 'Literal') return node.value === null ? 'none' : String(node.value);
  if (node.typename === 'LookupVal') {
    const head = testName(node.target as NjNode);
    const key = node.val as NjNode;
    if (head === undefined || key.typename !== 'Literal' || typeof key.value !== 'string') return undefined;
    return shortPluginName(`${head}.${key.value}`);
  }
  return undefined;
}

/** Jinja's rule for `x is test ARG` without parentheses: a literal, a name (not a keyword) or a bracket opens ARG. */
function startsTestArgument(tok: NjToken): boolean {
  if (['string', 'int', 'float', 'none', 'boolean', 'left-bracket', 'left-curly'].includes(tok.type)) return true;
  return tok.type === 'symbol' && !['and', 'or', 'else', 'if', 'not', 'in', 'is'].includes(tok.value);
}

function nodeName(c: NjCompilerBase, node: NjNode): string {
  try {
    return c._getNodeName(node).replace(/\["([^"]*)"\]/g, '.$1');
  } catch {
    return '--expression--';
  }
}

class JinjaCompiler extends CompilerBase {
  compileSymbol(node: NjNode, frame: NjFrame): void {
    const name = String(node.value);
    const local = name in Object.prototype ? undefined : frame.lookup(name);
    if (typeof local === 'string') this._emit(local);
    else if (Object.hasOwn(LITERAL_SYMBOLS, name)) this._emit(LITERAL_SYMBOLS[name]!);
    else this._emit(`runtime.lookupVar(context, frame, ${JSON.stringify(name)})`);
  }

  compileLookupVal(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.member((');
    this._compileExpression(node.target as NjNode, frame);
    this._emit('),');
    this._compileExpression(node.val as NjNode, frame);
    this._emit(`, ${JSON.stringify(nodeName(this, node.target as NjNode))})`);
  }

  /** `lookup('name', …)`, `query`, `q` with a literal name: an unknown lookup fails when the template compiles (at load). */
  compileFunCall(node: NjNode, frame: NjFrame): void {
    const callee = node.name as NjNode;
    const first = (node.args as NjNode | undefined)?.children[0];
    const isLookupCall = callee.typename === 'Symbol' && ['lookup', 'query', 'q'].includes(String(callee.value));
    if (isLookupCall && first?.typename === 'Literal' && typeof first.value === 'string' && !isKnownLookup(first.value)) {
      const near = nearest(canonicalLookupName(first.value), lookupNames());
      this.fail(`no lookup named '${first.value}'${near ? ` (did you mean '${near}'?)` : ''}`, first.lineno, first.colno);
    }
    (CompilerBase.prototype as unknown as { compileFunCall(n: NjNode, f: NjFrame): void }).compileFunCall.call(this, node, frame);
  }

  compileFilter(node: NjNode, frame: NjFrame): void {
    const name = shortPluginName(String((node.name as NjNode).value));
    if (!Object.hasOwn(FILTERS, name) && !hasPlugin('filter', name)) {
      const near = nearest(name, [...Object.keys(FILTERS), ...pluginNamesKnown('filter')]);
      this.fail(`no filter named '${name}'${near ? ` (did you mean '${near}'?)` : ''}`, node.lineno, node.colno);
    }
    this._emit(`runtime.filter(${JSON.stringify(name)}, `);
    this._compileAggregate(node.args as NjNode, frame);
    this._emit(')');
  }

  compileIs(node: NjNode, frame: NjFrame): void {
    const right = node.right as NjNode;
    const callee = right.typename === 'FunCall' ? (right.name as NjNode) : right;
    const name = testName(callee);
    if (name === undefined) this.fail('expected a test name after "is"', node.lineno, node.colno);
    if (!Object.hasOwn(TESTS, name) && !hasPlugin('test', name)) {
      const near = nearest(name, [...Object.keys(TESTS), ...pluginNamesKnown('test')]);
      this.fail(`no test named '${name}'${near ? ` (did you mean '${near}'?)` : ''}`, node.lineno, node.colno);
    }
    this._emit(`runtime.test(${JSON.stringify(name)}, `);
    this.compile(node.left as NjNode, frame);
    this._emit(', ');
    if (right.args) this._compileAggregate(right.args as NjNode, frame, '[', ']');
    else this._emit('[]');
    this._emit(')');
  }

  compileIn(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.contains(');
    this.compile(node.right as NjNode, frame);
    this._emit(',');
    this.compile(node.left as NjNode, frame);
    this._emit(')');
  }

  compileCompare(node: NjNode, frame: NjFrame): void {
    const ops = node.ops as NjNode[];
    // Python chains: a < b < c means (a < b) and (b < c).
    let left = node.expr as NjNode;
    this._emit('(');
    ops.forEach((op, i) => {
      if (i > 0) this._emit(' && ');
      this._emit(`runtime.compare(${JSON.stringify(op.type)}, `);
      this.compile(left, frame);
      this._emit(', ');
      this.compile(op.expr as NjNode, frame);
      this._emit(')');
      left = op.expr as NjNode;
    });
    this._emit(')');
  }

  compileOr(node: NjNode, frame: NjFrame): void {
    this.emitLazyBinary('or', node, frame);
  }
  compileAnd(node: NjNode, frame: NjFrame): void {
    this.emitLazyBinary('and', node, frame);
  }
  private emitLazyBinary(fn: string, node: NjNode, frame: NjFrame): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left as NjNode, frame);
    this._emit(', () => (');
    this.compile(node.right as NjNode, frame);
    this._emit('))');
  }

  compileNot(node: NjNode, frame: NjFrame): void {
    this._emit('!runtime.truthy(');
    this.compile(node.target as NjNode, frame);
    this._emit(')');
  }

  compileInlineIf(node: NjNode, frame: NjFrame): void {
    this._emit('(runtime.truthy(');
    this.compile(node.cond as NjNode, frame);
    this._emit(') ? (');
    this.compile(node.body as NjNode, frame);
    this._emit(') : (');
    if (node.else_) this.compile(node.else_ as NjNode, frame);
    else this._emit('""');
    this._emit('))');
  }

  /** Keep `lineno`/`colno` current so a runtime error can say where in a template file it happened. */
  private emitPosition(node: NjNode): void {
    this._emitLine(`lineno = ${node.lineno}; colno = ${node.colno};`);
  }

  /** `{% include name [ignore missing] %}`: RenderContext.include renders it with the variables around the tag. */
  compileInclude(node: NjNode, frame: NjFrame): void {
    const self = this as unknown as NjCompilerBase & { buffer: string };
    this.emitPosition(node);
    this._emit(`${self.buffer} += context.include(`);
    this._compileExpression(node.template as NjNode, frame);
    this._emitLine(`, frame, ${node.ignoreMissing === true ? 'true' : 'false'});`);
  }

  compileIf(node: NjNode, frame: NjFrame): void {
    this.emitPosition(node);
    this._emit('if(runtime.truthy(');
    this._compileExpression(node.cond as NjNode, frame);
    this._emitLine(')) {');
    this._withScopedSyntax(() => this.compile(node.body as NjNode, frame));
    if (node.else_) {
      this._emitLine('}\nelse {');
      this._withScopedSyntax(() => this.compile(node.else_ as NjNode, frame));
    }
    this._emitLine('}');
  }

  /**
   * Jinja's loop filter `{% for x in items if cond %}`: nunjucks parses the `if` as an inline-if without else.
   * Filter the items first (binding the loop variables for `cond`), so loop.index/length/last and `{% else %}`
   * count only the kept items, as in Jinja.
   */
  compileFor(node: NjNode, frame: NjFrame): void {
    this.emitPosition(node);
    const arr = node.arr as NjNode;
    if (arr.typename === 'InlineIf' && !arr.else_) {
      const target = node.name as NjNode;
      const names = target.typename === 'Array' ? target.children.map((c) => String(c.value)) : [String(target.value)];
      node.arr = { typename: 'LoopFilter', lineno: arr.lineno, colno: arr.colno, children: [], iter: arr.body, cond: arr.cond, names };
    }
    (CompilerBase.prototype as unknown as { compileFor(n: NjNode, f: NjFrame): void }).compileFor.call(this, node, frame);
  }

  compileLoopFilter(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.loopFilter(');
    this.compile(node.iter as NjNode, frame);
    // The parameter named `frame` shadows the outer one, so `cond` looks the loop variables up in the pushed frame.
    this._emit(', function(frame) { return (');
    this.compile(node.cond as NjNode, frame);
    this._emit(`); }, ${JSON.stringify(node.names)}, frame)`);
  }

  assertType(node: NjNode, ...types: unknown[]): void {
    if (node.typename === 'LoopFilter') return;
    (CompilerBase.prototype as unknown as { assertType(n: NjNode, ...t: unknown[]): void }).assertType.call(this, node, ...types);
  }

  /**
   * `{key: value}` evaluates its keys as Jinja does (`combine({item.key: item.value})`, `{name: 1}` uses name's
   * value); nunjucks took a bare name as a string and refused any other key expression.
   */
  compileDict(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.makeDict([');
    node.children.forEach((pair, i) => {
      if (i > 0) this._emit(',');
      this._emit('[');
      this._compileExpression(pair.key as NjNode, frame);
      this._emit(',');
      this._compileExpression(pair.value as NjNode, frame);
      this._emit(']');
    });
    this._emit('])');
  }

  /** `{% set ns.attr = value %}` assigns into a Jinja namespace(); plain names go to nunjucks' own set. */
  compileSet(node: NjNode, frame: NjFrame): void {
    const targets = node.targets as NjNode[];
    const attr = targets.find((t) => t.typename === 'LookupVal');
    if (attr) {
      if (targets.length !== 1 || !node.value) this.fail('set with an attribute target takes one target and a value', node.lineno, node.colno);
      this._emit('runtime.setAttr(');
      this._compileExpression(attr.target as NjNode, frame);
      this._emit(', ');
      this._compileExpression(attr.val as NjNode, frame);
      this._emit(', ');
      this._compileExpression(node.value as NjNode, frame);
      this._emitLine(');');
      return;
    }
    if (targets.some((t) => t.typename !== 'Symbol')) this.fail('set can only assign to names', node.lineno, node.colno);
    (CompilerBase.prototype as unknown as { compileSet(n: NjNode, f: NjFrame): void }).compileSet.call(this, node, frame);
  }

  /** Keyword arguments (`map(attribute='x')`) keep literal names: nunjucks' own dict compilation. */
  compileKeywordArgs(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.makeKeywordArgs(');
    (CompilerBase.prototype as unknown as { compileDict(n: NjNode, f: NjFrame): void }).compileDict.call(this, node, frame);
    this._emit(')');
  }

  compileGroup(node: NjNode, frame: NjFrame): void {
    // `(a, b)` is a tuple in Jinja, not JavaScript's comma operator.
    if (node.children.length === 1) this._compileAggregate(node, frame, '(', ')');
    else this._compileAggregate(node, frame, '[', ']');
  }

  private arith(op: string, node: NjNode, frame: NjFrame): void {
    this._emit(`runtime.arith(${JSON.stringify(op)}, `);
    this.compile(node.left as NjNode, frame);
    this._emit(', ');
    this.compile(node.right as NjNode, frame);
    this._emit(')');
  }
  compileAdd(node: NjNode, frame: NjFrame): void {
    this.arith('+', node, frame);
  }
  compileSub(node: NjNode, frame: NjFrame): void {
    this.arith('-', node, frame);
  }
  compileMul(node: NjNode, frame: NjFrame): void {
    this.arith('*', node, frame);
  }
  compileDiv(node: NjNode, frame: NjFrame): void {
    this.arith('/', node, frame);
  }
  compileFloorDiv(node: NjNode, frame: NjFrame): void {
    this.arith('//', node, frame);
  }
  compileMod(node: NjNode, frame: NjFrame): void {
    this.arith('%', node, frame);
  }
  compilePow(node: NjNode, frame: NjFrame): void {
    this.arith('**', node, frame);
  }
  compileConcat(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.concat(');
    this.compile(node.left as NjNode, frame);
    this._emit(', ');
    this.compile(node.right as NjNode, frame);
    this._emit(')');
  }
  compileNeg(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.neg(');
    this.compile(node.target as NjNode, frame);
    this._emit(')');
  }
  compilePos(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.pos(');
    this.compile(node.target as NjNode, frame);
    this._emit(')');
  }

  compileOutput(node: NjNode, frame: NjFrame): void {
    const self = this as unknown as NjCompilerBase & { buffer: string; compileLiteral(n: NjNode): void };
    for (const child of node.children) {
      if (child.typename === 'TemplateData') {
        if (child.value) {
          this._emit(`${self.buffer} += `);
          self.compileLiteral(child);
          this._emitLine(';');
        }
      } else {
        this.emitPosition(child);
        this._emit(`${self.buffer} += runtime.out(`);
        this.compile(child, frame);
        this._emitLine(');');
      }
    }
  }
}

// Template features that need a loader (include, extends, import) are refused with a clear message.
for (const tag of UNSUPPORTED_TAGS) {
  (JinjaCompiler.prototype as unknown as Record<string, unknown>)[`compile${tag}`] = function (this: NjCompilerBase, node: NjNode): never {
    this.fail(`'{% ${tag.toLowerCase()} %}' is not supported in vncplay templates`, node.lineno, node.colno);
  };
}

// ───────────────────────────── compile and run, with a cache ─────────────────────────────

type RootFn = (env: unknown, context: RenderContext, frame: NjFrame, runtime: unknown, cb: (err: unknown, out?: string) => void) => void;
type ExprFn = (env: unknown, context: RenderContext, frame: NjFrame, runtime: unknown) => unknown;

/** `newlines`: how many newlines end the source; the output gets at least as many back (Ansible's rule). */
type Compiled = { kind: 'text'; root: RootFn; source: string; newlines: number } | { kind: 'expr'; fn: ExprFn; source: string };

/** Where in a template a runtime error happened (1-based), and in which template source. */
interface TemplatePos {
  line: number;
  col: number;
  source?: string;
}

class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly col: number | undefined,
    readonly source: string,
  ) {
    super(message);
  }
}

const cache = new Map<string, Compiled>();
/** Bounded so a run that renders many distinct strings cannot grow memory without limit. */
const CACHE_LIMIT = 20000;

function lexOptions(opts: TemplateOptions): Record<string, unknown> {
  return { trimBlocks: opts.trimBlocks ?? true, lstripBlocks: opts.lstripBlocks ?? false };
}

/**
 * String literals the way Jinja (Python) reads them: \n \t \r \\ \' \" \a \b \f \v, octal, \xhh, \uXXXX;
 * an unknown escape such as `\d` keeps its backslash (nunjucks would drop it and turn `'\d+'` into `'d+'`).
 * With `rawInVariables` — playbook values, as Ansible's `_escape_backslashes` does — literals inside `{{ }}`
 * keep every backslash, so `regex_replace('(\w+)', '\1')` works as written in YAML.
 */
interface NjTokenizer {
  str: string;
  index: number;
  lineno: number;
  colno: number;
  in_code: boolean;
  current(): string;
  forward(): void;
  isFinished(): boolean;
  nextToken(): NjToken | null;
  _parseString(delimiter: string): string;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };

function pyUnescape(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (m, e: string) => {
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) return SIMPLE_ESCAPES[e]!;
    if (/^[0-7]+$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return m;
  });
}

function makeTokenizer(source: string, opts: TemplateOptions, rawInVariables: boolean): unknown {
  const lexOpts = lexOptions(opts);
  const tok = njLexer.lex(source, lexOpts) as NjTokenizer;
  let inVariable = false;
  // Brackets open in the current tag. As in Jinja's lexer, `}}` does not end the tag while a `{` is open, so a dict
  // literal may end right before it (`{{ {'a': 1}}}`); a `}}` where ( or [ is open stays the end, and an error.
  const open: string[] = [];
  let previous: NjToken | null = null;
  const queued: NjToken[] = [];
  const lexed = tok.nextToken.bind(tok);
  const next = (): NjToken | null => {
    if (queued.length > 0) return queued.shift()!;
    if (open.at(-1) === '{' && tok.in_code && tok.str.startsWith('}}', tok.index)) {
      const closing: NjToken = { type: 'right-curly', value: '}', lineno: tok.lineno, colno: tok.colno };
      tok.forward();
      return closing;
    }
    const t = lexed();
    // Jinja reads no float right after a dot: `item.1.x` is item[1].x and `item.1.2` item[1][2] (nunjucks lexed `1.`).
    if (t?.type === 'float' && previous?.type === njLexer.TOKEN_OPERATOR && previous.value === '.') {
      const [whole, fraction] = t.value.split('.') as [string, string];
      queued.push({ type: njLexer.TOKEN_OPERATOR, value: '.', lineno: t.lineno, colno: t.colno + whole.length });
      if (fraction !== '') queued.push({ type: njLexer.TOKEN_INT, value: fraction, lineno: t.lineno, colno: t.colno + whole.length + 1 });
      return { ...t, type: njLexer.TOKEN_INT, value: whole };
    }
    return t;
  };
  tok.nextToken = () => {
    const t = next();
    previous = t;
    if (t?.type === 'variable-start' || t?.type === 'block-start') open.length = 0;
    else if (t?.type === 'left-paren' || t?.type === 'left-bracket' || t?.type === 'left-curly') open.push(t.value);
    else if (t?.type === 'right-paren' || t?.type === 'right-bracket' || t?.type === 'right-curly') open.pop();
    if (t?.type === 'variable-start') inVariable = true;
    else if (t?.type === 'variable-end') inVariable = false;
    else if (t?.type === 'comment' && lexOpts.trimBlocks) {
      // Jinja's trim_blocks also removes the newline after a comment; nunjucks only does it for block tags.
      if (tok.current() === '\n') tok.forward();
      else if (tok.current() === '\r') {
        tok.forward();
        if (tok.current() === '\n') tok.forward();
      }
    }
    return t;
  };
  tok._parseString = (delimiter: string): string => {
    tok.forward();
    let raw = '';
    while (!tok.isFinished() && tok.current() !== delimiter) {
      const c = tok.current();
      raw += c;
      tok.forward();
      // An escaped character never ends the literal, whatever the mode.
      if (c === '\\' && !tok.isFinished()) {
        raw += tok.current();
        tok.forward();
      }
    }
    tok.forward();
    return rawInVariables && inVariable ? raw : pyUnescape(raw);
  };
  return tok;
}

function parse(source: string, opts: TemplateOptions, rawInVariables: boolean): NjNode {
  try {
    const p = new JinjaParser(makeTokenizer(source, opts, rawInVariables));
    p.extensions = [];
    return p.parseAsRoot();
  } catch (e) {
    throw toSyntaxFailure(e, source);
  }
}

function toSyntaxFailure(e: unknown, source: string): SyntaxFailure {
  const err = e as { message?: string; lineno?: number; colno?: number };
  const msg = String(err.message ?? e)
    .replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^parse\w*: /, '')
    .trim();
  return new SyntaxFailure(msg, err.lineno, err.colno, source);
}

/** The single expression of a `{{ expr }}` template, or undefined when the template is anything more. */
function singleExpression(root: NjNode): NjNode | undefined {
  if (root.children.length !== 1) return undefined;
  const out = root.children[0]!;
  if (out.typename !== 'Output' || out.children.length !== 1) return undefined;
  const expr = out.children[0]!;
  return expr.typename === 'TemplateData' ? undefined : expr;
}

/**
 * value: a playbook value (native result for one `{{ expr }}`, backslashes literal inside `{{ }}` as Ansible);
 * cond: a bare expression (when:), Jinja escapes; text: a template file, Jinja escapes, always a string.
 */
type CompileMode = 'value' | 'cond' | 'text';

function compile(source: string, mode: CompileMode, opts: TemplateOptions): Compiled {
  const key = `${mode}${opts.trimBlocks === false ? 'T' : ''}${opts.lstripBlocks ? 'L' : ''}\u0000${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // Jinja (keep_trailing_newline=False) drops one newline at the end of the source; Ansible then pads the output
  // back to the source's count of trailing newlines (preserve_trailing_newlines), which we do in runText.
  const newlines = trailingNewlines(source);
  const body = newlines > 0 ? source.replace(/\r?\n$/, '') : source;
  const root = parse(body, opts, mode === 'value');
  const expr = mode === 'text' || newlines > 0 ? undefined : singleExpression(root);
  const compiled = expr ? compileExprNode(expr, source) : compileRoot(root, source, newlines);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

function compileExpression(expr: string): Compiled {
  // A bare expression is the same as `{{ expr }}` in value mode; `{{ }}` inside it is a user mistake we report.
  return compile(`{{ ${expr} }}`, 'cond', {});
}

function compileExprNode(node: NjNode, source: string): Compiled {
  const c = new JinjaCompiler();
  const frame = new nj.runtime.Frame();
  try {
    c._emit('var lineno = 0; var colno = 0; return (');
    c.compile(node, frame);
    c._emit(');');
    const fn = new Function('env', 'context', 'frame', 'runtime', c.getCode()) as ExprFn;
    return { kind: 'expr', fn, source };
  } catch (e) {
    throw toSyntaxFailure(e, source);
  }
}

function trailingNewlines(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\n'; i--) n++;
  return n;
}

function compileRoot(root: NjNode, source: string, newlines: number): Compiled {
  const c = new JinjaCompiler() as unknown as NjCompilerBase & { compileRoot(node: NjNode, frame: null): void };
  try {
    c.compileRoot(root, null);
    const props = new Function(c.getCode())() as { root: RootFn };
    return { kind: 'text', root: props.root, source, newlines };
  } catch (e) {
    throw toSyntaxFailure(e, source);
  }
}

/** A text template's output (as Jinja renders it: no trailing newline added back), in `context` and `frame`. */
function runRoot(compiled: Compiled, context: RenderContext, frame: NjFrame): string {
  if (compiled.kind !== 'text') throw new Error('internal: expected a text template');
  let result = '';
  let failure: unknown;
  compiled.root(jinjaEnv, context, frame, jinjaRuntime, (err, out) => {
    if (err) failure = err;
    else result = out ?? '';
  });
  if (failure !== undefined) {
    // Tag the position with this template, so an error from a nested variable's template is not placed in ours.
    const pos = (failure as { templatePos?: TemplatePos }).templatePos;
    if (pos && pos.source === undefined) pos.source = compiled.source;
    throw failure;
  }
  return result;
}

function runExpr(compiled: Compiled, state: RenderState): unknown {
  if (compiled.kind !== 'expr') throw new Error('internal: expected an expression');
  return compiled.fn(jinjaEnv, new RenderContext(state), new nj.runtime.Frame(), jinjaRuntime);
}

function runText(compiled: Compiled, state: RenderState): string {
  const result = runRoot(compiled, new RenderContext(state), new nj.runtime.Frame());
  const missing = (compiled.kind === 'text' ? compiled.newlines : 0) - trailingNewlines(result);
  return missing > 0 ? result + '\n'.repeat(missing) : result;
}

// ───────────────────────────── errors: everything becomes a positioned TemplateError ─────────────────────────────

function whereText(where: SourcePos | undefined, source: unknown): string {
  if (where) return `${where.file}:${where.line}:${where.col}`;
  const s = typeof source === 'string' ? source : JSON.stringify(source);
  return `template ${JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s)}`;
}

function knownNames(vars: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const k in vars) names.push(k);
  return names;
}

/** Top-level renders nest through hostvars views; a bound stops a loop that spans hosts. */
let nesting = 0;
const MAX_NESTING = 64;

function withErrors<T>(state: RenderState, source: unknown, f: () => T): T {
  if (nesting >= MAX_NESTING) {
    throw new TemplateError('E_TEMPLATE_CYCLE', `templates nest more than ${MAX_NESTING} levels deep in ${whereText(state.where, source)}`, {
      ...(state.where ? { pos: state.where } : {}),
      hint: 'a variable probably refers to itself through hostvars',
    });
  }
  nesting++;
  try {
    return f();
  } catch (e) {
    throw toTemplateError(e, state, source);
  } finally {
    nesting--;
  }
}

/**
 * Where to report an error: inside the template file when it is known (`templates/vnc.j2:12:5, used by
 * play.yml:8:7`), else at `where` (the task), with the template's own line in the message when it has several.
 */
function errorPlace(
  state: RenderState,
  source: unknown,
  tpl: { line: number; col: number } | undefined,
): { at: string; base: { pos?: SourcePos; excerpt?: string } } {
  const where = state.where;
  if (tpl && typeof source === 'string') {
    const excerpt = formatExcerpt(source, tpl.line, tpl.col);
    if (state.templateFile !== undefined) {
      const pos = { file: state.templateFile, line: tpl.line, col: tpl.col };
      const used = where ? ` (template used at ${where.file}:${where.line}:${where.col})` : '';
      return { at: `${pos.file}:${pos.line}:${pos.col}${used}`, base: { pos, excerpt } };
    }
    if (source.includes('\n')) {
      return { at: `template line ${tpl.line} in ${whereText(where, source)}`, base: { ...(where ? { pos: where } : {}), excerpt } };
    }
  }
  return { at: whereText(where, source), base: where ? { pos: where } : {} };
}

function toTemplateError(e: unknown, state: RenderState, source: unknown): TemplateError {
  if (e instanceof TemplateError) return e;
  const tplPos = (e as { templatePos?: TemplatePos } | null)?.templatePos;
  const { at, base } = errorPlace(state, source, tplPos && tplPos.source === source ? tplPos : undefined);
  if (e instanceof UndefinedAccess) {
    const u = e.undef;
    const inner = u instanceof NestedUndefined ? u.inner : u;
    let hint: string | undefined;
    if (inner.missingAttr) {
      const near = nearest(inner.missingAttr.attr, inner.missingAttr.candidates);
      hint = near
        ? `did you mean '${near}'?`
        : inner.missingAttr.candidates.length
          ? `it has: ${inner.missingAttr.candidates.slice(0, 12).join(', ')}`
          : undefined;
    } else if (!inner.customMessage) {
      // One- and two-letter names are near everything; a suggestion there would be noise.
      const near = inner.name.length < 3 ? undefined : nearest(inner.name, [...knownNames(state.vars), ...Object.keys(GLOBALS)]);
      hint = near
        ? `did you mean '${near}'?`
        : `define '${inner.name}' (vars, inventory, -e) or give a fallback: {{ ${inner.name} | default(...) }}`;
    }
    return new TemplateError('E_TEMPLATE_UNDEFINED', `${u.describe()} in ${at}`, { ...base, ...(hint ? { hint } : {}), cause: e });
  }
  if (e instanceof CycleError) {
    return new TemplateError('E_TEMPLATE_CYCLE', `${e.message} in ${at}`, {
      ...base,
      hint: 'a variable cannot be defined in terms of itself; break the loop with a literal value',
      cause: e,
    });
  }
  if (e instanceof SyntaxFailure) {
    const line = e.line ?? 1;
    const col = e.col ?? 1;
    const isFilter = /^no (filter|test) named/.test(e.message);
    const isLookup = /^no lookup named/.test(e.message);
    const code = isFilter ? 'E_TEMPLATE_FILTER' : isLookup ? 'E_TEMPLATE_LOOKUP' : 'E_TEMPLATE_SYNTAX';
    const text = `${isFilter || isLookup ? '' : 'template syntax error: '}${e.message}`;
    if (state.templateFile !== undefined && e.source === source) {
      const place = errorPlace(state, source, { line, col });
      return new TemplateError(code, `${text} in ${place.at}`, { ...place.base, cause: e });
    }
    const where = state.where;
    return new TemplateError(code, `${text} (template line ${line}, column ${col}) in ${whereText(where, source)}`, {
      ...(where ? { pos: where } : {}),
      excerpt: formatExcerpt(e.source, line, col),
      cause: e,
    });
  }
  if (e instanceof LookupError) {
    return new TemplateError('E_TEMPLATE_LOOKUP', `${e.message} in ${at}`, { ...base, hint: e.hint, cause: e });
  }
  const code = (e as { code?: unknown }).code === 'E_TEMPLATE_FILTER' ? 'E_TEMPLATE_FILTER' : 'E_TEMPLATE_RUNTIME';
  const msg = e instanceof Error ? e.message : String(e);
  return new TemplateError(code, `error while rendering: ${msg} in ${at}`, { ...base, cause: e });
}

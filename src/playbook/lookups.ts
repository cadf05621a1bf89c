import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nearest } from '../errors.js';
import { globNames } from './glob.js';
import {
  Undefined,
  UndefinedAccess,
  isLazyMapping,
  isMapping,
  mappingEntries,
  percentFormat,
  pyStr,
  toBool,
  typeName,
  unwrapUnsafe,
  type LazyMapping,
  type Mapping,
} from './filters.js';

/*
 * Ansible's lookup plugins, as `lookup()`/`query()` call them in templates and as `with_<name>:` loops call them.
 * Each follows the plugin of ansible-core 2.14 (community.general for flattened and cartesian): the same terms,
 * the same results, the same files found. The lookups that read and render controller files (file, template) and
 * password (password-lookup.ts) and the refused pipe join these in template.ts's table, which renders and decrypts.
 */

/** What a lookup may ask of the template engine. */
export interface LookupEnv {
  /** A variable as a template sees it (an Undefined when it is not defined). */
  resolve(name: string): unknown;
  /**
   * Which folder of a role or playbook files are looked up in first: `files`, or `templates`/`vars` for a
   * `with_first_found` loop on a template/include_vars task (Ansible's `_subdir`).
   */
  subdir?: ControllerSubdir;
}

export type ControllerSubdir = 'files' | 'templates' | 'vars';

export type LookupFn = (env: LookupEnv, terms: unknown[], kw: Mapping) => unknown[];

/** A lookup's refusal, turned into a positioned E_TEMPLATE_LOOKUP (or a failed loop) by the caller. */
export class LookupError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

// ───────────────────────────── where controller files are searched ─────────────────────────────

/**
 * Ansible's DataLoader.path_dwim_relative_stack: each folder of the task's search path (the role's folder and
 * the task file's folder, `ansible_search_path`) as DIR/SUBDIR/NAME then DIR/NAME, then the playbook's folder the
 * same way. SUBDIR is skipped when NAME already starts with it. Absolute and ~ paths are taken as they are.
 */
export function controllerCandidates(env: LookupEnv, subdir: ControllerSubdir, name: string): string[] {
  if (name.startsWith('~')) return [path.join(os.homedir(), name.slice(1))];
  if (path.isAbsolute(name)) return [path.normalize(name)];
  const bases = [...searchPath(env), baseDir(env)];
  const withSubdir = name.split('/')[0] !== subdir;
  const out: string[] = [];
  for (const dir of bases) {
    if (withSubdir) out.push(path.join(dir, subdir, name));
    out.push(path.join(dir, name));
  }
  return [...new Set(out)];
}

export function findControllerFile(env: LookupEnv, subdir: ControllerSubdir, name: string): string | undefined {
  return controllerCandidates(env, subdir, name).find((c) => existsSync(c));
}

/** The task's search path: `ansible_search_path` as the runner sets it, else the playbook's folder. */
function searchPath(env: LookupEnv): string[] {
  const v = unwrapUnsafe(env.resolve('ansible_search_path'));
  if (Array.isArray(v)) return v.map((p) => pyStr(p));
  return [baseDir(env)];
}

/** Ansible's loader basedir: the playbook's folder (the working directory where no playbook is known). */
function baseDir(env: LookupEnv): string {
  const dir = unwrapUnsafe(env.resolve('playbook_dir'));
  return typeof dir === 'string' ? dir : process.cwd();
}

// ───────────────────────────── helpers shared by the plugins ─────────────────────────────

/** Python lists and tuples alike (`LookupBase._flatten`): one level, lists spliced in. */
function flattenOnce(terms: unknown[]): unknown[] {
  return terms.flatMap((t) => {
    const v = unwrapUnsafe(t);
    return Array.isArray(v) ? v : [t];
  });
}

/**
 * ansible.utils.listify.listify_lookup_plugin_terms on a value already rendered: a string or a scalar becomes a
 * one-item list; a list stays; a dict stays a dict (callers iterate its keys, as Python does).
 */
export function listifyTerms(value: unknown): unknown[] | Mapping | LazyMapping {
  const v = unwrapUnsafe(value);
  if (Array.isArray(v)) return v;
  if (isLazyMapping(v) || isMapping(v)) return v;
  return [v];
}

/** A listified term as the list Python would iterate (a dict's keys). */
export function asIterable(value: unknown): unknown[] {
  const l = listifyTerms(value);
  if (Array.isArray(l)) return l;
  return isLazyMapping(l) ? l.keys() : Object.keys(l);
}

/** Python's int(text, 0): 0x/0o/0b prefixes, and no leading zeros on decimals. */
function pyIntAuto(text: string): number | undefined {
  const s = text.trim().replace(/_/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0+|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  const n = /^0[xob]/i.test(body) ? parseInt(body.slice(2), { x: 16, o: 8, b: 2 }[body[1]!.toLowerCase() as 'x' | 'o' | 'b']) : parseInt(body, 10);
  return m[1] === '-' ? -n : n;
}

// ───────────────────────────── first_found ─────────────────────────────

/** first_found's "magic extra splitting": strings split on any of `chars`, lists split item by item. */
function splitOn(value: unknown, chars: string): string[] {
  const v = unwrapUnsafe(value);
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap((x) => splitOn(x, chars));
  return pyStr(v).split(new RegExp(`[${chars}]`));
}

/**
 * first_found (ansible-core 2.14): terms are file names, lists of them, or `{files, paths, skip}` dicts.
 * With paths, each path/file pair is looked up (relative ones in the search path, like any name); the first that
 * exists is the result. None found: an error, or no item at all with `skip: true`.
 */
function firstFound(env: LookupEnv, terms: unknown[], kw: Mapping): unknown[] {
  let skip = false;
  const collect = (list: unknown[]): string[] => {
    let total: string[] = [];
    for (const raw of list) {
      const term = unwrapUnsafe(raw);
      let options: Mapping;
      if (isMapping(term)) options = term;
      else if (typeof term === 'string') options = kw;
      else if (Array.isArray(term)) {
        total.push(...collect(term));
        continue;
      } else {
        throw new LookupError(`lookup('first_found'): invalid term ${pyStr(term)} (${typeName(term)})`, 'give file names, lists of them, or a {files: [...], paths: [...]} mapping');
      }
      const files = splitOn(options['files'], ',;');
      const paths = splitOn(options['paths'], ',:;');
      skip = toBool(options['skip'] ?? false);
      if (paths.length > 0) {
        for (const p of paths) for (const f of files) total.push(path.join(p, f));
      } else if (files.length > 0) {
        // As in ansible-core 2.14, a files: list replaces what the terms before it gave.
        total = files;
      } else total.push(pyStr(term));
    }
    return total;
  };
  const candidates = collect(terms);
  const subdir = env.subdir ?? 'files';
  for (const name of candidates) {
    const found = findControllerFile(env, subdir, name);
    if (found) return [found];
  }
  if (skip) return [];
  const searched = candidates.length === 0 ? '(no file names were given)' : candidates.map((c) => `'${c}'`).join(', ');
  throw new LookupError(
    `lookup('first_found'): no file was found (tried ${searched})`,
    `relative names are searched in ${[...searchPath(env), baseDir(env)].map((d) => `${d}/{${subdir}/,}`).join(', ')}; add skip: true to allow none`,
  );
}

// ───────────────────────────── subelements ─────────────────────────────

const SUBELEMENTS_FLAGS = ['skip_missing'];

/** A shallow copy of each dict on the way to `keys`' last one, so removing that key changes nothing shared. */
function copyAlong(item: Mapping, keys: string[]): Mapping {
  const top: Mapping = { ...item };
  let cur = top;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (!isMapping(next)) break;
    cur[k] = { ...next };
    cur = cur[k] as Mapping;
  }
  return top;
}

/**
 * subelements: [list of dicts (or a dict of them), 'key.path', {skip_missing: bool}] → [[dict, subitem], …].
 * As in Ansible, the first element of each pair no longer holds the list it was paired from.
 */
function subelements(_env: LookupEnv, terms: unknown[]): unknown[] {
  const fail = (msg = ''): never => {
    throw new LookupError(`subelements lookup expects a list of two or three items${msg ? `, ${msg}` : ''}`, "e.g. with_subelements: ['{{ users }}', 'authorized_keys', {skip_missing: true}]");
  };
  if (terms.length < 2 || terms.length > 3) fail();
  const listTerm = unwrapUnsafe(terms[0]);
  const first = Array.isArray(listTerm) || isMapping(listTerm) ? listTerm : listifyTerms(listTerm);
  const keyTerm = unwrapUnsafe(terms[1]);
  if (!(Array.isArray(first) || isMapping(first)) || typeof keyTerm !== 'string') fail('first a dict or a list, second a string pointing to the subkey');
  const keys = (keyTerm as string).split('.');
  let elements: unknown[];
  if (isMapping(first)) {
    // A registered result that was skipped as a whole gives nothing; another dict loops over its values.
    if (first['skipped'] !== undefined && first['skipped'] !== false) return [];
    elements = Object.values(first);
  } else elements = first as unknown[];
  const flags = terms.length === 3 ? unwrapUnsafe(terms[2]) : {};
  if (!isMapping(flags)) fail(`the optional third item must be a dict with flags ${SUBELEMENTS_FLAGS.join(', ')}`);
  const skipMissing = toBool((flags as Mapping)['skip_missing'] ?? false);
  const out: unknown[] = [];
  for (const raw of elements) {
    const item0 = unwrapUnsafe(raw);
    if (!isMapping(item0)) throw new LookupError(`subelements lookup expects a dictionary, got '${pyStr(item0)}'`, 'each item of the first list must be a dict');
    if (item0['skipped'] !== undefined && item0['skipped'] !== false) continue;
    const paired = copyAlong(item0, keys);
    let sub: Mapping = paired;
    let sublist: unknown[] = [];
    for (const [i, key] of keys.entries()) {
      const last = key === keys[keys.length - 1] || i === keys.length - 1;
      if (!Object.hasOwn(sub, key)) {
        if (skipMissing) continue;
        throw new LookupError(`could not find '${key}' key in iterated item '${pyStr(sub)}'`, 'add {skip_missing: true} as the third item to skip such items');
      }
      const value = unwrapUnsafe(sub[key]);
      if (!last) {
        if (!isMapping(value)) {
          if (skipMissing) continue;
          throw new LookupError(`the key ${key} should point to a dictionary, got '${pyStr(value)}'`, `'${keyTerm as string}' is a path of keys through nested dicts`);
        }
        sub = value;
      } else {
        if (!Array.isArray(value)) throw new LookupError(`the key ${key} should point to a list, got '${pyStr(value)}'`, 'the last key must name a list');
        sublist = value;
        delete sub[key];
      }
    }
    for (const item1 of sublist) out.push([paired, item1]);
  }
  return out;
}

// ───────────────────────────── sequence ─────────────────────────────

interface SequenceSpec {
  start: number;
  end?: number;
  count?: number;
  stride: number;
  format: string;
}

const SEQUENCE_SHORTCUT = /^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(\/(0?x?[0-9a-f]+))?(:(.+))?$/i;

function sequenceInt(name: string, text: unknown): number {
  const n = typeof text === 'number' && Number.isInteger(text) ? text : pyIntAuto(pyStr(text));
  if (n === undefined) throw new LookupError(`can't parse ${name}=${pyStr(text)} as integer`, 'numbers are decimal, 0x… (hex) or 0o… (octal)');
  return n;
}

/** `[start-]end[/stride][:format]`, or undefined when the term is not in that form. */
function sequenceShortcut(term: string): SequenceSpec | undefined {
  const m = SEQUENCE_SHORTCUT.exec(term);
  if (!m) return undefined;
  const spec: SequenceSpec = { start: 1, stride: 1, format: '%d' };
  if (m[2] !== undefined) spec.start = sequenceInt('start', m[2]);
  spec.end = sequenceInt('end', m[3]);
  if (m[5] !== undefined) spec.stride = sequenceInt('stride', m[5]);
  if (m[7] !== undefined) spec.format = m[7];
  return spec;
}

/** Ansible's parse_kv for `start=1 end=5 format=x%02d` (quotes group a value with spaces). */
function parseKeyValues(term: string): Mapping {
  const out: Mapping = {};
  for (const m of term.matchAll(/(\w+)=("([^"]*)"|'([^']*)'|\S*)/g)) out[m[1]!] = m[3] ?? m[4] ?? m[2]!;
  const rest = term.replace(/(\w+)=("([^"]*)"|'([^']*)'|\S*)/g, '').trim();
  if (rest !== '') throw new LookupError(`unrecognized arguments to with_sequence: '${rest}'`, "write key=value pairs (start=1 end=5 stride=1 format=%d) or the short form '[start-]end[/stride][:format]'");
  return out;
}

function sequenceFromKeyValues(args: Mapping): SequenceSpec {
  const spec: SequenceSpec = { start: 1, stride: 1, format: '%d' };
  for (const key of ['start', 'end', 'count', 'stride'] as const) {
    const v = unwrapUnsafe(args[key]);
    if (v !== undefined && v !== null) spec[key] = sequenceInt(key, v);
  }
  if (args['format'] !== undefined) spec.format = pyStr(unwrapUnsafe(args['format']));
  const unknown = Object.keys(args).filter((k) => !['start', 'end', 'count', 'stride', 'format'].includes(k));
  if (unknown.length > 0) throw new LookupError(`unrecognized arguments to with_sequence: ${unknown.map((k) => `'${k}'`).join(', ')}`, 'known: start, end, count, stride, format');
  return spec;
}

function generateSequence(spec: SequenceSpec): string[] {
  let { start, stride } = spec;
  let end = spec.end;
  if (spec.count === undefined && end === undefined) throw new LookupError('must specify count or end in with_sequence', 'e.g. start=1 end=5, or count=5');
  if (spec.count !== undefined && end !== undefined) throw new LookupError("can't specify both count and end in with_sequence", 'keep one of them');
  if (spec.count !== undefined) {
    if (spec.count !== 0) end = start + spec.count * stride - 1;
    else [start, end, stride] = [0, 0, 0];
  }
  const last = end!;
  if (stride > 0 && last < start) throw new LookupError('to count backwards make stride negative', `start=${start} end=${last}: give stride=-1`);
  if (stride < 0 && last > start) throw new LookupError("to count forward don't make stride negative", `start=${start} end=${last}`);
  if ((spec.format.match(/%/g) ?? []).length !== 1) throw new LookupError(`bad formatting string: ${spec.format}`, 'the format holds exactly one % directive, e.g. host%02d');
  if (stride === 0) return [];
  const out: string[] = [];
  const stop = last + (stride > 0 ? 1 : -1);
  for (let i = start; stride > 0 ? i < stop : i > stop; i += stride) out.push(percentFormat(spec.format, [i]));
  return out;
}

/**
 * sequence: one sequence per term, a term being `start=1 end=5 stride=1 format=%d` or `[start-]end[/stride][:format]`;
 * keyword arguments (query('sequence', start=1, end=5), as later ansible-core versions take) make one more.
 */
function sequence(_env: LookupEnv, terms: unknown[], kw: Mapping): unknown[] {
  const out: unknown[] = [];
  for (const raw of terms) {
    const term = unwrapUnsafe(raw);
    const spec = isMapping(term) ? sequenceFromKeyValues(term) : (sequenceShortcut(pyStr(term)) ?? sequenceFromKeyValues(parseKeyValues(pyStr(term))));
    out.push(...generateSequence(spec));
  }
  if (terms.length === 0 && Object.keys(kw).length > 0) out.push(...generateSequence(sequenceFromKeyValues(kw)));
  return out;
}

// ───────────────────────────── fileglob ─────────────────────────────

/**
 * fileglob: the controller files matching each pattern. A pattern with a folder finds that folder as a file lookup
 * would; a bare one is tried in each search-path folder's files/ and the folder itself, the first with matches wins.
 * Names come sorted (Python's glob gives the folder's order).
 */
function fileglob(env: LookupEnv, terms: unknown[]): unknown[] {
  const out: string[] = [];
  for (const raw of terms) {
    const term = pyStr(unwrapUnsafe(raw));
    const base = path.basename(term);
    const dirs = base !== term ? [findControllerFile(env, 'files', path.dirname(term))] : searchPath(env).flatMap((p) => [path.join(p, 'files'), p]);
    for (const dir of dirs) {
      if (!dir) continue;
      const found = globNames(dir, base).map((n) => path.join(dir, n));
      if (found.length > 0) {
        out.push(...found);
        break;
      }
    }
  }
  return out;
}

// ───────────────────────────── the table ─────────────────────────────

/** community.general.flattened: every nested list spliced in; a 'None'/'null' string ends the list. */
function flattenDeep(terms: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const raw of terms) {
    let term = unwrapUnsafe(raw);
    while (Array.isArray(term) && term.length === 1) term = unwrapUnsafe(term[0]);
    if (term === 'None' || term === 'null') break;
    if (Array.isArray(term)) out.push(...flattenDeep(term));
    else out.push(term);
  }
  return out;
}

function requireList(terms: unknown[], what: string): unknown[][] {
  if (terms.length === 0) throw new LookupError(`with_${what} requires at least one element in each list`, `e.g. with_${what}: [[1, 2], [a, b]]`);
  return terms.map(asIterable);
}

/** Python's iteration of one value: a list's items, a string's characters, a dict's keys. */
function pyIterate(value: unknown, what: string): unknown[] {
  const v = unwrapUnsafe(value);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (isMapping(v)) return Object.keys(v);
  throw new LookupError(`${what}: '${typeName(v)}' object is not iterable`, 'give lists');
}

function cartesian(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

/** A lookup and what it does, in one line for the README's reference (generated: `npm run gen:docs`). */
export interface LookupPlugin {
  run: LookupFn;
  doc: string;
}

export const BASE_LOOKUPS: Record<string, LookupPlugin> = {
  env: {
    doc: "The controller's environment variables (`default=` for unset ones).",
    run: (_env, terms, kw) => terms.map((t) => process.env[pyStr(t)] ?? (kw['default'] === undefined ? '' : kw['default'])),
  },
  vars: {
    doc: 'Variables by name (`default=` for undefined ones).',
    run: (env, terms, kw) =>
      terms.map((t) => {
        const v = env.resolve(pyStr(t));
        if (v instanceof Undefined && kw['default'] !== undefined) return kw['default'];
        if (v instanceof Undefined) throw new UndefinedAccess(v);
        return v;
      }),
  },
  first_found: {
    doc: 'The first controller file that exists: names, or `{files, paths, skip}`; relative names searched as Ansible does.',
    run: firstFound,
  },
  items: { doc: 'The terms, nested lists flattened one level (`with_items`).', run: (_env, terms) => flattenOnce(terms) },
  list: { doc: 'The terms as they are.', run: (_env, terms) => terms },
  indexed_items: { doc: '`[index, item]` pairs of the terms flattened one level.', run: (_env, terms) => flattenOnce(terms).map((item, i) => [i, item]) },
  flattened: { doc: 'The terms with every nested list flattened (community.general.flattened).', run: (_env, terms) => flattenDeep(terms) },
  dict: {
    doc: '`{key, value}` items of each dict.',
    run: (_env, terms) =>
      terms.flatMap((t) => {
        const v = unwrapUnsafe(t);
        if (!isMapping(v)) throw new LookupError(`with_dict expects a dict, got ${typeName(v)}`, 'give a mapping, e.g. with_dict: "{{ users }}" where users is a dict');
        return mappingEntries(v, 'with_dict').map(([key, value]) => ({ key, value }));
      }),
  },
  subelements: { doc: '`[item, subitem]` for each item of a list of dicts and each element of its list under a key path (`skip_missing`).', run: subelements },
  together: {
    doc: 'The lists zipped, shorter ones padded with null.',
    run: (_env, terms) => {
      const lists = requireList(terms, 'together');
      const length = Math.max(...lists.map((l) => l.length));
      return Array.from({ length }, (_, i) => flattenOnce(lists.map((l) => (i < l.length ? l[i] : null))));
    },
  },
  nested: {
    doc: 'Every combination of the lists (the cartesian product).',
    run: (_env, terms) => {
      const [first, ...rest] = requireList(terms, 'nested');
      // Ansible's _combine flattens each pair one level as it goes, then each combination once more.
      const combined = rest.reduce<unknown[]>((acc, list) => acc.flatMap((x) => list.map((y) => flattenOnce([x, y]))), first!);
      return combined.map((x) => pyIterate(x, 'with_nested item'));
    },
  },
  cartesian: { doc: 'Every combination of the lists (community.general.cartesian).', run: (_env, terms) => cartesian(requireList(terms, 'cartesian')).map(flattenOnce) },
  sequence: { doc: 'Numbers as text: `start=1 end=5 stride=1 format=%d` (or `count=`), or `[start-]end[/stride][:format]`.', run: sequence },
  fileglob: { doc: 'Controller files matching a pattern (in files/ and the search path), sorted.', run: fileglob },
};

/** Collection lookups vncplay implements, by their full names (ansible-core redirects the short ones too). */
const LOOKUP_ALIASES: Record<string, string> = {
  'community.general.flattened': 'flattened',
  'community.general.cartesian': 'cartesian',
};

/** The table's name for `name` as written (ansible.builtin.X and the known collection names resolved). */
export function canonicalLookupName(name: string): string {
  if (name.startsWith('ansible.builtin.')) return name.slice('ansible.builtin.'.length);
  return LOOKUP_ALIASES[name] ?? name;
}

/** The error for a lookup vncplay does not have, naming it and the nearest known one. */
export function unknownLookupHint(name: string, known: string[]): string {
  const near = nearest(name, known);
  return near ? `did you mean '${near}'?` : `supported lookups: ${known.sort().join(', ')}`;
}

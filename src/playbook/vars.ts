import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { decryptVarsText } from '../vault/vars-file.js';
import { PlaybookError, TemplateError, UsageError, formatExcerpt } from '../errors.js';
import { decryptFileText, recordSecret } from '../vault/session.js';
import { PerHostVarsFile } from './model.js';
import { parseYamlSource } from './yaml-source.js';
import { aliasProblem } from '../inventory/yaml-aliases.js';
import { ANSIBLE_YAML_OPTIONS } from '../inventory/yaml-options.js';
import { Unsafe, isMapping, markUnsafe, type LazyMapping } from './filters.js';
import { assignOwn, setOwn } from './own-keys.js';
import { OMIT, render, resolveVariable } from './template.js';

/** Variables as written (values may hold `{{ }}`; they are rendered lazily when used). */
export type VarsMap = Record<string, unknown>;

/** One inventory group's variables; groups are applied by depth (all = 0), then priority, then name. */
export interface GroupVarsLayer {
  group: string;
  /** Distance from `all` in the group tree: all = 0, its children 1, theirs 2 … */
  depth: number;
  /** `ansible_group_priority` (default 1): higher wins among groups of the same depth. */
  priority?: number;
  vars: VarsMap;
}

/**
 * Every source of a host's variables, each in its own field, so precedence is decided in one place
 * (buildHostScope) and not by whoever spreads objects last. Lowest precedence first, as in Ansible:
 */
export interface VarLayers {
  /** roles/X/defaults/main.yml, in role order (later roles win). */
  roleDefaults?: VarsMap[];
  /** Inventory group vars, incl. group_vars/ folders; sorted here by depth, priority, name. */
  groupVars?: GroupVarsLayer[];
  /** Inventory host vars, incl. host_vars/ folders. */
  hostVars?: VarsMap;
  /** Gathered facts (ansible_facts and their ansible_* names): host data, never rendered. */
  gatheredFacts?: VarsMap;
  /** The play's `vars:`. */
  playVars?: VarsMap;
  /** The play's `vars_files:`, in order; an entry whose path needs the host's variables is read for this host. */
  varsFiles?: (VarsMap | PerHostVarsFile)[];
  /** roles/X/vars/main.yml. */
  roleVars?: VarsMap[];
  /** `vars:` of enclosing blocks, outermost first. */
  blockVars?: VarsMap[];
  /** The task's `vars:`. */
  taskVars?: VarsMap;
  /** include_vars results and include_tasks/import parameters. */
  includeVars?: VarsMap;
  /** set_fact and register results: already rendered or host data, so never rendered again. */
  hostFacts?: VarsMap;
  /** `-e` extra vars: always win over everything but the magic variables. */
  extraVars?: VarsMap;
  /** Magic variables vncplay defines itself; they cannot be overridden. */
  magic?: MagicVars;
}

export interface MagicVars {
  inventoryHostname: string;
  /** Group name → member host names, including `all` (and `ungrouped`). */
  groups: Record<string, string[]>;
  /** Defaults to the groups (other than all/ungrouped) that list this host, sorted. */
  groupNames?: string[];
  /** Usually makeHostvars(); any mapping of host name → variables works. */
  hostvars?: LazyMapping | Record<string, unknown>;
  checkMode?: boolean;
  diffMode?: boolean;
  playHosts?: string[];
  playBatch?: string[];
  playName?: string;
  playbookDir?: string;
  rolePath?: string;
  roleName?: string;
}

/** Groups in the order Ansible applies their vars: depth, then ansible_group_priority, then name. */
export function sortGroupLayers(layers: readonly GroupVarsLayer[]): GroupVarsLayer[] {
  return [...layers].sort(
    (a, b) => a.depth - b.depth || (a.priority ?? 1) - (b.priority ?? 1) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0),
  );
}

/** Values that must not be rendered again are wrapped once, key by key. */
export function markUnsafeEach(vars: VarsMap): VarsMap {
  const out: VarsMap = {};
  for (const [k, v] of Object.entries(vars)) setOwn(out, k, markUnsafe(v));
  return out;
}

/**
 * The variables visible to one host for one task, merged in Ansible's precedence order (later layers replace
 * earlier ones key by key; dicts are replaced, not merged, as with Ansible's default hash_behaviour).
 * Values stay raw: render() resolves `{{ }}` in them lazily, in this same scope, with a cycle check.
 */
export function buildHostScope(layers: VarLayers): Record<string, unknown> {
  const varsFiles = layers.varsFiles ?? [];
  if (!varsFiles.some((v) => v instanceof PerHostVarsFile)) return scopeOf(layers);
  // Ansible templates such a path with everything the host has at that point (facts, -e, magic variables):
  // here, the scope without the per-host files; then each becomes its file's variables, in its place.
  const known = scopeOf({ ...layers, varsFiles: varsFiles.filter((v) => !(v instanceof PerHostVarsFile)) });
  const gathered = isMapping(layers.hostFacts?.['ansible_facts']) && Object.keys(layers.hostFacts['ansible_facts']).length > 0;
  return scopeOf({ ...layers, varsFiles: varsFiles.map((v) => (v instanceof PerHostVarsFile ? varsFileForHost(v, known, gathered) : v)) });
}

/**
 * The variables of a per-host vars_files entry, as Ansible's VariableManager reads them: the first of its paths that
 * renders to an existing file. A path that reads an undefined variable skips the entry while the host has no facts
 * yet (facts may be what it needs), and is an error once they were gathered; no existing file is an error.
 */
function varsFileForHost(entry: PerHostVarsFile, scope: Record<string, unknown>, gathered: boolean): VarsMap {
  const tried: string[] = [];
  for (const option of entry.options) {
    let rel: string;
    try {
      rel = String(render(option, scope, entry.pos));
    } catch (e) {
      if (!(e instanceof TemplateError) || e.code !== 'E_TEMPLATE_UNDEFINED') throw e;
      if (!gathered) return {};
      throw new PlaybookError('E_VARS_FILE_TEMPLATE', `an undefined variable was found when attempting to template the vars_files item \`${option}\`: ${e.message}`, {
        pos: entry.pos,
        hint: 'define the variable for every host of the play (inventory, facts, -e), or list a fallback file that exists',
      });
    }
    const file = path.isAbsolute(rel) ? rel : path.join(entry.dir, rel);
    tried.push(file);
    if (existsSync(file) && statSync(file).isFile()) return readVarsFileOnce(file);
  }
  throw new PlaybookError('E_MISSING_FILE', `vars file ${JSON.stringify(entry.options.length === 1 ? entry.options[0] : entry.options)} was not found for this host`, {
    pos: entry.pos,
    hint: `looked for: ${tried.join(', ')}`,
  });
}

/** Per-host vars files read so far, by path and modification time: every host and task reads a file once. */
const perHostFiles = new Map<string, VarsMap>();

function readVarsFileOnce(file: string): VarsMap {
  const key = `${file}|${statSync(file).mtimeMs}`;
  const cached = perHostFiles.get(key);
  if (cached) return cached;
  const { text, encrypted } = decryptFileText(readFileSync(file, 'utf8'), file);
  const { source, errors } = parseYamlSource(file, text);
  if (errors[0]) throw errors[0];
  const data = source.root === null ? {} : source.toJS(source.root);
  if (data !== null && data !== undefined && !isMapping(data)) throw new PlaybookError('E_VARS_SHAPE', `vars file ${file} must be a mapping of variable names to values`, { pos: { file, line: 1, col: 1 } });
  const vars = (data ?? {}) as VarsMap;
  if (encrypted) recordSecret(vars);
  perHostFiles.set(key, vars);
  return vars;
}

function scopeOf(layers: VarLayers): Record<string, unknown> {
  const scope: Record<string, unknown> = {};
  const put = (vars: VarsMap | undefined, unsafe = false): void => {
    if (!vars) return;
    for (const k of Object.keys(vars)) setOwn(scope, k, unsafe ? markUnsafe(vars[k]) : vars[k]);
  };
  for (const v of layers.roleDefaults ?? []) put(v);
  for (const g of sortGroupLayers(layers.groupVars ?? [])) put(g.vars);
  put(layers.hostVars);
  put(layers.gatheredFacts, true);
  put(layers.playVars);
  for (const v of layers.varsFiles ?? []) if (!(v instanceof PerHostVarsFile)) put(v);
  for (const v of layers.roleVars ?? []) put(v);
  for (const v of layers.blockVars ?? []) put(v);
  put(layers.taskVars);
  put(layers.includeVars);
  put(layers.hostFacts, true);
  put(layers.extraVars);
  if (layers.magic) Object.assign(scope, magicVariables(layers.magic));
  return scope;
}

/** The magic variables (inventory_hostname, groups, hostvars, omit …) for one host. */
export function magicVariables(m: MagicVars): Record<string, unknown> {
  const groupNames =
    m.groupNames ??
    Object.entries(m.groups)
      .filter(([g, hosts]) => g !== 'all' && g !== 'ungrouped' && hosts.includes(m.inventoryHostname))
      .map(([g]) => g)
      .sort();
  const out: Record<string, unknown> = {
    inventory_hostname: m.inventoryHostname,
    inventory_hostname_short: m.inventoryHostname.split('.')[0],
    groups: new Unsafe(m.groups),
    group_names: new Unsafe(groupNames),
    ansible_check_mode: m.checkMode ?? false,
    ansible_diff_mode: m.diffMode ?? false,
    omit: OMIT,
  };
  if (m.hostvars) out.hostvars = new Unsafe(m.hostvars);
  if (m.playHosts) {
    out.ansible_play_hosts = new Unsafe(m.playHosts);
    out.play_hosts = out.ansible_play_hosts;
  }
  if (m.playBatch) out.ansible_play_batch = new Unsafe(m.playBatch);
  if (m.playName !== undefined) out.ansible_play_name = m.playName;
  if (m.playbookDir !== undefined) out.playbook_dir = m.playbookDir;
  if (m.rolePath !== undefined) out.role_path = m.rolePath;
  if (m.roleName !== undefined) out.role_name = m.roleName;
  return out;
}

/**
 * `hostvars`: host name → that host's variables, each rendered lazily in THAT host's scope (as Ansible does),
 * so `hostvars['web1'].vnc_port` sees web1's group vars. `scopeOf` is asked on every access (facts registered
 * since the last access are visible); it returns undefined for unknown hosts.
 */
export function makeHostvars(
  hosts: () => readonly string[],
  scopeOf: (host: string) => Record<string, unknown> | undefined,
): LazyMapping {
  return {
    lazyMapping: true,
    keys: () => [...hosts()],
    has: (h) => hosts().includes(h),
    get: (h) => {
      const scope = scopeOf(h);
      return scope ? scopeView(scope) : undefined;
    },
  };
}

/**
 * A host's scope seen as a mapping whose values are resolved (rendered) on access. `hostvars` itself is left
 * out, as in Ansible, so `hostvars[h] | to_json` does not recurse through every host forever.
 */
export function scopeView(scope: Record<string, unknown>): LazyMapping {
  const visible = (k: string): boolean => k !== 'hostvars' && Object.hasOwn(scope, k);
  return {
    lazyMapping: true,
    keys: () => Object.keys(scope).filter(visible),
    has: visible,
    get: (k) => (visible(k) ? resolveVariable(scope, k) : undefined),
  };
}

// ───────────────────────────── -e / --extra-vars ─────────────────────────────

/**
 * Parse `-e` arguments in order (later ones win): `k=v k2="a b"` (values are strings), inline JSON/YAML
 * `{"k": 1}`, and `@file.yml` / `@file.json` (relative to cwd). A missing or unreadable file and malformed
 * pairs are UsageErrors (exit 5); a file whose content is not a mapping is a PlaybookError with its position.
 */
export async function parseExtraVars(args: readonly string[], cwd: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [i, raw] of args.entries()) assignOwn(out, await parseOneExtraVar(raw, cwd, i + 1));
  return out;
}

async function parseOneExtraVar(raw: string, cwd: string, ordinal: number): Promise<Record<string, unknown>> {
  const arg = raw.trim();
  if (arg === '') return {};
  if (arg.startsWith('@')) return readExtraVarsFile(arg.slice(1), cwd);
  if (arg.startsWith('{') || arg.startsWith('[')) return parseInlineDoc(arg, ordinal);
  return parseKeyValues(arg, ordinal);
}

async function readExtraVarsFile(rel: string, cwd: string): Promise<Record<string, unknown>> {
  if (rel === '') throw new UsageError('E_EXTRA_VARS', "'-e @' needs a file name", { hint: 'write -e @vars.yml' });
  const file = path.resolve(cwd, rel);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      'E_EXTRA_VARS_FILE',
      code === 'ENOENT' ? `extra vars file not found: ${rel}` : `cannot read extra vars file ${rel}: ${(e as Error).message}`,
      { hint: `looked for ${file}`, cause: e },
    );
  }
  // A vault-encrypted file is decrypted with the command line's passwords; its values become run secrets.
  text = decryptVarsText(text, rel);
  const lc = new LineCounter();
  // Read as Ansible (PyYAML) reads it: `yes` is a boolean, `0755` an octal number.
  const doc = parseDocument(text, { ...ANSIBLE_YAML_OPTIONS, lineCounter: lc });
  const err = doc.errors[0];
  if (err) {
    const at = lc.linePos(err.pos[0]);
    throw new PlaybookError('E_EXTRA_VARS_FILE', `invalid YAML in extra vars file: ${err.message.split('\n')[0]}`, {
      pos: { file: rel, line: at.line, col: at.col },
      excerpt: formatExcerpt(text, at.line, at.col),
    });
  }
  const alias = aliasProblem(doc);
  if (alias) {
    const at = lc.linePos(alias.offset);
    throw new PlaybookError('E_YAML_ALIAS', alias.message, { pos: { file: rel, line: at.line, col: at.col }, excerpt: formatExcerpt(text, at.line, at.col), hint: alias.hint });
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) {
    throw new PlaybookError('E_EXTRA_VARS_FILE', `extra vars file must hold a mapping of names to values, not ${describe(value)}`, {
      pos: { file: rel, line: 1, col: 1 },
      hint: 'write it as `name: value` lines',
    });
  }
  return value;
}

/**
 * An inline -e document. Its errors name the -e by its place on the command line and the line and column in it,
 * without quoting it: it may hold a password (-e '{"ansible_password": …}').
 */
function parseInlineDoc(arg: string, ordinal: number): Record<string, unknown> {
  const lc = new LineCounter();
  const doc = parseDocument(arg, { ...ANSIBLE_YAML_OPTIONS, lineCounter: lc });
  const err = doc.errors[0];
  if (err) {
    const at = lc.linePos(err.pos[0]);
    const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError('E_EXTRA_VARS', `invalid JSON/YAML in -e #${ordinal} at line ${at.line}, column ${at.col}: ${reason}`, {
      hint: `quote it for the shell: -e '{"name": "value"}'`,
    });
  }
  const value = doc.toJS() as unknown;
  if (!isMapping(value)) {
    throw new UsageError('E_EXTRA_VARS', `-e #${ordinal} must be a mapping, not ${describe(value)}`, {
      hint: `write -e '{"name": "value"}' or -e name=value`,
    });
  }
  return value;
}

/** `k=v k2='a b' k3="c \"d\""`: shell-like words, each `name=value`; values are strings. */
function parseKeyValues(arg: string, ordinal: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const word of splitWords(arg, ordinal)) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? word.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      // The value is not quoted back: it may be a password.
      const shown = eq >= 0 ? `${word.slice(0, eq)}=…` : word;
      throw new UsageError('E_EXTRA_VARS', `-e expects name=value pairs, got ${JSON.stringify(shown)}`, {
        hint: 'names are letters, digits and _ (not starting with a digit); use -e @file.yml for complex values',
      });
    }
    setOwn(out, key, word.slice(eq + 1));
  }
  return out;
}

function splitWords(s: string, ordinal: number): string[] {
  let quoteAt = 0;
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && (s[i + 1] === '"' || s[i + 1] === '\\')) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      quoteAt = i;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError('E_EXTRA_VARS', `unterminated ${quote} quote in -e #${ordinal} (opened at column ${quoteAt + 1})`);
  if (inWord) words.push(cur);
  return words;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { roleOptions } from '../../playbook/role-argument-spec.js';
import { pyStr } from '../../playbook/filters.js';
import { foundIn, parseArgs, type SpecIssue } from '../spec/parse.js';
import type { ModuleSpec, Options, RequiredIf } from '../spec/types.js';
import { controllerPythonPaths } from './collections.js';
import { pythonType } from '../py-text.js';
import { modulePythonName, moduleStyle, type PayloadRoots } from './payload.js';

/**
 * The argument spec of a Python module file (a collection's, a library/ file), read on the controller as
 * ansible-test's validate-modules reads it: the module is run with AnsibleModule.__init__ replaced by a function
 * that records what it is given and stops the module. vncplay then checks a task's arguments with it at load time,
 * through its own spec parser. A module this does not work for (an import error, no AnsibleModule, a spec built
 * in a way that does not survive JSON) has no captured spec: its arguments wait for the run, as before.
 */

/** What AnsibleModule was given, as JSON: the argument_spec's parameters reduced to what a check needs. */
export interface CapturedSpec {
  argument_spec: Record<string, unknown>;
  mutually_exclusive?: unknown;
  required_together?: unknown;
  required_one_of?: unknown;
  required_if?: unknown;
  required_by?: unknown;
  supports_check_mode?: boolean;
}

export type SpecCapture = { spec: CapturedSpec } | { reason: string };

const CAPTURE = `import json, os, runpy, sys
module_file, module_utils, roots = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
# A collection's module runs as its package's module (its relative imports resolve); any other file as a script.
package_name = sys.argv[4] if sys.argv[4].startswith('ansible_collections.') else None
sys.path[:0] = [r for r in roots if r not in sys.path]
try:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    _AnsibleCollectionFinder(paths=roots, scan_sys_path=True)._install()
except Exception:
    pass
import ansible.module_utils
ansible.module_utils.__path__[:0] = module_utils
from ansible.module_utils import basic

class Captured(BaseException):
    pass

captured = {}
KEEP = ('type', 'elements', 'choices', 'required', 'aliases', 'default', 'no_log', 'options', 'removed_in_version', 'deprecated_aliases')

def plain(spec):
    out = {}
    for name, p in spec.items():
        p = dict(p or {})
        q = {k: p[k] for k in KEEP if k in p}
        if callable(q.get('type')):
            q['type'] = 'raw'
        if callable(q.get('elements')):
            q['elements'] = 'raw'
        if isinstance(q.get('options'), dict):
            q['options'] = plain(q['options'])
        if p.get('fallback'):
            q['fallback'] = True
        out[name] = q
    return out

def record(self, argument_spec, bypass_checks=False, no_log=False, mutually_exclusive=None, required_together=None,
           required_one_of=None, add_file_common_args=False, supports_check_mode=False, required_if=None, required_by=None):
    spec = dict(argument_spec)
    if add_file_common_args:
        for k, v in basic.FILE_COMMON_ARGUMENTS.items():
            spec.setdefault(k, v)
    captured.update(argument_spec=plain(spec), mutually_exclusive=mutually_exclusive, required_together=required_together,
                    required_one_of=required_one_of, required_if=required_if, required_by=required_by,
                    supports_check_mode=supports_check_mode, bypass_checks=bypass_checks)
    raise Captured()

basic.AnsibleModule.__init__ = record
sys.argv = [module_file]
sys.stdin = open(os.devnull)
out = sys.stdout
sys.stdout = sys.stderr
try:
    if package_name:
        runpy.run_module(package_name, run_name='__main__', alter_sys=True)
    else:
        runpy.run_path(module_file, run_name='__main__')
except Captured:
    pass
except BaseException as e:
    out.write(json.dumps({'reason': '%s: %s' % (type(e).__name__, e)}))
    sys.exit(0)
if not captured:
    out.write(json.dumps({'reason': 'it did not create an AnsibleModule'}))
elif captured.pop('bypass_checks'):
    out.write(json.dumps({'reason': 'it asks AnsibleModule to bypass its checks'}))
else:
    def repr_default(v):
        return repr(v)
    out.write(json.dumps({'spec': captured}, default=repr_default))
`;

/** Where captured specs are kept between runs: $XDG_CACHE_HOME/vncplay/argspecs, or ~/.cache/vncplay/argspecs. */
function cacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'vncplay', 'argspecs');
}

const inMemory = new Map<string, Promise<SpecCapture>>();

/**
 * The captured spec of a module file, once per file version (path, mtime, size, and the folders its imports come
 * from): from memory, else from the disk cache, else by running the controller's Python (a timeout is not kept:
 * the next run tries again).
 */
export function captureSpec(file: string, roots: PayloadRoots): Promise<SpecCapture> {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    return Promise.resolve({ reason: `cannot read ${file}: ${(err as Error).message}` });
  }
  const key = JSON.stringify([path.resolve(file), stat.mtimeMs, stat.size, roots]);
  let known = inMemory.get(key);
  if (!known) {
    known =
      fromDisk(key) ??
      runCapture(file, roots).then(({ answer, keep }) => {
        if (keep) toDisk(key, answer);
        return answer;
      });
    inMemory.set(key, known);
  }
  return known;
}

function diskFile(key: string): string {
  return path.join(cacheDir(), `${createHash('sha256').update(key).digest('hex')}.json`);
}

function fromDisk(key: string): Promise<SpecCapture> | undefined {
  try {
    const stored = JSON.parse(readFileSync(diskFile(key), 'utf8')) as { key: string; answer: SpecCapture };
    return stored.key === key ? Promise.resolve(stored.answer) : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole then renamed, so a concurrent run never reads half a file; a cache that cannot be written is skipped. */
function toDisk(key: string, answer: SpecCapture): void {
  try {
    const file = diskFile(key);
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify({ key, answer }));
    renameSync(partial, file);
  } catch {
    // no cache this time
  }
}

function runCapture(file: string, roots: PayloadRoots): Promise<{ answer: SpecCapture; keep: boolean }> {
  let style;
  try {
    style = moduleStyle(readFileSync(file));
  } catch (err) {
    return Promise.resolve({ answer: { reason: `cannot read it: ${(err as Error).message}` }, keep: false });
  }
  if (style !== 'new') return Promise.resolve({ answer: { reason: `it is ${style === 'binary' ? 'a binary' : 'not an AnsibleModule (Python)'} module` }, keep: true });
  const python = controllerPythonPaths().python;
  if (python === undefined) return Promise.resolve({ answer: { reason: "the controller's Python cannot import ansible" }, keep: false });
  return new Promise((resolve) => {
    execFile(python, ['-c', CAPTURE, file, JSON.stringify(roots.moduleUtils), JSON.stringify(roots.collections), modulePythonName(file, '')], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) {
        resolve({ answer: { reason: `reading it with ${python} failed: ${err.message.split('\n')[0] ?? ''}` }, keep: !err.killed });
        return;
      }
      try {
        resolve({ answer: JSON.parse(stdout) as SpecCapture, keep: true });
      } catch {
        resolve({ answer: { reason: `${python} did not answer with JSON` }, keep: true });
      }
    });
  });
}

// ───────────────────────────── the captured spec as vncplay's ModuleSpec ─────────────────────────────

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function groups(v: unknown): string[][] {
  return Array.isArray(v) ? v.filter(Array.isArray).map((g) => (g as unknown[]).filter((n): n is string => typeof n === 'string')) : [];
}

const BOOLEANS_TRUE = ['y', 'yes', 'on', '1', 'true', 't', 1, 1.0, true];
const BOOLEANS_FALSE = ['n', 'no', 'off', '0', 'false', 'f', 0, 0.0, false];

/**
 * One parameter's spec as the role-spec converter takes it. Ansible's check is kinder than the converter's in three
 * places, kept here so nothing Ansible runs is refused: a parameter with a `fallback` (an environment variable) is not
 * required in the task; choices that are not strings or numbers (None, booleans) leave the value unchecked; and
 * YAML's `yes` read as a boolean matches the one yes-like choice, as Ansible's "PyYaml converts certain strings to
 * bools" rule does.
 */
function kindParam(written: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = { ...written };
  if (p['fallback'] === true) delete p['required'];
  const choices = p['choices'];
  if (Array.isArray(choices)) {
    if (!choices.every((c) => typeof c === 'string' || typeof c === 'number')) delete p['choices'];
    else {
      const extra: string[] = [];
      for (const [words, text] of [[BOOLEANS_TRUE, 'True'], [BOOLEANS_FALSE, 'False']] as const) {
        if (choices.filter((c) => (words as readonly unknown[]).includes(c)).length === 1) extra.push(text);
      }
      p['choices'] = [...choices, ...extra];
    }
  }
  if (isRecord(p['options'])) p['options'] = kindOptions(p['options']);
  return p;
}

function kindOptions(spec: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).map(([name, p]) => [name, kindParam(isRecord(p) ? p : {})]));
}

/** The captured spec as the spec parser's ModuleSpec (types, aliases, choices, required, sub-options, cross-field rules). */
export function moduleSpecOf(name: string, captured: CapturedSpec): ModuleSpec {
  const options: Options = roleOptions(kindOptions(captured.argument_spec));
  const requiredIf: RequiredIf[] = (Array.isArray(captured.required_if) ? captured.required_if : [])
    .filter((r): r is unknown[] => Array.isArray(r) && typeof r[0] === 'string' && Array.isArray(r[2]))
    .map((r) => [r[0] as string, r[1], (r[2] as unknown[]).filter((n): n is string => typeof n === 'string'), r[3] === true]);
  const requiredBy: Record<string, string[]> = {};
  if (isRecord(captured.required_by)) {
    for (const [k, v] of Object.entries(captured.required_by)) requiredBy[k] = typeof v === 'string' ? [v] : groups([v])[0] ?? [];
  }
  return {
    description: `the arguments of ${name}, as its AnsibleModule declares them`,
    options,
    mutually_exclusive: groups(captured.mutually_exclusive),
    required_together: groups(captured.required_together),
    required_one_of: groups(captured.required_one_of),
    required_if: requiredIf,
    required_by: requiredBy,
  };
}

// ───────────────────────────── the check, in Ansible's words ─────────────────────────────

/** The parameters of a dict parameter (or of the module, for the empty path), followed through aliases. */
function writtenAt(spec: Record<string, unknown>, path: readonly (string | number)[]): Record<string, unknown> | undefined {
  let at: Record<string, unknown> | undefined = spec;
  for (const p of path) {
    if (typeof p === 'number') continue;
    const byName: unknown = at?.[p] ?? Object.values(at ?? {}).find((o) => isRecord(o) && Array.isArray(o['aliases']) && o['aliases'].includes(p));
    at = isRecord(byName) && isRecord(byName['options']) ? byName['options'] : undefined;
  }
  return at;
}

/** Ansible's "Supported parameters include: a, b (alias1, alias2)." list. */
function supportedText(options: Record<string, unknown>): string {
  const aliases = Object.values(options).flatMap((p) => (isRecord(p) && Array.isArray(p['aliases']) ? p['aliases'].map(String) : [])).sort();
  return `${Object.keys(options).sort().join(', ')}${aliases.length > 0 ? ` (${aliases.join(', ')})` : ''}`;
}

/**
 * A task's arguments as written checked against a module's captured spec (templates wait for the run). The
 * problems Ansible's ArgumentSpecValidator has words for are said in its words: unknown parameters (all of a mapping's
 * in one message, at the first), missing required ones (at the mapping), a value not among the choices.
 */
export function checkCapturedArgs(name: string, captured: CapturedSpec, args: Record<string, unknown>): SpecIssue[] {
  const spec = moduleSpecOf(name, captured);
  const { issues } = parseArgs(spec, args, { owner: name, rendered: false });
  const out: SpecIssue[] = [];
  const unsupported = new Map<string, SpecIssue[]>();
  const missing = new Map<string, { issue: SpecIssue; names: string[] }>();
  for (const issue of issues) {
    // A parameter given under two of its names: Ansible warns and takes one (vncplay's own modules refuse it).
    if (issue.code === 'E_EXCLUSIVE_PARAMS' && issue.ansible === undefined) continue;
    const parent = issue.path.slice(0, -1);
    const where = JSON.stringify(parent);
    if (issue.code === 'E_UNKNOWN_PARAM' && !issue.runTimeOnly) {
      const same = unsupported.get(where) ?? [];
      if (same.length === 0) {
        unsupported.set(where, same);
        out.push(issue);
      }
      same.push(issue);
    } else if (issue.code === 'E_MISSING_PARAM' && /^missing required parameter `([^`]+)`/.test(issue.message)) {
      const param = /^missing required parameter `([^`]+)`/.exec(issue.message)![1]!;
      // Given as null: vncplay's parser takes it as not given, Ansible's required check as given.
      if (givenAsNull(valueAt(args, issue.path), writtenAt(captured.argument_spec, issue.path)?.[param], param)) continue;
      const key = JSON.stringify(issue.path);
      const group = missing.get(key);
      if (group) group.names.push(param);
      else {
        missing.set(key, { issue, names: [param] });
        out.push(issue);
      }
    } else if (issue.code === 'E_ENUM' && !issue.runTimeOnly) {
      const param = issue.path.filter((p): p is string => typeof p === 'string').pop() ?? '';
      const written = writtenAt(captured.argument_spec, parent)?.[param];
      const choices = isRecord(written) && Array.isArray(written['choices']) ? written['choices'] : [];
      out.push({ ...issue, message: `value of ${param} must be one of: ${choices.map((c) => pyStr(c)).join(', ')}, got: ${pyStr(valueAt(args, issue.path))}${foundIn(parent)}` });
    } else if (issue.code === 'E_TYPE' && typeof issue.path[issue.path.length - 1] === 'string') {
      out.push({ ...issue, message: typeMessage(issue, writtenAt(captured.argument_spec, parent), valueAt(args, issue.path)) });
    } else if (issue.ansible !== undefined) {
      out.push({ ...issue, message: issue.ansible });
    } else out.push(issue);
  }
  return out.map((issue) => {
    const parent = issue.path.slice(0, -1);
    const same = issue.code === 'E_UNKNOWN_PARAM' ? unsupported.get(JSON.stringify(parent)) : undefined;
    if (same?.[0] === issue) {
      const names = same.map((i) => [...parent, i.path[i.path.length - 1]].filter((p) => typeof p === 'string').join('.')).sort();
      const message = `Unsupported parameters for (${name}) module: ${names.join(', ')}. Supported parameters include: ${supportedText(writtenAt(captured.argument_spec, parent) ?? {})}.`;
      return { ...issue, message };
    }
    const group = issue.code === 'E_MISSING_PARAM' ? missing.get(JSON.stringify(issue.path)) : undefined;
    if (group?.issue === issue) return { ...issue, message: `missing required arguments: ${group.names.sort().join(', ')}${foundIn(issue.path)}` };
    return issue;
  });
}

function valueAt(args: Record<string, unknown>, path: readonly (string | number)[]): unknown {
  let at: unknown = args;
  for (const p of path) at = typeof at === 'object' && at !== null ? (at as Record<string | number, unknown>)[p] : undefined;
  return at;
}

/** What Ansible's check_type_int, check_type_float and check_type_list say when they cannot convert. */
const CONVERSIONS: Readonly<Record<string, string>> = { int: 'an int', float: 'a float', list: 'a list' };

/**
 * Ansible's _validate_argument_types message for a value its int, float or list check cannot convert ("argument
 * 'login_port' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to
 * an int"); vncplay's own words for the other types (their checkers' messages depend on more than the type).
 */
function typeMessage(issue: SpecIssue, options: Record<string, unknown> | undefined, value: unknown): string {
  const key = String(issue.path[issue.path.length - 1]);
  // Ansible names the parameter by its canonical name, whichever alias the task used.
  const [param, written] = Object.entries(options ?? {}).find(([name, o]) => name === key || (isRecord(o) && Array.isArray(o['aliases']) && o['aliases'].includes(key))) ?? [key, undefined];
  const type = isRecord(written) ? written['type'] : undefined;
  const conversion = typeof type === 'string' ? CONVERSIONS[type] : undefined;
  if (conversion === undefined) return issue.message;
  const parents = issue.path.slice(0, -1).filter((p): p is string => typeof p === 'string');
  const context = parents.length > 0 ? ` found in '${parents.join(' -> ')}'.` : '';
  return `argument '${param}' is of type ${pythonType(value)}${context} and we were unable to convert to ${type}: ${pythonType(value)} cannot be converted to ${conversion}`;
}

function givenAsNull(mapping: unknown, written: unknown, param: string): boolean {
  if (!isRecord(mapping)) return false;
  const names = [param, ...(isRecord(written) && Array.isArray(written['aliases']) ? written['aliases'].map(String) : [])];
  return names.some((n) => n in mapping && mapping[n] === null);
}

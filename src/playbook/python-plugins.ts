import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { unwrapUnsafe } from './filters.js';

/*
 * Jinja filters and tests from Ansible's Python plugin files, as Ansible loads them: filter_plugins/ and
 * test_plugins/ beside a playbook or inside a role, and a collection's plugins/filter and plugins/test (named
 * NS.COLL.NAME). The loader names the folders; a file's names are read from its text (`def filters(self): return
 * {'name': …}`), so loading a playbook runs no plugin code. Calling one runs the plugin in python3 on the controller,
 * one process per call, JSON values in and out (sets and tuples come back as lists, as Ansible's to_json has them).
 */

export type PluginKind = 'filter' | 'test';

interface PluginRef {
  file: string;
  /** The plugin's own name in its FilterModule/TestModule table (an FQCN's last part). */
  key: string;
}

const registry: Record<PluginKind, Map<string, PluginRef>> = { filter: new Map(), test: new Map() };
const seenFolders = new Set<string>();
const collectionRoots: string[] = [];
/** What each kind's folder is called beside a playbook or in a role, and inside a collection's plugins/. */
const FOLDERS: Record<PluginKind, { local: string; collection: string; method: string }> = {
  filter: { local: 'filter_plugins', collection: 'filter', method: 'filters' },
  test: { local: 'test_plugins', collection: 'test', method: 'tests' },
};

/** The names a plugin file's `filters()`/`tests()` method returns, read from the dict literal it returns. */
export function pluginNames(source: string, kind: PluginKind): string[] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s*def\\s+${FOLDERS[kind].method}\\s*\\(`).test(l));
  if (start < 0) return [];
  const indent = /^\s*/.exec(lines[start]!)![0].length;
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && /^\s*/.exec(line)![0].length <= indent) break;
    body.push(line);
  }
  return [...body.join('\n').matchAll(/(['"])([A-Za-z_][\w.]*)\1\s*:/g)].map((m) => m[2]!);
}

function registerFile(file: string, kind: PluginKind, prefix: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  for (const key of pluginNames(text, kind)) if (!registry[kind].has(prefix + key)) registry[kind].set(prefix + key, { file, key });
}

function registerFolder(dir: string, kind: PluginKind, prefix = ''): void {
  const key = `${kind}|${path.resolve(dir)}`;
  if (seenFolders.has(key)) return;
  seenFolders.add(key);
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith('.py') && !f.startsWith('_')).sort();
  } catch {
    return;
  }
  for (const f of entries) registerFile(path.join(dir, f), kind, prefix);
}

/** filter_plugins/ and test_plugins/ of a playbook's folder or a role's. */
export function registerPluginFolders(baseDir: string): void {
  for (const kind of ['filter', 'test'] as const) registerFolder(path.join(baseDir, FOLDERS[kind].local), kind);
}

/** Folders holding ansible_collections/: NS.COLL.NAME filters and tests are looked for there when first used. */
export function registerCollectionRoots(roots: readonly string[]): void {
  for (const r of roots) if (!collectionRoots.includes(r)) collectionRoots.push(r);
}

function findPlugin(kind: PluginKind, name: string): PluginRef | undefined {
  const known = registry[kind].get(name);
  if (known) return known;
  const parts = name.split('.');
  if (parts.length < 3) return undefined;
  const [ns, coll] = parts as [string, string];
  for (const root of collectionRoots) {
    const dir = path.join(root, 'ansible_collections', ns, coll, 'plugins', FOLDERS[kind].collection);
    if (existsSync(dir)) registerFolder(dir, kind, `${ns}.${coll}.`);
  }
  return registry[kind].get(name);
}

/** The filter or test names the plugin files seen so far provide (for did-you-mean hints). */
export function pluginNamesKnown(kind: PluginKind): string[] {
  return [...registry[kind].keys()];
}

/** True when a plugin file the loader saw provides this filter or test. */
export function hasPlugin(kind: PluginKind, name: string): boolean {
  return findPlugin(kind, name) !== undefined;
}

const HARNESS = `
import importlib.util, json, sys
path, kind, key = sys.argv[1:4]
sys.path.insert(0, __import__('os').path.dirname(path))
spec = importlib.util.spec_from_file_location('vncplay_plugin', path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
table = mod.FilterModule().filters() if kind == 'filter' else mod.TestModule().tests()
data = json.load(sys.stdin)
try:
    out = table[key](data['value'], *data['args'], **data['kwargs'])
except Exception as e:
    print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
    sys.exit(0)
print(json.dumps({'result': out}, default=lambda o: list(o) if isinstance(o, (set, frozenset, tuple)) else str(o)))
`;

/** Runs a Python filter or test plugin; throws an Error whose message says which plugin failed and why. */
export function callPlugin(kind: PluginKind, name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
  const ref = findPlugin(kind, name);
  if (!ref) throw new Error(`no ${kind} plugin named '${name}'`);
  const input = JSON.stringify({ value: plain(value), args: args.map(plain), kwargs: plain(kwargs) });
  let out: string;
  try {
    out = execFileSync('python3', ['-c', HARNESS, ref.file, kind, ref.key], { input, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`the ${kind} '${name}' is a Python plugin (${ref.file}): running it needs python3 on the controller`);
    const last = (err.stderr ?? '').trim().split('\n').at(-1) ?? String(e);
    throw new Error(`${kind} '${name}' (${ref.file}) could not run: ${last}`);
  }
  const reply = JSON.parse(out) as { result?: unknown; error?: string };
  if (reply.error !== undefined) throw new Error(`${kind} '${name}' (${ref.file}): ${reply.error}`);
  return reply.result;
}

/** A value as JSON can carry it: `!unsafe` wrappers removed, deep. */
function plain(v: unknown): unknown {
  const u = unwrapUnsafe(v);
  if (Array.isArray(u)) return u.map(plain);
  if (typeof u === 'object' && u !== null) return Object.fromEntries(Object.entries(u).map(([k, x]) => [k, plain(x)]));
  return u;
}

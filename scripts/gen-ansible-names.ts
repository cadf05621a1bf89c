// Writes src/modules/ansible-names.generated.ts: every module name Ansible knows, read from the installed Debian
// `ansible` package (ansible-core's ansible/modules and ansible_collections/*/*/plugins/modules), the redirects
// of their meta/runtime.yml files (ansible-core's own routing sends `pacman` to community.general.pacman) and
// their action groups (module_defaults' `group/aws`).
// Why: vncplay names a real Ansible module it does not implement as such, and refuses an FQCN no collection has
// (`community.general.copy`) as Ansible does, without Ansible installed at run time.
//
// Usage: node --import tsx scripts/gen-ansible-names.ts [--root /usr/lib/python3/dist-packages]
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';

const { values } = parseArgs({ options: { root: { type: 'string', default: '/usr/lib/python3/dist-packages' } } });
const root = values.root!;
const out = new URL('../src/modules/ansible-names.generated.ts', import.meta.url);

/** Module names of one plugins/modules folder: `name.py`, without the deprecated `_name.py` forms and __init__. */
async function moduleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.py') && !e.name.startsWith('_'))
    .map((e) => e.name.slice(0, -'.py'.length))
    .sort();
}

/** `plugin_routing.modules` redirects of a runtime.yml, as name → FQCN (internal `dir.name` paths left out). */
async function redirects(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const doc = YAML.parse(text) as { plugin_routing?: { modules?: Record<string, { redirect?: string } | null> } } | null;
  const result: Record<string, string> = {};
  for (const [name, route] of Object.entries(doc?.plugin_routing?.modules ?? {})) {
    if (name.includes('.') || typeof route?.redirect !== 'string') continue;
    // ansible-core's routing file carries its own test fixtures (testns.testcoll …): not a real collection.
    if (route.redirect.startsWith('testns.')) continue;
    result[name] = route.redirect;
  }
  return result;
}

type ActionGroupEntry = string | { metadata?: { extend_group?: string | string[] } };

/**
 * `action_groups` of a runtime.yml (module_defaults' `group/NAME`), as group → its members space-separated: each
 * action as written, each extended group (the `metadata: {extend_group: …}` entry) as `+NAME`.
 */
async function actionGroups(file: string, collection: string): Promise<Record<string, string>> {
  // A name in the group's own collection is written without it (Ansible prefixes a short name with it): a smaller file.
  const own = (name: string): string => (name.startsWith(`${collection}.`) ? name.slice(collection.length + 1) : name);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const doc = YAML.parse(text) as { action_groups?: Record<string, ActionGroupEntry[] | null> } | null;
  const result: Record<string, string> = {};
  for (const [group, entries] of Object.entries(doc?.action_groups ?? {})) {
    const members: string[] = [];
    for (const entry of entries ?? []) {
      if (typeof entry === 'string') members.push(own(entry));
      else for (const extended of [entry.metadata?.extend_group ?? []].flat()) members.push(`+${own(extended)}`);
    }
    result[group] = members.join(' ');
  }
  return result;
}

const builtinRuntime = path.join(root, 'ansible/config/ansible_builtin_runtime.yml');
const collections: Record<string, string[]> = { 'ansible.builtin': await moduleFiles(path.join(root, 'ansible/modules')) };
const routes: Record<string, Record<string, string>> = { 'ansible.builtin': await redirects(builtinRuntime) };
const groups: Record<string, Record<string, string>> = { 'ansible.builtin': await actionGroups(builtinRuntime, 'ansible.builtin') };
const collectionsRoot = path.join(root, 'ansible_collections');
for (const ns of (await readdir(collectionsRoot, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('_')).map((e) => e.name).sort()) {
  for (const coll of (await readdir(path.join(collectionsRoot, ns), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const fqcn = `${ns}.${coll}`;
    const names = await moduleFiles(path.join(collectionsRoot, ns, coll, 'plugins/modules'));
    if (names.length > 0) collections[fqcn] = names;
    const r = await redirects(path.join(collectionsRoot, ns, coll, 'meta/runtime.yml'));
    if (Object.keys(r).length > 0) routes[fqcn] = r;
    const g = await actionGroups(path.join(collectionsRoot, ns, coll, 'meta/runtime.yml'), fqcn);
    if (Object.keys(g).length > 0) groups[fqcn] = g;
  }
}
if (collections['ansible.builtin']!.length === 0) throw new Error(`no ansible-core modules under ${root}/ansible/modules: is Debian's ansible-core installed?`);

/** Redirects that keep the name grouped by target collection (most of them), the others under `renamed`. */
function groupRedirects(r: Record<string, string>): Record<string, string | Record<string, string>> {
  const moved: Record<string, string[]> = {};
  const renamed: Record<string, string> = {};
  for (const [name, target] of Object.entries(r)) {
    const dot = target.lastIndexOf('.');
    if (target.slice(dot + 1) === name) (moved[target.slice(0, dot)] ??= []).push(name);
    else renamed[name] = target;
  }
  const grouped: Record<string, string | Record<string, string>> = {};
  for (const [coll, names] of Object.entries(moved).sort(([a], [b]) => a.localeCompare(b))) grouped[coll] = names.sort().join(' ');
  if (Object.keys(renamed).length > 0) grouped['renamed'] = renamed;
  return grouped;
}

const version = (await readFile(path.join(root, 'ansible_collections/ansible_release.py'), 'utf8').catch(() => '')).match(/ansible_version = '([^']+)'/)?.[1] ?? 'unknown';
const lines = [
  '// Generated by scripts/gen-ansible-names.ts (npm run gen) from Debian\'s ansible ' + version + ' package: do not edit.',
  '',
  '/** Module names per collection, space-separated (one string each keeps this file small to parse). */',
  'export const ansibleCollections: Readonly<Record<string, string>> = {',
  ...Object.entries(collections).map(([c, names]) => `  ${JSON.stringify(c)}: ${JSON.stringify(names.join(' '))},`),
  '};',
  '',
  '/**',
  ' * `plugin_routing.modules` redirects per collection: a name there resolves to another FQCN. Keyed by the',
  ' * collection the name is asked in, then by the collection it moved to (keeping its name, space-separated)',
  ' * or `renamed` (name → FQCN).',
  ' */',
  'export const ansibleRedirects: Readonly<Record<string, Readonly<Record<string, string | Readonly<Record<string, string>>>>>> = {',
  ...Object.entries(routes).map(([c, r]) => `  ${JSON.stringify(c)}: ${JSON.stringify(groupRedirects(r))},`),
  '};',
  '',
  '/**',
  ' * `action_groups` per collection (module_defaults\' `group/NAME`): group → its members, space-separated, as',
  ' * written (a name without a collection is the group\'s collection\'s); `+NAME` extends the group with another.',
  ' */',
  'export const ansibleActionGroups: Readonly<Record<string, Readonly<Record<string, string>>>> = {',
  ...Object.entries(groups).map(([c, g]) => `  ${JSON.stringify(c)}: ${JSON.stringify(g)},`),
  '};',
  '',
];
await writeFile(out, lines.join('\n'));
console.log(`src/modules/ansible-names.generated.ts: ${Object.values(collections).reduce((n, l) => n + l.length, 0)} modules in ${Object.keys(collections).length} collections (ansible ${version})`);

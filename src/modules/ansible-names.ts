import { ansibleCollections, ansibleRedirects } from './ansible-names.generated.js';
import type { AnyModule } from './types.js';

/**
 * Ansible's module names (generated from the installed Debian `ansible` package by scripts/gen-ansible-names.ts):
 * which FQCN a task key means to Ansible, so vncplay accepts an FQCN only where Ansible has that module, and names a
 * real module it does not implement as such instead of calling it unknown.
 */

let modulesByCollection: Map<string, Set<string>> | undefined;

function collectionModules(collection: string): Set<string> | undefined {
  modulesByCollection ??= new Map(Object.entries(ansibleCollections).map(([c, names]) => [c, new Set(names.split(' '))]));
  return modulesByCollection.get(collection);
}

let redirectsByCollection: Map<string, Map<string, string>> | undefined;

/**
 * Where `collection` redirects `name` (its meta/runtime.yml), or undefined. The generated table keeps each target's
 * names as one string; they are indexed once per process (every CLI start resolves ~200 names through here).
 */
function redirectOf(collection: string, name: string): string | undefined {
  redirectsByCollection ??= new Map(
    Object.entries(ansibleRedirects).map(([c, routes]) => {
      const targets = new Map<string, string>();
      for (const [target, names] of Object.entries(routes)) {
        if (typeof names === 'string') for (const n of names.split(' ')) if (!targets.has(n)) targets.set(n, `${target}.${n}`);
      }
      // A rename wins over a move, as the lookup did before the index.
      const renamed = routes['renamed'];
      if (typeof renamed === 'object') for (const [from, to] of Object.entries(renamed)) targets.set(from, to);
      return [c, targets];
    }),
  );
  return redirectsByCollection.get(collection)?.get(name);
}

/** Whether the installed Ansible (the generated table) has the collection `ns.coll`. */
export function knownCollection(collection: string): boolean {
  return collection === 'ansible.builtin' || collectionModules(collection) !== undefined || collection in ansibleRedirects;
}

/** Splits `ns.coll.name` into collection and name; undefined for anything else. */
function splitFqcn(key: string): { collection: string; name: string } | undefined {
  const m = /^([a-z0-9_]+\.[a-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(key);
  return m ? { collection: m[1]!, name: m[2]! } : undefined;
}

/**
 * The FQCN Ansible runs for a task key (`pacman` → community.general.pacman, `ansible.builtin.sysctl` →
 * ansible.posix.sysctl), following redirects as Ansible does; undefined when no installed collection has it.
 * A short name is looked up in ansible.builtin, as Ansible does without a `collections:` keyword.
 */
export function resolveAnsibleModule(key: string): string | undefined {
  let fqcn = key.includes('.') ? key : `ansible.builtin.${key}`;
  for (let hops = 0; hops < 5; hops++) {
    const parts = splitFqcn(fqcn);
    if (!parts) return undefined;
    // Ansible applies a collection's routing before it looks for the plugin file.
    const next = redirectOf(parts.collection, parts.name);
    if (next !== undefined) {
      fqcn = next;
      continue;
    }
    return collectionModules(parts.collection)?.has(parts.name) ? fqcn : undefined;
  }
  return undefined;
}

/** Ansible's own words for a module name it cannot resolve (its loader's message). */
export function unresolvedModuleMessage(key: string): string {
  return `couldn't resolve module/action '${key}'. This often indicates a misspelling, missing collection, or incorrect module path.`;
}

/**
 * Every name a task may write for a module: its short names and aliases; the FQCNs Ansible has for them
 * (`ansible.builtin.copy`, `community.general.supervisorctl`, `ansible.builtin.sysctl` that Ansible redirects to
 * ansible.posix.sysctl); and `vncplay.NAME` for modules Ansible has not (firewall, security_group).
 */
export function moduleKeys(m: AnyModule): string[] {
  const keys = new Set<string>();
  for (const n of [m.name, ...(m.aliases ?? [])]) {
    keys.add(n);
    const fqcn = resolveAnsibleModule(n);
    if (fqcn === undefined) {
      keys.add(`vncplay.${n}`);
      continue;
    }
    keys.add(fqcn);
    if (resolveAnsibleModule(`ansible.builtin.${n}`) !== undefined) keys.add(`ansible.builtin.${n}`);
  }
  return [...keys];
}

/**
 * The one module lookup (the registry's and the loader's): a short name or alias directly, `vncplay.NAME`, and any
 * FQCN that Ansible resolves (through its redirects) to the FQCN of a module vncplay has. An FQCN Ansible does not
 * have (`community.general.copy`) finds nothing, as in Ansible.
 */
export function moduleFinder(modules: readonly AnyModule[]): (key: string) => AnyModule | undefined {
  const byKey = new Map<string, AnyModule>();
  const byFqcn = new Map<string, AnyModule>();
  for (const m of modules) {
    for (const k of moduleKeys(m)) {
      if (!byKey.has(k)) byKey.set(k, m);
      const fqcn = k.includes('.') ? resolveAnsibleModule(k) : undefined;
      if (fqcn !== undefined && !byFqcn.has(fqcn)) byFqcn.set(fqcn, m);
    }
  }
  return (key) => {
    const known = byKey.get(key);
    if (known) return known;
    if (!key.includes('.')) return undefined;
    const fqcn = resolveAnsibleModule(key);
    return fqcn === undefined ? undefined : byFqcn.get(fqcn);
  };
}

/** Which collections have a module `name` (the first one Ansible would pick for a short name comes first). */
function collectionsWith(name: string): string[] {
  const builtin = resolveAnsibleModule(name);
  const others = Object.keys(ansibleCollections).filter((c) => collectionModules(c)?.has(name) && `${c}.${name}` !== builtin);
  return [...(builtin !== undefined ? [builtin] : []), ...others.map((c) => `${c}.${name}`)];
}

/** The start of every E_MODULE_NOT_IMPLEMENTED message: the name as written, and the FQCN Ansible runs for it. */
export function notImplementedMessage(key: string, fqcn: string): string {
  return `\`${key}\` is an Ansible module vncplay does not implement yet${fqcn === key ? '' : ` (Ansible runs ${fqcn})`}`;
}

export const NOT_IMPLEMENTED_HINT = 'README.md lists the modules vncplay has; meanwhile `command:` or `shell:` can run the same program, or ansible-playbook can run this play';

export interface ModuleNameProblem {
  code: 'E_MODULE_NOT_IMPLEMENTED' | 'E_UNKNOWN_MODULE';
  message: string;
  hint: string;
}

/**
 * Why a task key that selects no vncplay module is not one, when Ansible knows the name: a real Ansible module
 * vncplay does not implement (named with its FQCN), or an FQCN whose collection has no such module though another
 * has (`community.general.copy`, refused as Ansible refuses it). Undefined for a name Ansible does not know either.
 */
export function moduleNameProblem(key: string): ModuleNameProblem | undefined {
  const fqcn = resolveAnsibleModule(key);
  if (fqcn !== undefined) return { code: 'E_MODULE_NOT_IMPLEMENTED', message: notImplementedMessage(key, fqcn), hint: NOT_IMPLEMENTED_HINT };
  const parts = splitFqcn(key);
  const elsewhere = parts ? collectionsWith(parts.name) : [];
  if (!parts || elsewhere.length === 0) return undefined;
  return {
    code: 'E_UNKNOWN_MODULE',
    message: `${parts.collection} has no module \`${parts.name}\`: Ansible says "${unresolvedModuleMessage(key)}"`,
    hint: `\`${parts.name}\` is ${elsewhere.slice(0, 3).map((f) => `\`${f}\``).join(' or ')}`,
  };
}

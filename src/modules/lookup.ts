import type { AnyModule } from './types.js';

/**
 * The one module lookup: a task key (`systemd`, `service`, `ansible.builtin.systemd`) → its module. The registry
 * builds one over its list; the loader's tests build one over their own stand-in modules.
 */

/** Collection prefixes every module name also answers to. */
export const collectionPrefixes = ['ansible.builtin.', 'ansible.posix.', 'community.general.', 'vncplay.'] as const;

export interface ModuleLookup {
  find(key: string): AnyModule | undefined;
  /** Short names and aliases. */
  names(): string[];
  all(): readonly AnyModule[];
}

/** A lookup over an explicit module list: each module by its name, its aliases, and those under each prefix. */
export function createModuleLookup(modules: readonly AnyModule[]): ModuleLookup {
  const byName = new Map<string, AnyModule>();
  for (const m of modules) for (const n of [m.name, ...(m.aliases ?? [])]) byName.set(n, m);
  return {
    find(key) {
      const direct = byName.get(key);
      if (direct) return direct;
      for (const p of collectionPrefixes) if (key.startsWith(p)) return byName.get(key.slice(p.length));
      return undefined;
    },
    names: () => [...byName.keys()],
    all: () => modules,
  };
}

import { moduleFinder } from './ansible-names.js';
import type { AnyModule } from './types.js';

/**
 * The one module lookup: a task key (`systemd`, `service`, `ansible.builtin.systemd`) → its module. The registry
 * builds one over its list; the loader's tests build one over their own stand-in modules.
 */

/** Collection prefixes a task key may carry (to suggest the nearest name under the prefix the user wrote). */
export const collectionPrefixes = ['ansible.builtin.', 'ansible.posix.', 'community.general.', 'vncplay.'] as const;

export interface ModuleLookup {
  find(key: string): AnyModule | undefined;
  /** Short names and aliases. */
  names(): string[];
  all(): readonly AnyModule[];
}

/**
 * A lookup over an explicit module list: a short name or alias, `vncplay.NAME`, and any FQCN that Ansible resolves
 * (through its redirects) to a module vncplay has; an FQCN Ansible does not have (`community.general.copy`) finds
 * nothing, as in Ansible (src/modules/ansible-names.ts).
 */
export function createModuleLookup(modules: readonly AnyModule[]): ModuleLookup {
  const find = moduleFinder(modules);
  return {
    find,
    names: () => modules.flatMap((m) => [m.name, ...(m.aliases ?? [])]),
    all: () => modules,
  };
}

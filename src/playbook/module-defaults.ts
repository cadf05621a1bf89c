import { resolveAnsibleModule } from '../modules/ansible-names.js';
import type { AnyModule } from '../modules/types.js';
import type { ModuleDefaults, RawValue } from './model.js';

/**
 * `module_defaults:` as Ansible applies it (Base._load_module_defaults, get_action_args_with_defaults): a mapping (or
 * a list of them) from module names to default arguments, on a play, a block or a task. Names are resolved when
 * loaded, so `file`, `ansible.builtin.file` and `ansible.legacy.file` are one entry; a task gets the last entry for
 * its module along the chain play → blocks → task, and its own arguments win over it.
 */

/**
 * The key a module name has in module_defaults: the FQCN Ansible resolves it to; a vncplay-only module by its own
 * name. Undefined: not a module (Ansible: "Could not resolve action … in module_defaults").
 */
export function moduleDefaultsKey(name: string, find: (name: string) => AnyModule | undefined): string | undefined {
  const ansible = resolveAnsibleModule(name.replace(/^ansible\.legacy\./, 'ansible.builtin.'));
  if (ansible !== undefined) return ansible;
  const own = find(name);
  return own ? `vncplay.${own.name}` : undefined;
}

/** The default arguments of the module `key` along `layers` (outermost first): the innermost entry, whole, as Ansible merges them. */
export function moduleDefaultsFor(layers: readonly ModuleDefaults[] | undefined, key: string | undefined): RawValue | undefined {
  if (key === undefined) return undefined;
  let found: RawValue | undefined;
  for (const layer of layers ?? []) if (Object.hasOwn(layer, key)) found = layer[key];
  return found;
}

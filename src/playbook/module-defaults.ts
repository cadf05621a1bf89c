import { resolveActionGroup } from '../modules/action-groups.js';
import { resolveAnsibleModule } from '../modules/ansible-names.js';
import type { AnyModule } from '../modules/types.js';
import type { ModuleDefaults, RawValue } from './model.js';
import type { SourcePos } from '../errors.js';

/**
 * `module_defaults:` as Ansible applies it (Base._load_module_defaults, get_action_args_with_defaults): a mapping (or
 * a list of them) from module names to default arguments, on a play, a block or a task. Names are resolved when
 * loaded, so `file`, `ansible.builtin.file` and `ansible.legacy.file` are one entry; an action group's
 * (`group/aws`) applies to every module of the group. A task gets the last entry for its module along the chain
 * play → blocks → task, over its groups' entries, and its own arguments win over them.
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

/** The key of an action group's entry: `group/` and the group's FQCN. */
export const GROUP_PREFIX = 'group/';

/**
 * The default arguments of the module `key` along `layers` (outermost first), as Ansible's
 * get_action_args_with_defaults merges them: the layers into one mapping (a later layer's entry replaces an earlier
 * one's, keeping its place), then the entry of each group holding the module, in that order, and the module's own
 * entry last. Each entry as written (a mapping, or a template of one), to be merged over the ones before it.
 */
export function moduleDefaultsFor(layers: readonly ModuleDefaults[] | undefined, key: string | undefined): RawValue[] {
  return entriesFor(mergedModuleDefaults(layers), key);
}

/** The entries of `merged` (raw or rendered) that apply to the module `key`: its groups', in order, then its own. */
export function entriesFor<T>(merged: ReadonlyMap<string, T>, key: string | undefined): T[] {
  if (key === undefined) return [];
  const entries: T[] = [];
  for (const [name, entry] of merged) {
    if (name.startsWith(GROUP_PREFIX) && resolveActionGroup(name.slice(GROUP_PREFIX.length)).actions?.has(key)) entries.push(entry);
  }
  if (merged.has(key)) entries.push(merged.get(key)!);
  return entries;
}

/** The layers merged as Python's dict.update merges them: a later entry replaces an earlier one in its place. */
export function mergedModuleDefaults(layers: readonly ModuleDefaults[] | undefined): Map<string, RawValue> {
  const merged = new Map<string, RawValue>();
  for (const layer of layers ?? []) for (const [name, entry] of Object.entries(layer)) merged.set(name, entry);
  return merged;
}

/** Where each layer is written (the module_defaults mapping), for the load-time check's positions. */
const layerPositions = new WeakMap<ModuleDefaults, SourcePos>();

export function noteModuleDefaultsPosition(layer: ModuleDefaults, pos: SourcePos): void {
  layerPositions.set(layer, pos);
}

export function moduleDefaultsPosition(layer: ModuleDefaults): SourcePos | undefined {
  return layerPositions.get(layer);
}

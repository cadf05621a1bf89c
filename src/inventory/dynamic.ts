import { InventoryBuilder, type Inventory, type Vars } from './model.js';
import { loadVarsOfCreated } from './vars.js';

/**
 * Inventory changes a task makes during a run, as Ansible's InventoryManager.add_dynamic_host (add_host) and
 * add_dynamic_group (group_by) make them: the inventory is changed in place and reconciled again, so later plays'
 * host patterns, `groups` and `group_names` see the new host or group.
 */
export type InventoryUpdate =
  | { kind: 'add_host'; name: string; groups: string[]; vars: Vars }
  | { kind: 'group_by'; group: string; parents: string[] };

/**
 * Applies `update` (group_by: for `host`); true when the inventory changed, which is the task's `changed`. A group
 * or host it creates gets its group_vars/host_vars files, as Ansible's vars plugins give them.
 */
export async function applyInventoryUpdate(inv: Inventory, host: string, update: InventoryUpdate): Promise<boolean> {
  const groupsBefore = new Set(inv.groups.keys());
  const hostsBefore = new Set([...inv.hosts.values()].filter((h) => !h.implicit).map((h) => h.name));
  const b = new InventoryBuilder(inv);
  const changed = update.kind === 'add_host' ? addHost(b, update) : groupBy(b, host, update.group, update.parents);
  if (!changed) return false;
  b.finish();
  await loadVarsOfCreated(inv, {
    groups: [...inv.groups.keys()].filter((g) => !groupsBefore.has(g)),
    hosts: [...inv.hosts.values()].filter((h) => !h.implicit && !hostsBefore.has(h.name)).map((h) => h.name),
  });
  return true;
}

function addHost(b: InventoryBuilder, update: Extract<InventoryUpdate, { kind: 'add_host' }>): boolean {
  let changed = false;
  const known = b.hosts.get(update.name);
  if (!known || known.implicit) {
    if (known) b.hosts.delete(update.name);
    b.addHost(update.name, 'all');
    changed = true;
  }
  const h = b.hosts.get(update.name)!;
  const merged = { ...h.vars, ...update.vars };
  if (JSON.stringify(merged) !== JSON.stringify(h.vars)) {
    h.vars = merged;
    changed = true;
  }
  for (const name of update.groups) {
    if (!b.groups.has(name)) changed = true;
    const g = b.addGroup(name);
    if (!g.hosts.includes(update.name)) {
      g.hosts.push(update.name);
      changed = true;
    }
  }
  return changed;
}

function groupBy(b: InventoryBuilder, host: string, group: string, parents: readonly string[]): boolean {
  let changed = false;
  // As Ansible: creating the group itself is not a change; linking it under a parent (`all` for a new group) is.
  const g = b.addGroup(group);
  for (const parent of parents) {
    if (!b.groups.has(parent)) changed = true;
    const p = b.addGroup(parent);
    if (!p.children.includes(group) && b.addChild(parent, group) === undefined) changed = true;
  }
  if (!g.hosts.includes(host)) {
    g.hosts.push(host);
    changed = true;
  }
  return changed;
}

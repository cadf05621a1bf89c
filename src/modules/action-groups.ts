import { resolveAnsibleModule } from './ansible-names.js';
import { ansibleActionGroups } from './ansible-names.generated.js';

/**
 * Ansible's action groups (`action_groups` in a collection's meta/runtime.yml, generated into
 * ansible-names.generated.ts), as module_defaults' `group/NAME` keys name them: Base._resolve_group in
 * ansible/playbook/base.py.
 */

/** A collection reference `ns.coll.name` (AnsibleCollectionRef.is_valid_fqcr: three dotted parts or more). */
function isFqcr(name: string): boolean {
  return /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_.]+$/.test(name);
}

const resolved = new Map<string, ReadonlySet<string> | undefined>();

/**
 * The group's FQCN (`aws` is ansible.builtin.aws, as Ansible qualifies a short group name) and the FQCNs of its
 * actions, each resolved as Ansible resolves a task's module (redirects followed; a name no installed collection
 * has is left out, as `_resolve_action(mandatory=False)` does), the groups it extends (`extend_group`) included.
 * `actions` is undefined when the collection has no such group: Ansible's "could not resolve the module_defaults
 * group".
 */
export function resolveActionGroup(name: string): { fqcn: string; actions: ReadonlySet<string> | undefined } {
  const fqcn = isFqcr(name) ? name : `ansible.builtin.${name}`;
  return { fqcn, actions: groupActions(fqcn, new Set()) };
}

function groupActions(fqcn: string, resolving: Set<string>): ReadonlySet<string> | undefined {
  if (resolved.has(fqcn)) return resolved.get(fqcn);
  const collection = fqcn.split('.').slice(0, 2).join('.');
  const groups = ansibleActionGroups[collection] ?? {};
  const members = groups[fqcn] ?? groups[fqcn.slice(collection.length + 1)];
  if (members === undefined) {
    resolved.set(fqcn, undefined);
    return undefined;
  }
  // A group that extends itself (through others) adds nothing more: Ansible caches a group before its extensions.
  resolving.add(fqcn);
  const actions = new Set<string>();
  const qualified = (n: string): string => (isFqcr(n) ? n : `${collection}.${n}`);
  for (const member of members.split(' ').filter((m) => m !== '')) {
    if (member.startsWith('+')) {
      const extended = qualified(member.slice(1));
      if (!resolving.has(extended)) for (const a of groupActions(extended, resolving) ?? []) actions.add(a);
      continue;
    }
    const action = resolveAnsibleModule(qualified(member).replace(/^ansible\.legacy\./, 'ansible.builtin.'));
    if (action !== undefined) actions.add(action);
  }
  resolved.set(fqcn, actions);
  return actions;
}

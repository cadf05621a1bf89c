import { inventoryVars, SECRET_VARIABLE_NAMES, type Inventory } from '../inventory/index.js';
import { varsFileVars, type Playbook } from '../playbook/model.js';
import { render, resolveVariable } from '../playbook/template.js';
import { Unsafe } from '../playbook/unsafe.js';

/**
 * Every value a secret-bearing variable has anywhere the run can see it (each host's inventory variables, the
 * plays' vars, vars_files and role vars, -e), as written and as rendered in the host's scope. The runner hides
 * them from the first event on: `debug: var=ansible_password` or `hostvars['h2'].ansible_password` may print one
 * before that host's connection is opened, or for a host the run never contacts.
 */
export function secretVariableValues(inv: Inventory, playbook: Playbook, extraVars: Record<string, unknown>): string[] {
  const playLayers = playbook.plays.flatMap((p) => [p.roleDefaults, ...p.varsFiles.map(varsFileVars), p.vars, p.roleVars]);
  const found = new Set<string>();
  const collect = (value: unknown): void => {
    for (const s of secretStrings(value)) found.add(s);
  };
  for (const layer of [...playLayers, extraVars]) {
    for (const name of SECRET_VARIABLE_NAMES) {
      collect(layer[name]);
      collect(renderedOrUndefined(layer[name], extraVars));
    }
  }
  for (const host of inv.hosts.keys()) {
    const hostVars = inventoryVars(inv, host);
    const scope: Record<string, unknown> = { ...hostVars, ...extraVars, inventory_hostname: host };
    for (const name of SECRET_VARIABLE_NAMES) {
      if (hostVars[name] === undefined && extraVars[name] === undefined) continue;
      collect(hostVars[name]);
      collect(renderedOrUndefined(scope[name], scope));
    }
  }
  return [...found];
}

/** The strings a variable's value shows when printed (a password written as a number is the digits). */
function secretStrings(value: unknown): string[] {
  const v = value instanceof Unsafe ? value.value : value;
  if (typeof v === 'string') return v.trim() === '' ? [] : [v];
  if (typeof v === 'number' || typeof v === 'bigint') return [String(v)];
  return [];
}

/**
 * A templated password (`"{{ vault_ssh_pass }}"`, `"{{ lookup('env', 'PW') }}"`) rendered as the connection will
 * render it; one that cannot be rendered yet (it names a fact or a play variable) is left to the connection.
 */
function renderedOrUndefined(value: unknown, scope: Record<string, unknown>): unknown {
  if (value === undefined) return undefined;
  try {
    return render(value, scope);
  } catch {
    return undefined;
  }
}

/**
 * The values the password variables have in one task's scope (task and block vars, set_fact, include vars: what
 * the run start could not see), for the runner to hide before the task's first event.
 */
export function secretVariableValuesInScope(vars: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const name of SECRET_VARIABLE_NAMES) {
    if (vars[name] === undefined) continue;
    try {
      found.push(...secretStrings(resolveVariable(vars, name)));
    } catch {
      // Not renderable here (an undefined name inside it): the task that uses it fails and says so.
    }
  }
  return found;
}

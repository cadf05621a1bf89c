import type { VncplayError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/patterns.js';
import type { PlayDef, Playbook } from '../playbook/model.js';
import { render } from '../playbook/template.js';
import { findUnknownDelegateHosts } from '../playbook/delegate-hosts.js';
import { findUndefinedVariables } from '../playbook/undefined-vars.js';
import { findUnknownHostPatterns } from '../playbook/unknown-patterns.js';
import { tagsSelected } from './tags.js';

/**
 * The checks run on a loaded playbook before any host is contacted (issue 7, bad input → exit 4): the CLI runs
 * them for every playbook before it asks for a password, and runPlaybook runs them unless told not to, so a
 * library caller gets the same refusals. Each check is a pass over the playbook that returns positioned errors.
 */
export interface PreflightOptions {
  /** `-e` variables. */
  extraVars: Record<string, unknown>;
  /**
   * The inventory of the run (with group_vars/host_vars beside the playbook loaded, if the caller loads them).
   * Without one (`--syntax-check` without -i) only what -e alone must define is checked.
   */
  inventory?: Inventory;
  /** --limit: plays it leaves without hosts render nothing, so their tasks are not checked. */
  limit?: string;
  tags?: readonly string[];
  skipTags?: readonly string[];
  startAtTask?: string;
}

/**
 * Every refusal for `playbook`: hosts patterns naming a group or host the inventory lacks (E_UNKNOWN_PATTERN),
 * literal delegate_to names that are neither inventory hosts nor resolvable (E_UNKNOWN_DELEGATE), then undefined
 * variables (E_TEMPLATE_UNDEFINED). An empty list when the playbook may run.
 */
export async function preflightErrors(playbook: Playbook, opts: PreflightOptions): Promise<VncplayError[]> {
  const { inventory, extraVars, limit } = opts;
  const errors: VncplayError[] = inventory ? await findUnknownHostPatterns(playbook, inventory, extraVars) : [];
  // A play that matches no host (after --limit) renders none of its templates. A pattern or limit that cannot be
  // resolved fails the run on its own; its play's tasks are then not checked.
  const playSelected = (play: PlayDef): boolean => {
    if (!inventory) return true;
    try {
      const limited = limit ? new Set(selectHosts(inventory, limit)) : undefined;
      return selectHosts(inventory, String(render(play.hosts, extraVars))).some((h) => !limited || limited.has(h));
    } catch {
      return false;
    }
  };
  if (inventory) errors.push(...(await findUnknownDelegateHosts({ ...playbook, plays: playbook.plays.filter(playSelected) }, inventory)));
  errors.push(
    ...(await findUndefinedVariables(playbook, {
      extraVars,
      ...(inventory ? { inventory } : {}),
      // Tasks that --tags/--skip-tags/--start-at-task leave out never render their templates.
      taskSelected: (tags) => tagsSelected(tags, opts.tags ?? [], opts.skipTags ?? []),
      ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
      playSelected,
    })),
  );
  return errors;
}

import { ModuleError } from '../errors.js';
import { parseGroupLines, type GroupEntry } from './accounts.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, ModuleContext } from './types.js';

/** ansible.builtin.group: a local group (groupadd, groupmod -g, groupdel), read through getent as Ansible's grp does. */
const spec = defineSpec({
  description: 'Make sure a group exists with a given gid, or does not exist (groupadd / groupmod / groupdel).',
  options: {
    name: { type: 'str', required: true, pattern: '^[A-Za-z0-9_.][A-Za-z0-9_.-]*\\$?$', patternText: 'a group name (letters, digits, _ . -, not starting with -)', description: 'Name of the group.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the group should exist.' },
    gid: { type: 'int', min: 0, description: 'The group id; an existing group is renumbered when it differs.' },
    system: { type: 'bool', default: false, description: 'Create a system group (groupadd -r); no effect on an existing group.' },
    non_unique: { type: 'bool', default: false, description: 'Allow a gid another group already has (-o); needs gid.' },
    local: { type: 'bool', default: false, ignored: true, description: 'Accepted for compatibility; groups are managed with groupadd.' },
  },
  required_if: [['non_unique', true, ['gid']]],
});

type GroupArgs = ArgsOf<typeof spec.options>;

interface GroupFacts {
  group?: GroupEntry;
}

async function readGroup(name: string, ctx: ModuleContext): Promise<GroupEntry | undefined> {
  const res = await ctx.exec(['getent', 'group', name]);
  // getent: 2 = no such key; anything else is a real failure.
  if (res.rc === 2) return undefined;
  if (res.rc !== 0) throw new ModuleError('E_GROUP_READ', `getent group ${name} failed on ${ctx.hostName} (rc ${res.rc}): ${res.stderr.trim()}`);
  return parseGroupLines(res.stdout)[0];
}

function groupChanges(args: GroupArgs, facts: GroupFacts): Change[] {
  const existing = facts.group;
  if (args.state === 'absent') {
    return existing ? [{ summary: `remove group ${args.name}`, steps: [{ kind: 'exec', argv: ['groupdel', args.name] }] }] : [];
  }
  const unique = args.non_unique ? ['-o'] : [];
  if (!existing) {
    const gid = args.gid !== undefined ? ['-g', String(args.gid), ...unique] : [];
    return [{ summary: `add group ${args.name}`, steps: [{ kind: 'exec', argv: ['groupadd', ...gid, ...(args.system ? ['-r'] : []), args.name] }] }];
  }
  if (args.gid !== undefined && existing.gid !== args.gid) {
    return [{ summary: `set gid of ${args.name} to ${args.gid}`, steps: [{ kind: 'exec', argv: ['groupmod', '-g', String(args.gid), ...unique, args.name] }] }];
  }
  return [];
}

/** Ansible's registered fields: name and state, then system and gid while the group exists. */
function groupResult(args: GroupArgs, group: GroupEntry | undefined): Record<string, unknown> {
  return { name: args.name, state: args.state, ...(group ? { system: args.system, gid: group.gid } : {}) };
}

export const groupModule = plannedModule(spec, {
  kind: 'planned',
  name: 'group',
  where: 'host',
  async gather(args, ctx): Promise<GroupFacts> {
    const group = await readGroup(args.name, ctx);
    return group ? { group } : {};
  },
  plan: groupChanges,
  noop: (args, facts) => (facts.group ? `group ${args.name} exists (gid ${facts.group.gid})` : `group ${args.name} is absent`),
  report: (args, facts) => groupResult(args, facts.group),
  async finish(args, _facts, _outcomes, ctx) {
    return { changed: true, data: groupResult(args, await readGroup(args.name, ctx)) };
  },
});

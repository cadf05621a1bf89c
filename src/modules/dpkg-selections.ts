import { ModuleError } from '../errors.js';
import { plannedModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** dpkg_selections: Ansible's ansible.builtin.dpkg_selections (hold a package at its version, or release it). */
const spec = defineSpec({
  description: "Set a package's dpkg selection: hold (apt leaves it at its version), install, deinstall or purge.",
  options: {
    name: { type: 'str', required: true, pattern: '^[A-Za-z0-9][A-Za-z0-9+.:_-]*$', patternText: 'a package name', description: 'Name of the package.' },
    selection: { type: 'str', required: true, choices: ['install', 'hold', 'deinstall', 'purge'], description: 'The selection state to set.' },
  },
});

export const dpkgSelectionsModule = plannedModule(spec, {
  kind: 'planned',
  name: 'dpkg_selections',
  where: 'host',
  async gather(args, ctx): Promise<{ current: string }> {
    const res = await ctx.exec(['dpkg', '--get-selections', args.name]);
    if (res.rc !== 0) throw new ModuleError('E_DPKG_SELECTIONS', `dpkg --get-selections ${args.name} failed on ${ctx.hostName}: ${res.stderr.trim()}`);
    // As Ansible: no line for the package is "not present".
    return { current: res.stdout.trim().split(/\s+/)[1] ?? 'not present' };
  },
  plan(args, facts) {
    if (facts.current === args.selection) return [];
    return [{
      summary: `${args.name}: ${facts.current} → ${args.selection}`,
      diff: { before: { selection: facts.current }, after: { selection: args.selection } },
      steps: [{ kind: 'exec', argv: ['dpkg', '--set-selections'], stdin: `${args.name} ${args.selection}` }],
    }];
  },
  report: (args, facts) => ({ before: facts.current, after: args.selection }),
});

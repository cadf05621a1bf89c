import { SECRET_VARIABLE_NAMES } from '../inventory/connection-vars.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Set variables on the host for the rest of the run (higher precedence than play vars).',
  options: { cacheable: { type: 'bool', default: false, description: 'Accepted for compatibility; there is no fact cache.' } },
  extra: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', patternText: 'a valid variable name', description: 'Every other key is a variable to set.' },
  check(args) {
    return Object.keys(args).length > 1 ? undefined : { param: 'cacheable', message: 'nothing to set: give at least one variable' };
  },
});

export const setFactModule = {
  ...actionModule(spec, {
    kind: 'action',
    name: 'set_fact',
    where: 'controller',
    inCheckMode: 'run',
    async run(args) {
      const facts: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(args)) if (k !== 'cacheable') facts[k] = v;
      return { changed: false, facts, data: { ansible_facts: facts } };
    },
  }),
  // A password set as a fact is a secret from this task's own result on.
  secretArgs: [...SECRET_VARIABLE_NAMES],
};

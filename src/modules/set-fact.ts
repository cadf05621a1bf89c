import { SECRET_VARIABLE_NAMES } from '../inventory/connection-vars.js';
import type { ActionModule, ArgSchema } from './types.js';

export type SetFactArgs = Record<string, unknown> & { cacheable?: boolean };

const schema: ArgSchema = {
  type: 'object',
  description: 'Set variables on the host for the rest of the run (higher precedence than play vars).',
  properties: { cacheable: { type: 'boolean', description: 'Accepted for compatibility; there is no fact cache.' } },
  additionalProperties: true,
  minProperties: 1,
};

export const setFactModule: ActionModule<SetFactArgs> = {
  kind: 'action',
  name: 'set_fact',
  schema,
  where: 'controller',
  inCheckMode: 'run',
  // A password set as a fact is a secret from this task's own result on.
  secretArgs: [...SECRET_VARIABLE_NAMES],
  validate(args) {
    const bad = Object.keys(args).find((k) => k !== 'cacheable' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
    return bad ? `set_fact: '${bad}' is not a valid variable name` : undefined;
  },
  async run(args) {
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) if (k !== 'cacheable') facts[k] = v;
    return { changed: false, facts, data: { ansible_facts: facts } };
  },
};

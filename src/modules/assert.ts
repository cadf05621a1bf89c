import { evaluateCondition } from '../playbook/template.js';
import type { ActionModule, ArgSchema } from './types.js';

export interface AssertArgs {
  that: string | boolean | (string | boolean)[];
  fail_msg?: string;
  msg?: string;
  success_msg?: string;
  quiet?: boolean;
}

const schema: ArgSchema = {
  type: 'object',
  description: 'Fail unless every condition holds.',
  properties: {
    that: {
      description: 'A condition or a list of conditions (bare Jinja2 expressions, as in `when`).',
      anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array', items: { type: ['string', 'boolean'] } }],
    },
    fail_msg: { type: 'string', description: 'Message when a condition is false.' },
    msg: { type: 'string', description: 'Alias of fail_msg.' },
    success_msg: { type: 'string', description: 'Message when every condition holds.' },
    quiet: { type: 'boolean' },
  },
  required: ['that'],
  additionalProperties: false,
};

export const assertModule: ActionModule<AssertArgs> = {
  kind: 'action',
  name: 'assert',
  schema,
  where: 'controller',
  inCheckMode: 'run',
  async run(args, ctx) {
    const conditions = Array.isArray(args.that) ? args.that : [args.that];
    for (const cond of conditions) {
      if (!evaluateCondition(cond, ctx.vars)) {
        return {
          failed: true,
          msg: args.fail_msg ?? args.msg ?? 'Assertion failed',
          data: { assertion: cond, evaluated_to: false },
        };
      }
    }
    return { changed: false, msg: args.success_msg ?? 'All assertions passed' };
  },
};

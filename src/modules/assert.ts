import { evaluateCondition } from '../playbook/template.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const isCondition = (c: unknown): boolean => typeof c === 'string' || typeof c === 'boolean';

const spec = defineSpec({
  description: 'Fail unless every condition holds.',
  options: {
    // raw, not list: Ansible's assert never splits a condition on its commas (`x in [1, 2]`).
    that: { type: 'raw', required: true, description: 'A condition or a list of conditions (bare Jinja2 expressions, as in `when`).' },
    fail_msg: { type: 'str', description: 'Message when a condition is false (default "Assertion failed").' },
    // Not an alias: Ansible's assert takes both and fail_msg wins.
    msg: { type: 'str', description: 'Older name of fail_msg; fail_msg wins when both are given.' },
    success_msg: { type: 'str', default: 'All assertions passed', description: 'Message when every condition holds.' },
    quiet: { type: 'bool', default: false, description: 'Accepted for compatibility.' },
  },
  check(args) {
    const ok = Array.isArray(args.that) ? args.that.every(isCondition) : isCondition(args.that);
    return ok ? undefined : { param: 'that', message: '`that` must be a condition or a list of conditions (strings or booleans)' };
  },
});

export const assertModule = actionModule(spec, {
  kind: 'action',
  name: 'assert',
  where: 'controller',
  inCheckMode: 'run',
  async run(args, ctx) {
    for (const cond of Array.isArray(args.that) ? args.that : [args.that]) {
      if (!evaluateCondition(cond, ctx.vars)) {
        return { failed: true, msg: args.fail_msg ?? args.msg ?? 'Assertion failed', data: { assertion: cond, evaluated_to: false } };
      }
    }
    return { changed: false, msg: args.success_msg };
  },
});

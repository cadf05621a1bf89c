import { render } from '../playbook/template.js';
import type { ActionModule, ArgSchema } from './types.js';

export interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

const schema: ArgSchema = {
  type: 'object',
  description: 'Print a message or the value of a variable.',
  properties: {
    msg: { description: 'The message to print (any value).' },
    var: { type: 'string', description: 'A variable name or expression whose value to print.' },
    verbosity: { type: 'integer', minimum: 0, description: 'Only print at this -v level or above.' },
  },
  additionalProperties: false,
};

export const debugModule: ActionModule<DebugArgs> = {
  kind: 'action',
  name: 'debug',
  schema,
  where: 'controller',
  inCheckMode: 'run',
  validate(args) {
    return args.msg !== undefined && args.var !== undefined ? 'debug: msg and var are mutually exclusive' : undefined;
  },
  async run(args, ctx) {
    const level = Number(ctx.vars['ansible_verbosity'] ?? 0);
    if ((args.verbosity ?? 0) > level) return { skipped: true, msg: `verbosity threshold not met` };
    if (args.var !== undefined) {
      const value = render(`{{ ${args.var} }}`, ctx.vars);
      return { changed: false, data: { [args.var]: value } };
    }
    return { changed: false, msg: args.msg === undefined ? 'Hello world!' : (args.msg as string) };
  },
};

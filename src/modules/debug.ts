import { render } from '../playbook/template.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Print a message or the value of a variable.',
  options: {
    msg: { type: 'raw', description: 'The message to print (any value).' },
    var: { type: 'str', description: 'A variable name or expression whose value to print.' },
    verbosity: { type: 'int', default: 0, min: 0, description: 'Only print at this -v level or above.' },
  },
  mutually_exclusive: [['msg', 'var']],
});

export const debugModule = actionModule(spec, {
  kind: 'action',
  name: 'debug',
  where: 'controller',
  inCheckMode: 'run',
  async run(args, ctx) {
    const level = Number(ctx.vars['ansible_verbosity'] ?? 0);
    if (args.verbosity > level) return { skipped: true, msg: `verbosity threshold not met` };
    if (args.var !== undefined) {
      const value = render(`{{ ${args.var} }}`, ctx.vars);
      return { changed: false, data: { [args.var]: value } };
    }
    return { changed: false, msg: args.msg === undefined ? 'Hello world!' : (args.msg as string) };
  },
});

import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Check that the host answers over its connection and can run a command.',
  options: { data: { type: 'str', default: 'pong', description: 'What to answer; "crash" makes the module fail.' } },
});

export const pingModule = actionModule(spec, {
  kind: 'action',
  name: 'ping',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    if (args.data === 'crash') return { failed: true, msg: 'boom' };
    const res = await ctx.exec(['printf', '%s', args.data]);
    if (res.rc !== 0 || res.stdout !== args.data) {
      return { failed: true, msg: `ping: the host did not echo back (rc ${res.rc}): ${res.stderr.trim()}` };
    }
    return { changed: false, data: { ping: args.data } };
  },
});

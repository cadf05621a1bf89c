import type { ActionModule, ArgSchema } from './types.js';

export interface PingArgs {
  data?: string;
}

const schema: ArgSchema = {
  type: 'object',
  description: 'Check that the host answers over its connection and can run a command.',
  properties: { data: { type: 'string', default: 'pong', description: 'What to answer; "crash" makes the module fail.' } },
  additionalProperties: false,
};

export const pingModule: ActionModule<PingArgs> = {
  kind: 'action',
  name: 'ping',
  schema,
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const data = args.data ?? 'pong';
    if (data === 'crash') return { failed: true, msg: 'boom' };
    const res = await ctx.exec(['printf', '%s', data]);
    if (res.rc !== 0 || res.stdout !== data) {
      return { failed: true, msg: `ping: the host did not echo back (rc ${res.rc}): ${res.stderr.trim()}` };
    }
    return { changed: false, data: { ping: data } };
  },
};

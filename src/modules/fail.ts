import type { ActionModule, ArgSchema } from './types.js';

export interface FailArgs {
  msg?: string;
}

const schema: ArgSchema = {
  type: 'object',
  description: 'Fail the host with a message.',
  properties: { msg: { type: 'string', description: 'Why the host fails.' } },
  additionalProperties: false,
};

export const failModule: ActionModule<FailArgs> = {
  kind: 'action',
  name: 'fail',
  schema,
  where: 'controller',
  inCheckMode: 'run',
  async run(args) {
    return { failed: true, msg: args.msg ?? 'Failed as requested from task' };
  },
};

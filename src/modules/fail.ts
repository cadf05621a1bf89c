import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Fail the host with a message.',
  options: { msg: { type: 'str', default: 'Failed as requested from task', description: 'Why the host fails.' } },
});

export const failModule = actionModule(spec, {
  kind: 'action',
  name: 'fail',
  where: 'controller',
  inCheckMode: 'run',
  async run(args) {
    return { failed: true, msg: args.msg };
  },
});

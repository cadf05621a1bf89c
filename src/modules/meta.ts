import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Act on the run itself: flush_handlers, end_play, end_host, clear_facts, noop.',
  options: {
    action: {
      type: 'str',
      required: true,
      choices: ['flush_handlers', 'end_play', 'end_host', 'clear_facts', 'noop', 'refresh_inventory', 'reset_connection'],
      description: 'What to do.',
    },
  },
});

export const metaModule = actionModule(spec, {
  kind: 'action',
  name: 'meta',
  freeForm: 'action',
  where: 'controller',
  inCheckMode: 'run',
  async run(args) {
    return { changed: false, meta: args.action };
  },
});

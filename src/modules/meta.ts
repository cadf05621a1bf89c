import type { ActionModule, ArgSchema, ModuleReturn } from './types.js';

type MetaAction = NonNullable<ModuleReturn['meta']>;

export interface MetaArgs {
  action: MetaAction;
}

const actions: MetaAction[] = ['flush_handlers', 'end_play', 'end_host', 'clear_facts', 'noop', 'refresh_inventory', 'reset_connection'];

const schema: ArgSchema = {
  type: 'object',
  description: 'Act on the run itself: flush_handlers, end_play, end_host, clear_facts, noop.',
  properties: { action: { enum: actions, description: 'What to do.' } },
  required: ['action'],
  additionalProperties: false,
};

export const metaModule: ActionModule<MetaArgs> = {
  kind: 'action',
  name: 'meta',
  schema,
  freeForm: 'action',
  where: 'controller',
  inCheckMode: 'run',
  async run(args) {
    return { changed: false, meta: args.action };
  },
};

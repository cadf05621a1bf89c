import { jobStatus } from './async-job.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description: 'Read (or clean up) a background job started with `async:` — by vncplay or by ansible-playbook.',
  options: {
    jid: { type: 'str', required: true, pattern: '^[A-Za-z0-9._-]+$', patternText: 'a job id (ansible_job_id)', description: 'The job id: `ansible_job_id` of the async task.' },
    mode: { type: 'str', choices: ['status', 'cleanup'], default: 'status', description: 'status: read the job; cleanup: remove its file under ~/.ansible_async.' },
  },
});

export const asyncStatusModule = actionModule(spec, {
  kind: 'action',
  name: 'async_status',
  where: 'host',
  inCheckMode: 'run',
  run: (args, ctx) => jobStatus(ctx, args.jid, args.mode),
});

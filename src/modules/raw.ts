import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** ansible.builtin.raw: a command line run as it is, by a shell; needs nothing on the host but a shell. */
const spec = defineSpec({
  description: 'Run a command line through a shell on the host with nothing else needed there (no python, no helper scripts). Unlike Ansible, not in a terminal: stderr stays apart from stdout.',
  options: {
    free_form: { type: 'str', required: true, pattern: '\\S', patternText: 'a command line', description: 'The command line.' },
    executable: { type: 'path', description: 'The shell that runs it (`EXECUTABLE -c LINE`); default /bin/sh.' },
  },
});

const lines = (text: string): string[] => (text === '' ? [] : text.replace(/\n$/, '').split(/\r?\n/));

export const rawModule = actionModule(spec, {
  kind: 'action',
  name: 'raw',
  freeForm: 'free_form',
  where: 'host',
  // Ansible's raw action always skips in check mode.
  inCheckMode: 'skip',
  async run(args, ctx) {
    const res = await ctx.exec([args.executable ?? '/bin/sh', '-c', args.free_form]);
    const data = { rc: res.rc, stdout: res.stdout, stderr: res.stderr, stdout_lines: lines(res.stdout), stderr_lines: lines(res.stderr) };
    if (res.rc !== 0) return { changed: true, failed: true, msg: 'non-zero return code', data };
    return { changed: true, data };
  },
});

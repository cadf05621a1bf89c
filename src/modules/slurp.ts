import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** ansible.builtin.slurp: a file of the host, base64-encoded, into the registered result. */
const spec = defineSpec({
  description: "Read a file of the host into the registered result, base64-encoded (`content`; decode with b64decode).",
  options: {
    src: { type: 'path', required: true, aliases: ['path'], pattern: '\\S', patternText: 'a non-empty path', description: 'The file to read.' },
  },
});

/** Exit codes of the read script, by Ansible's message for each (errno ENOENT, EISDIR, EACCES). */
const READ = '[ -e "$1" ] || exit 3; [ -d "$1" ] && exit 4; [ -r "$1" ] || exit 5; base64 -w0 -- "$1"';
const problems: Record<number, string> = { 3: 'file not found', 4: 'source is a directory and must be a file', 5: 'file is not readable' };

export const slurpModule = actionModule(spec, {
  kind: 'action',
  name: 'slurp',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const res = await ctx.exec(['sh', '-c', READ, 'sh', args.src]);
    if (res.rc !== 0) {
      const known = problems[res.rc];
      return { failed: true, msg: known ? `${known}: ${args.src}` : `unable to slurp file: ${res.stderr.trim()}` };
    }
    return { changed: false, data: { content: res.stdout.trim(), source: args.src, encoding: 'base64' } };
  },
});

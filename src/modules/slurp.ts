import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleContext } from './types.js';

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

/** A file of the host, whole, or slurp's message for why not (fetch reads through it too, as Ansible's fetch does). */
export async function slurpFile(ctx: ModuleContext, src: string): Promise<{ content: string } | { msg: string }> {
  const res = await ctx.exec(['sh', '-c', READ, 'sh', src]);
  if (res.rc === 0) return { content: res.stdout.trim() };
  const known = problems[res.rc];
  return { msg: known ? `${known}: ${src}` : `unable to slurp file: ${res.stderr.trim()}` };
}

export const slurpModule = actionModule(spec, {
  kind: 'action',
  name: 'slurp',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const read = await slurpFile(ctx, args.src);
    if ('msg' in read) return { failed: true, msg: read.msg };
    return { changed: false, data: { content: read.content, source: args.src, encoding: 'base64' } };
  },
});

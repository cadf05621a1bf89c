import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModuleError } from '../errors.js';
import { gatherWrite, planWrite, writeOptions, writeReport, type WriteFacts } from './copy.js';
import { pythonRegex, PythonRegexError } from './python-regex.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext } from './types.js';

/**
 * ansible.builtin.assemble: the regular files of a folder (on the host by default, remote_src: false for the
 * controller), in name order, joined into dest with copy's write (atomic, backup, validate, mode/owner/group).
 */
const spec = defineSpec({
  description: "Join a folder's fragment files, in name order, into one file (with an optional delimiter between them).",
  options: {
    src: { type: 'path', required: true, pattern: '\\S', patternText: 'a folder', description: 'Folder of fragments: on the host, or on the controller with remote_src false.' },
    dest: writeOptions.dest,
    delimiter: { type: 'str', description: 'Text written between fragments (escapes like \\n decoded), always followed by a newline.' },
    regexp: { type: 'str', description: 'Only fragments whose name this Python regular expression matches (search).' },
    ignore_hidden: { type: 'bool', default: false, description: 'Leave out fragments whose name starts with a dot.' },
    remote_src: { type: 'bool', default: true, description: 'src is on the host (true) or on the controller (false).' },
    backup: writeOptions.backup,
    validate: writeOptions.validate,
    mode: writeOptions.mode,
    owner: writeOptions.owner,
    group: writeOptions.group,
    decrypt: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; fragments are not vault-decrypted.' },
  },
  check: (args) => {
    if (args.regexp === undefined) return undefined;
    try {
      pythonRegex(args.regexp);
      return undefined;
    } catch (e) {
      if (!(e instanceof PythonRegexError)) throw e;
      return { param: 'regexp', message: `Invalid Regexp (${e.message}) in "${args.regexp}"` };
    }
  },
});

type Args = ArgsOf<typeof spec.options>;

/** Python's codecs.escape_decode of the delimiter: \n, \t, \\, \xHH … become their bytes. */
function escapeDecode(text: string): Buffer {
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
  const out: number[] = [];
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    const next = String.fromCharCode(bytes[i + 1] ?? 0);
    if (c === 92 && next === 'x' && /^[0-9a-fA-F]{2}$/.test(bytes.subarray(i + 2, i + 4).toString('latin1'))) {
      out.push(parseInt(bytes.subarray(i + 2, i + 4).toString('latin1'), 16));
      i += 3;
    } else if (c === 92 && simple[next] !== undefined) {
      out.push(simple[next]);
      i += 1;
    } else out.push(c);
  }
  return Buffer.from(out);
}

/**
 * Ansible's assemble_from_fragments: a newline between fragments when the previous one did not end with one, and
 * the delimiter (always followed by a newline) between fragments, never before the first.
 */
export function assembleFragments(fragments: ReadonlyArray<{ name: string; content: Buffer }>, args: Pick<Args, 'delimiter' | 'regexp' | 'ignore_hidden'>): Buffer {
  const pattern = args.regexp === undefined ? undefined : pythonRegex(args.regexp);
  const parts: Buffer[] = [];
  let first = true;
  let addNewline = false;
  const sorted = [...fragments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of sorted) {
    if (pattern && !pattern.test(f.name)) continue;
    if (args.ignore_hidden && f.name.startsWith('.')) continue;
    if (addNewline) parts.push(Buffer.from('\n'));
    if (!first && args.delimiter) parts.push(escapeDecode(args.delimiter), Buffer.from('\n'));
    parts.push(f.content);
    first = false;
    addNewline = !f.content.toString('latin1').endsWith('\n');
  }
  return Buffer.concat(parts);
}

/** $1 folder. Prints one line per regular file: base64 name, tab, base64 content; exit 3 missing, 4 not a folder. */
const READ_FRAGMENTS = `
[ -e "$1" ] || exit 3
[ -d "$1" ] || exit 4
cd -- "$1" || exit 5
for f in * .[!.]* ..?*; do
  [ -f "$f" ] || continue
  printf '%s\\t' "$(printf '%s' "$f" | base64 -w0)"; base64 -w0 -- "$f" || exit 5; printf '\\n'
done
`;

async function readFragments(args: Args, ctx: ModuleContext): Promise<Array<{ name: string; content: Buffer }>> {
  if (!args.remote_src) {
    const dir = await ctx.findFile(args.src, 'files');
    if (!(await stat(dir)).isDirectory()) throw new ModuleError('E_ASSEMBLE_SRC', `Source (${args.src}) is not a directory`);
    const names = await readdir(dir);
    const fragments: Array<{ name: string; content: Buffer }> = [];
    for (const name of names) if ((await stat(join(dir, name))).isFile()) fragments.push({ name, content: await readFile(join(dir, name)) });
    return fragments;
  }
  const res = await ctx.exec(['sh', '-c', READ_FRAGMENTS, 'vncplay-assemble', args.src]);
  if (res.rc === 3) throw new ModuleError('E_ASSEMBLE_SRC', `Source (${args.src}) does not exist`, { hint: 'with remote_src: false the folder is looked for on the controller' });
  if (res.rc === 4) throw new ModuleError('E_ASSEMBLE_SRC', `Source (${args.src}) is not a directory`);
  if (res.rc !== 0) throw new ModuleError('E_ASSEMBLE_SRC', `could not read ${args.src}: ${res.stderr.trim()}`);
  return res.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [name = '', content = ''] = l.split('\t');
      return { name: Buffer.from(name, 'base64').toString('utf8'), content: Buffer.from(content, 'base64') };
    });
}

export const assembleModule = plannedModule(spec, {
  kind: 'planned',
  name: 'assemble',
  where: 'host',
  async gather(args, ctx): Promise<WriteFacts> {
    const content = assembleFragments(await readFragments(args, ctx), args);
    return gatherWrite({ ...args, force: true, follow: false }, ctx, content, undefined, undefined);
  },
  plan: (args, facts) => planWrite({ ...args, force: true, follow: false }, facts),
  report(args, facts) {
    const out = writeReport({ ...args, force: true, follow: false }, facts);
    return { ...out, src: args.src, md5sum: createHash('md5').update(facts.content).digest('hex'), msg: 'OK' };
  },
});

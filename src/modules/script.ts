import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModuleError } from '../errors.js';
import { splitCommandLine } from './command.js';
import { splitlines } from './py-text.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleReturn } from './types.js';

/**
 * ansible.builtin.script: a controller file copied to the host, run there through the shell with its arguments
 * (the command line is a shell line, as in Ansible), then removed. One exec: make a private folder, write the script
 * from stdin, run it, remove the folder.
 */
const spec = defineSpec({
  description: 'Copy a script from the controller to the host, run it there with its arguments, and remove it.',
  options: {
    cmd: { type: 'str', required: true, pattern: '\\S', patternText: 'a script path followed by its arguments', description: 'The controller script (looked up in the role\'s files/, then beside the playbook) followed by its arguments, as a shell line.' },
    creates: { type: 'str', description: 'A path on the host; when it exists, the script is not run.' },
    removes: { type: 'str', description: 'A path on the host; when it does not exist, the script is not run.' },
    chdir: { type: 'str', description: 'An absolute folder on the host to run the script in.' },
    executable: { type: 'str', description: 'The program to run the script with (`python3`), instead of the script\'s own `#!` line.' },
  },
  check(args) {
    try {
      if (splitCommandLine(args.cmd).length === 0) return { param: 'cmd', message: 'no script given', hint: 'write the script\'s path after `script:`' };
    } catch (e) {
      return { param: 'cmd', message: (e as Error).message, hint: 'close the quote' };
    }
    if (args.chdir !== undefined && !args.chdir.startsWith('/')) return { param: 'chdir', message: `chdir ${args.chdir} must be an absolute path for a Unix-aware remote node` };
    return undefined;
  },
});

/** A mark on stderr saying the setup (folder, copy, chdir) failed, not the script. */
const SETUP_FAILED = 'vncplay-script-setup-failed';

/** $1 the folder to create, $2 the script's path in it, $3 chdir, $4 the shell line; the script's bytes on stdin. */
const RUN = `d=$1 f=$2 dir=$3 line=$4
mkdir -m 700 -- "$d" || { echo ${SETUP_FAILED} >&2; exit 1; }
trap 'rm -rf -- "$d"' EXIT
cat > "$f" && chmod 700 "$f" || { echo ${SETUP_FAILED} >&2; exit 1; }
if [ -n "$dir" ]; then cd -- "$dir" || { echo ${SETUP_FAILED} >&2; exit 1; }; fi
sh -c "$line" </dev/null`;

export const scriptModule = actionModule(spec, {
  kind: 'action',
  name: 'script',
  freeForm: 'cmd',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    for (const [param, path_, wantExists] of [['creates', args.creates, true], ['removes', args.removes, false]] as const) {
      if (path_ === undefined) continue;
      const exists = (await ctx.exec(['test', '-e', path_])).rc === 0;
      if (exists === wantExists) return { skipped: true, changed: false, msg: `${path_} ${wantExists ? 'exists' : 'does not exist'}, matching ${param} option` };
    }
    const raw = args.cmd.trim();
    const source = splitCommandLine(raw)[0]!;
    const local = await ctx.findFile(source, 'files');
    if (ctx.check) {
      if (args.creates !== undefined || args.removes !== undefined) return { changed: true };
      return { skipped: true, changed: false, msg: 'Check mode is not supported for this task.' };
    }
    const content = await readFile(local);
    const dir = `/tmp/vncplay-script-${randomBytes(12).toString('hex')}`;
    const remote = `${dir}/${path.basename(local)}`;
    // Ansible puts the copy's path where the script's name was, in the line as written (quotes and all).
    const target = raw.replace(source, remote);
    const line = args.executable !== undefined ? `${args.executable} ${target}` : target;
    const res = await ctx.exec(['sh', '-c', RUN, 'script', dir, remote, args.chdir ?? '', line], { stdin: content });
    if (res.stderr.includes(SETUP_FAILED)) {
      throw new ModuleError('E_SCRIPT_SETUP', `copying ${source} to ${ctx.hostName} failed: ${res.stderr.replace(SETUP_FAILED, '').trim()}`, { hint: args.chdir !== undefined ? `does ${args.chdir} exist on the host?` : 'is /tmp writable on the host?' });
    }
    const data = { rc: res.rc, stdout: res.stdout, stdout_lines: splitlines(res.stdout), stderr: res.stderr, stderr_lines: splitlines(res.stderr) };
    if (res.rc !== 0) return { changed: true, failed: true, msg: 'non-zero return code', data };
    return { changed: true, data };
  },
});

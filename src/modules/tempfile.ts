import { randomBytes } from 'node:crypto';
import { formatMode } from './file-common.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** ansible.builtin.tempfile: a new, empty temporary file or directory on the host, exclusively (no mktemp: Python's name characters). */
const spec = defineSpec({
  description: 'Create a new temporary file (0600) or directory (0700) on the host and return its `path`.',
  options: {
    state: { type: 'str', choices: ['file', 'directory'], default: 'file', description: 'Whether to create a file or a directory.' },
    path: { type: 'path', description: "The folder to create it in; default the host's TMPDIR, else /tmp." },
    prefix: { type: 'str', default: 'ansible.', pattern: '^[^/]*$', patternText: 'a name part without /', description: 'Start of the name.' },
    suffix: { type: 'str', default: '', pattern: '^[^/]*$', patternText: 'a name part without /', description: 'End of the name.' },
  },
});

/**
 * Creates PREFIX + 8 random characters + SUFFIX in the folder (default $TMPDIR, else /tmp) exclusively: a file by
 * one noclobber open under umask 077 (0600), a folder by mkdir -m 700; then prints its stat line and the path.
 */
const MAKE = [
  'dir=${1:-${TMPDIR:-/tmp}}; kind=$2; p=${dir%/}/$3',
  'if [ "$kind" = directory ]; then mkdir -m 700 -- "$p" || exit; else (umask 077; set -C; : > "$p") || exit; fi',
  'stat -c "%u %g %a %s %U %G" -- "$p" && printf "%s" "$p"',
].join('\n');

/** Python's tempfile names: eight of these characters (its _RandomNameSequence). */
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_';

function randomName(): string {
  return [...randomBytes(8)].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join('');
}

export const tempfileModule = actionModule(spec, {
  kind: 'action',
  name: 'tempfile',
  where: 'host',
  // Ansible's tempfile does not support check mode: the task is skipped.
  inCheckMode: 'skip',
  async run(args, ctx) {
    const name = `${args.prefix}${randomName()}${args.suffix}`;
    const res = await ctx.exec(['sh', '-c', MAKE, 'sh', args.path ?? '', args.state, name]);
    if (res.rc !== 0) return { failed: true, msg: res.stderr.trim().replace(/^sh: \d+: /, '') };
    // Ansible adds the path's owner, mode and size to any result that has a `path` (exit_json's add_path_info).
    const [statLine = '', ...rest] = res.stdout.split('\n');
    const [uid, gid, mode, size, owner, group] = statLine.split(' ');
    return {
      changed: true,
      data: { path: rest.join('\n'), uid: Number(uid), gid: Number(gid), owner, group, mode: formatMode(parseInt(mode ?? '0', 8)), size: Number(size), state: args.state },
    };
  },
});

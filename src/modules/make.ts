import { pyStr } from '../playbook/filters.js';
import { shlexQuote } from './library/payload.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * community.general.make: `make -q` says whether the target is up to date; when it is not, make runs it (in check
 * mode the question is the answer). The same command, result fields and failure as the module of the Debian
 * `ansible` package (community.general 6).
 */
const spec = defineSpec({
  description: 'Run a Makefile target when `make -q` says it is not up to date (community.general.make).',
  options: {
    chdir: { type: 'path', required: true, description: 'The folder make runs in.' },
    target: { type: 'str', description: 'The target to run (install, all …); none: the Makefile\'s first.' },
    params: { type: 'dict', description: 'Variables for make, passed as `NAME=value` words.' },
    file: { type: 'path', description: 'The Makefile (`make -f FILE`).' },
    make: { type: 'path', description: 'The make program (default gmake, else make).' },
    jobs: { type: 'int', description: 'Jobs run at once (`make -j N`).' },
  },
});

/** Runs `$2…` in the folder `$1`, or where the host's shell starts when it is not one (Ansible's run_command ignores an invalid cwd). */
const IN_FOLDER = 'if [ -d "$1" ]; then cd "$1" || exit; fi; shift; exec "$@"';

/** Ansible's get_bin_path('gmake') then get_bin_path('make', required=True): the path, or the PATH it searched. */
const FIND_MAKE = 'command -v gmake || command -v make || { printf "%s\\n" "$PATH" >&2; exit 127; }';

/** Python's str.splitlines, as Ansible's action plugins fill stdout_lines. */
const splitLines = (text: string): string[] => (text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/));

/** Ansible's _clean_args: the value of a `password=…`-like word (or the word after `--password`) masked, each word quoted as shlex.quote does. */
export function cleanCommand(argv: readonly string[]): string {
  let maskNext = false;
  return argv
    .map((a) => {
      if (maskNext) {
        maskNext = false;
        return '********';
      }
      if (!/^-{0,2}pass-?(word|wd)?/.test(a)) return a;
      if (a.includes('=')) return `${a.slice(0, a.indexOf('='))}=********`;
      maskNext = true;
      return a;
    })
    .map(shlexQuote)
    .join(' ');
}

export const makeModule = actionModule(spec, {
  kind: 'action',
  name: 'make',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    let makePath = args.make;
    if (makePath === undefined) {
      const found = await ctx.exec(['sh', '-c', FIND_MAKE]);
      if (found.rc !== 0) return { failed: true, msg: `Failed to find required executable "make" in paths: ${found.stderr.trim()}` };
      makePath = found.stdout.trim();
    }
    const options = [...(args.jobs !== undefined ? ['-j', String(args.jobs)] : []), ...(args.file !== undefined ? ['-f', args.file] : [])];
    const variables = Object.entries(args.params ?? {}).map(([k, v]) => `${k}=${pyStr(v)}`);
    const argv = [makePath, ...options, ...(args.target !== undefined ? [args.target] : []), ...variables];
    const run = (extra: string[]) => ctx.exec(['sh', '-c', IN_FOLDER, 'sh', args.chdir, ...argv, ...extra]);
    let res = await run(['-q']);
    const changed = res.rc !== 0;
    if (changed && !ctx.check) {
      res = await run([]);
      if (res.rc !== 0) {
        const data = { cmd: cleanCommand(argv), rc: res.rc, stdout: res.stdout, stderr: res.stderr, stdout_lines: splitLines(res.stdout), stderr_lines: splitLines(res.stderr) };
        return { failed: true, msg: res.stderr.trimEnd(), data };
      }
    }
    const stdout = res.stdout.replace(/[\r\n]+$/, '');
    const stderr = res.stderr.replace(/[\r\n]+$/, '');
    return {
      changed,
      data: {
        stdout, stderr, stdout_lines: splitLines(stdout), stderr_lines: splitLines(stderr),
        target: args.target ?? null, params: args.params ?? null, chdir: args.chdir, file: args.file ?? null, jobs: args.jobs ?? null,
        // Ansible's command names the target even when there is none: shlex.quote(None) is ''.
        command: [makePath, ...options, args.target ?? '', ...variables].map(shlexQuote).join(' '),
      },
    };
  },
});

import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connection/types.js';
import { PyDatetime, PyTimedelta } from '../playbook/py-datetime.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type Options } from './spec/types.js';
import type { AsyncCommand, ModuleContext, ModuleReturn } from './types.js';

const commonOptions = {
  chdir: { type: 'path', description: 'Change into this directory before running the command.' },
  creates: { type: 'path', description: 'A path; when it exists, the command is not run.' },
  removes: { type: 'path', description: 'A path; when it does not exist, the command is not run.' },
  stdin: { type: 'str', description: 'Data passed to the command on stdin.' },
  stdin_add_newline: { type: 'bool', default: true, description: 'Add a newline to the stdin data.' },
  strip_empty_ends: { type: 'bool', default: true, description: 'Strip empty lines at the end of stdout and stderr.' },
} as const satisfies Options;

const commandOptions = {
  cmd: { type: 'str', description: 'The command line, split into words like a shell would (no expansion).' },
  argv: { type: 'list', elements: 'str', description: 'The command as a list of arguments.' },
  expand_argument_vars: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility: no shell variables are ever expanded.' },
  ...commonOptions,
} as const satisfies Options;

const commandSpec = defineSpec({
  description: 'Run a command on the host without a shell (argv; no pipes, redirects or variables).',
  options: commandOptions,
  mutually_exclusive: [['cmd', 'argv']],
  required_one_of: [['cmd', 'argv']],
  check(args) {
    if (args.argv !== undefined) return args.argv.length === 0 ? { param: 'argv', message: 'no command given', hint: 'argv: [program, arg…]' } : undefined;
    try {
      if (splitCommandLine(args.cmd ?? '').length === 0) return { param: 'cmd', message: 'no command given', hint: 'write the command after `command:`' };
    } catch (e) {
      return { param: 'cmd', message: (e as Error).message, hint: 'close the quote, or use argv: [program, arg…]' };
    }
    return undefined;
  },
});

const shellSpec = defineSpec({
  description: 'Run a command line through /bin/sh on the host (pipes, redirects and variables work).',
  options: {
    cmd: { type: 'str', required: true, description: 'The shell command line.' },
    executable: { type: 'path', default: '/bin/sh', description: 'The shell to use.' },
    ...commonOptions,
  },
});

export type CommandArgs = ArgsOf<typeof commandOptions>;
type RunArgs = ArgsOf<typeof commonOptions>;

/**
 * Splits a command line into words as Python's shlex does for Ansible's `command` (quotes and backslashes),
 * without any expansion: `command` never runs a shell.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command: ${line}`);
  if (inWord) words.push(cur);
  return words;
}

/**
 * One remote command that honours chdir/creates/removes and then runs the user's argv; the paths are positional
 * arguments, never pasted into the script. A skip is reported as `<skipMark> creates|removes` on stdout: the mark
 * is random per exec, so no command's own output can pass for a skip.
 */
function guardedArgv(args: RunArgs, argv: string[], skipMark: string): string[] {
  if (!args.chdir && !args.creates && !args.removes) return argv;
  const script = [
    'chdir=$1 creates=$2 removes=$3 skip=$4; shift 4',
    'if [ -n "$creates" ] && [ -e "$creates" ]; then echo "$skip creates"; exit 0; fi',
    'if [ -n "$removes" ] && [ ! -e "$removes" ]; then echo "$skip removes"; exit 0; fi',
    'if [ -n "$chdir" ]; then cd "$chdir" || exit 1; fi',
    'exec "$@"',
  ].join('\n');
  return ['sh', '-c', script, 'sh', args.chdir ?? '', args.creates ?? '', args.removes ?? '', skipMark, ...argv];
}

const SKIP_REASONS = ['creates', 'removes'] as const;

/**
 * Did the exec fail because argv[0] is no program? Every way vncplay execs says so in its own words: the shells'
 * `exec: NAME: not found` and the local connection's spawn ENOENT `NAME: not found` (127), env's (the `environment`
 * keyword) `env: 'NAME': No such file or directory` (127), sudo's `sudo: NAME: command not found` (become without a
 * password, 1); always with nothing on stdout.
 */
function programNotFound(res: ExecResult, program: string): boolean {
  if (res.stdout !== '' || (res.rc !== 127 && res.rc !== 1)) return false;
  const last = res.stderr.replace(/\n$/, '').split('\n').at(-1) ?? '';
  if (res.rc === 1) return last === `sudo: ${program}: command not found`;
  return last.endsWith(`${program}: not found`) || last === `env: '${program}': No such file or directory`;
}

/** Ansible's result when the program does not exist: run_command's OSError, errno 2, as Python words it. */
function notFoundResult(argv: string[]): ModuleReturn {
  return {
    changed: false,
    failed: true,
    msg: `[Errno 2] No such file or directory: b'${argv[0]!}'`,
    data: { cmd: argv, rc: 2, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [] },
  };
}

/** command/shell under `async:`: the same argv; chdir is kept, the arguments that need a reply before the run are not. */
function asyncCommand(args: RunArgs, argv: string[], cmd: string | string[] = argv): AsyncCommand | string {
  const refused = (['creates', 'removes', 'stdin'] as const).filter((k) => args[k] !== undefined);
  if (refused.length > 0) return `${refused.join(', ')} cannot be used with async in vncplay: run the check in a task before`;
  return { argv: args.chdir ? ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', args.chdir, ...argv] : argv, cmd };
}

/** `cmd` in the result is what Ansible registers: the words run (command), or the command line as written (shell). */
async function runCommand(args: RunArgs, argv: string[], ctx: ModuleContext, cmd: string | string[] = argv): Promise<ModuleReturn> {
  const startedAt = PyDatetime.now(false);
  const stdin = args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline ? '\n' : '');
  const skipMark = `vncplay-skip-${randomBytes(16).toString('hex')}`;
  const res = await ctx.exec(guardedArgv(args, argv, skipMark), stdin === undefined ? {} : { stdin });
  const endedAt = PyDatetime.now(false);
  const skipped = res.rc === 0 ? SKIP_REASONS.find((why) => res.stdout === `${skipMark} ${why}\n`) : undefined;
  if (skipped !== undefined) {
    const which = skipped === 'creates' ? args.creates : args.removes;
    // Ansible's words: the path is quoted, the verb is not.
    const reason = skipped === 'creates' ? `'${which}' exists` : `'${which}' does not exist`;
    return { changed: false, msg: `Did not run command since ${reason}`, data: { rc: 0, stdout: '', stderr: '', cmd } };
  }
  // `command` execs a program (the connection never resolves a builtin or function); `shell`'s argv[0] is the shell.
  if (argv[0] !== undefined && programNotFound(res, argv[0])) return notFoundResult(argv);
  const strip = args.strip_empty_ends;
  const stdout = strip ? res.stdout.replace(/\n+$/, '') : res.stdout;
  const stderr = strip ? res.stderr.replace(/\n+$/, '') : res.stderr;
  const data = {
    cmd,
    rc: res.rc,
    stdout,
    stderr,
    stdout_lines: stdout === '' ? [] : stdout.split('\n'),
    stderr_lines: stderr === '' ? [] : stderr.split('\n'),
    // In Ansible's words: str() of datetime.now() before and after, and of their difference. Ansible's clock is the
    // host's, in its time zone; these are the controller's (no exec of its own to read the host's clock).
    start: startedAt.str(),
    end: endedAt.str(),
    delta: new PyTimedelta(endedAt.wallMicros - startedAt.wallMicros).str(),
  };
  if (res.rc !== 0) return { changed: true, failed: true, msg: 'non-zero return code', data };
  // Ansible's command starts its result with msg '' and only words it on failure.
  return { changed: true, msg: '', data };
}

export const commandModule = actionModule(commandSpec, {
  kind: 'action',
  name: 'command',
  freeForm: 'cmd',
  where: 'host',
  inCheckMode: 'skip',
  run: (args, ctx) => runCommand(args, args.argv ?? splitCommandLine(args.cmd ?? ''), ctx),
  asyncCommand: (args) => asyncCommand(args, args.argv ?? splitCommandLine(args.cmd ?? '')),
});

export const shellModule = actionModule(shellSpec, {
  kind: 'action',
  name: 'shell',
  freeForm: 'cmd',
  where: 'host',
  inCheckMode: 'skip',
  run: (args, ctx) => runCommand(args, [args.executable, '-c', args.cmd], ctx, args.cmd),
  asyncCommand: (args) => asyncCommand(args, [args.executable, '-c', args.cmd], args.cmd),
});

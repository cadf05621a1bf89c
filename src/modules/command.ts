import { randomBytes } from 'node:crypto';
import type { ExecResult } from '../connection/types.js';
import type { ActionModule, ArgSchema, ModuleContext, ModuleReturn } from './types.js';

export interface CommandArgs {
  cmd?: string;
  argv?: string[];
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stdin_add_newline?: boolean;
  strip_empty_ends?: boolean;
  executable?: string;
  expand_argument_vars?: boolean;
}

const commonProps = {
  chdir: { type: 'string', description: 'Change into this directory before running the command.' },
  creates: { type: 'string', description: 'A path; when it exists, the command is not run.' },
  removes: { type: 'string', description: 'A path; when it does not exist, the command is not run.' },
  stdin: { type: 'string', description: 'Data passed to the command on stdin.' },
  stdin_add_newline: { type: 'boolean', default: true },
  strip_empty_ends: { type: 'boolean', default: true },
} as const;

const commandSchema: ArgSchema = {
  type: 'object',
  description: 'Run a command on the host without a shell (argv; no pipes, redirects or variables).',
  properties: {
    cmd: { type: 'string', description: 'The command line, split into words like a shell would (no expansion).' },
    argv: { type: 'array', items: { type: 'string' }, description: 'The command as a list of arguments.' },
    expand_argument_vars: { type: 'boolean' },
    ...commonProps,
  },
  additionalProperties: false,
};

const shellSchema: ArgSchema = {
  type: 'object',
  description: 'Run a command line through /bin/sh on the host (pipes, redirects and variables work).',
  properties: {
    cmd: { type: 'string', description: 'The shell command line.' },
    executable: { type: 'string', description: 'The shell to use instead of /bin/sh.' },
    ...commonProps,
  },
  additionalProperties: false,
};

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
function guardedArgv(args: CommandArgs, argv: string[], skipMark: string): string[] {
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

async function runCommand(args: CommandArgs, argv: string[], ctx: ModuleContext): Promise<ModuleReturn> {
  const startedAt = new Date();
  const stdin = args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline === false ? '' : '\n');
  const skipMark = `vncplay-skip-${randomBytes(16).toString('hex')}`;
  const res = await ctx.exec(guardedArgv(args, argv, skipMark), stdin === undefined ? {} : { stdin });
  const endedAt = new Date();
  const skipped = res.rc === 0 ? SKIP_REASONS.find((why) => res.stdout === `${skipMark} ${why}\n`) : undefined;
  if (skipped !== undefined) {
    const which = skipped === 'creates' ? args.creates : args.removes;
    // Ansible's words: the path is quoted, the verb is not.
    const reason = skipped === 'creates' ? `'${which}' exists` : `'${which}' does not exist`;
    return { changed: false, msg: `Did not run command since ${reason}`, data: { rc: 0, stdout: '', stderr: '', cmd: argv } };
  }
  // `command` execs a program (the connection never resolves a builtin or function); `shell`'s argv[0] is the shell.
  if (argv[0] !== undefined && programNotFound(res, argv[0])) return notFoundResult(argv);
  const strip = args.strip_empty_ends !== false;
  const stdout = strip ? res.stdout.replace(/\n+$/, '') : res.stdout;
  const stderr = strip ? res.stderr.replace(/\n+$/, '') : res.stderr;
  const data = {
    cmd: argv,
    rc: res.rc,
    stdout,
    stderr,
    stdout_lines: stdout === '' ? [] : stdout.split('\n'),
    stderr_lines: stderr === '' ? [] : stderr.split('\n'),
    start: startedAt.toISOString(),
    end: endedAt.toISOString(),
    delta: `${((endedAt.getTime() - startedAt.getTime()) / 1000).toFixed(6)}`,
  };
  if (res.rc !== 0) return { changed: true, failed: true, msg: 'non-zero return code', data };
  return { changed: true, data };
}

export const commandModule: ActionModule<CommandArgs> = {
  kind: 'action',
  name: 'command',
  schema: commandSchema,
  freeForm: 'cmd',
  where: 'host',
  inCheckMode: 'skip',
  validate(args) {
    if (args.cmd === undefined && args.argv === undefined) return 'command: one of cmd (free form) or argv is required';
    if (args.cmd !== undefined && args.argv !== undefined) return 'command: cmd and argv are mutually exclusive';
    return undefined;
  },
  run(args, ctx) {
    const argv = args.argv ?? splitCommandLine(args.cmd ?? '');
    if (argv.length === 0) return Promise.resolve({ failed: true, msg: 'no command given' });
    return runCommand(args, argv, ctx);
  },
};

export const shellModule: ActionModule<CommandArgs> = {
  kind: 'action',
  name: 'shell',
  schema: shellSchema,
  freeForm: 'cmd',
  where: 'host',
  inCheckMode: 'skip',
  validate(args) {
    return args.cmd === undefined ? 'shell: a command line (free form or cmd) is required' : undefined;
  },
  run(args, ctx) {
    return runCommand(args, [args.executable ?? '/bin/sh', '-c', args.cmd ?? ''], ctx);
  },
};

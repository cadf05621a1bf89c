import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { ChannelSession } from './channel-session.js';
import { ansiCWord, asciiShellCode, joinArgvAscii, pipeLiteral } from './quote.js';
import type { ExecResult } from './types.js';

/** The signals a session's shell traps (to remove a write's temp file), with their numbers for the exit status. */
const SIGNAL_NUMBERS = { HUP: 1, INT: 2, TERM: 15 } as const;

/**
 * A long-lived bash on one SSH channel that runs stdin-less commands one after another with ONE fork each
 * (the subshell), instead of a new sshd session + login shell per command. Measured on the light fleet (20 hosts
 * × 10 probe commands, alternating): 1.22 → 0.94 s wall, controller CPU 0.35 → 0.27 s; one host: ~30 → ~6 ms
 * per command. Become users get a session of their own through `sudo -n` (ssh.ts); shell-session.ts (opt-in, for
 * a become password) frames with byte counts and costs ~5 forks per command.
 *
 * Wire format:
 *   controller → host: first line a random nonce; then one frame per command: a header line `<kind><n>`, then
 *                      n bytes of bash code, ASCII only (quote.ts joinArgvAscii), which bash reads with ONE
 *                      `read -N` (a line read from a pipe costs one syscall per byte). Kinds: `a` the code is
 *                      `set -- ARGV` and a subshell runs `exec -- "$@"` (one fork per command; exec runs a
 *                      PROGRAM, never a builtin or function, so `eval …` or `vp_write …` as argv[0] are "not
 *                      found", as on a channel, quote.ts execLine); `c` the same for a call of a session function,
 *                      which the subshell runs as "$@"; `s` a subshell evals the code (a pipe feeding stdin);
 *                      `f` a session function that runs in the session's own shell (see sessionScript).
 *   host → controller: the command's stdout, then "<nonce> <rc>\n"; its stderr, then "<nonce>\n" on stderr.
 * The nonce is 128 random bits sent over the encrypted channel and unset before the command runs, so no output
 * can forge the end of a result. Commands get /dev/null as stdin (a small stdin is piped in by the command line
 * itself, quote.ts pipeLiteral, or handed to a session function as its last argument; a large one or one with a
 * NUL byte takes its own channel) and run in a subshell: `exit`, `cd` and variables do not leak into the next one.
 * A subshell's stdout and stderr are files of their own in the session's private folder (a new pair per command),
 * sent once the command has ended: a background process it left behind (`(sleep 1; echo x) &`) writes into that
 * command's files, never into a later result or the framing; what it writes after its command ended is lost.
 * Bash's own `read` and `printf` send a file (`cat` only for one holding a NUL byte, which a bash string cannot),
 * and the folder is on tmpfs where there is one (/dev/shm; creating files on ext4 cost ~1 ms of system time each).
 * Functions in the session's own shell are vncplay's code and write to the channel directly.
 * Differences from a channel, by design: a command killed by a signal reports bash's 128+N as rc; output arrives
 * when the command ends, and a background process's later output is dropped (a channel waits for it); the session
 * holds one channel open. Hence opt-in (SshConnectOptions.lineSession); the runner turns it on.
 */
// One line on purpose: bash numbers a failing command's line from the driver's first line, so "bash: line 1:
// exec: x: not found" reads exactly as it does through a channel (`bash -c 'exec x'`).
// The first frame defines the session functions in the session's own shell, once; every command inherits them.
// VP_UMASK is the session's umask, which the functions that run in the session's shell restore.
// VP_OUT is the session's private folder (mktemp -d: 0700) for the commands' output files, VP_N numbers them;
// every OUTPUT_FILES_BATCH commands one `rm` clears the finished ones, and the session's end removes the folder.
const OUTPUT_FILES_BATCH = 64;
/** A subshell kind's redirections: no stdin, stdout and stderr in this command's own files. */
const OWN_FILES = '</dev/null >"$VP_OUT/$VP_N" 2>"$VP_OUT/$VP_N.e"';
const SESSION_VARS = 'VP_NONCE VP_H VP_UMASK VP_OUT VP_N VP_RC VP_X';
/** Shell code that sends output file `file` to `fd` (1 or 2): read into a variable up to a NUL, which read -d '' stops at. */
function sendFile(file: string, fd: 1 | 2): string {
  const to = fd === 2 ? ' >&2' : '';
  return `if [ -s ${file} ]; then if IFS= read -r -d '' VP_X <${file}; then cat -- ${file}${to}; else printf '%s' "$VP_X"${to}; fi; fi`;
}
export const LINE_SESSION_DRIVER = [
  'IFS= read -r VP_NONCE || exit 1',
  'IFS= read -r VP_H && IFS= read -r -N "${VP_H#?}" VP_LINE || exit 1',
  'eval "$VP_LINE" || exit 1',
  'VP_UMASK=$(umask)',
  'VP_OUT=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) || exit 1',
  `trap 'rm -rf -- "$VP_OUT"' EXIT`,
  // A write running in this shell names its temp file in VP_WRITE_TMP: a signal that ends the session mid-write
  // removes it (a channel's write has its own trap); `exit` runs the EXIT trap too. Subshells start without these traps.
  ...(['HUP', 'INT', 'TERM'] as const).map(
    (sig) => `trap '[ -z "\${VP_WRITE_TMP-}" ] || rm -f -- "$VP_WRITE_TMP"; exit ${128 + SIGNAL_NUMBERS[sig]}' ${sig}`,
  ),
  'VP_N=0',
  "printf 'VP-LINE-READY\\n'",
  'while IFS= read -r VP_H && IFS= read -r -N "${VP_H#?}" VP_LINE; do VP_N=$((VP_N + 1)); case $VP_H in ' +
    'f*) { eval "$VP_LINE"; } </dev/null ;; ' +
    `a*) ( eval "$VP_LINE"; unset ${SESSION_VARS} VP_LINE; exec -- "$@" ) ${OWN_FILES} ;; ` +
    `c*) ( eval "$VP_LINE"; unset ${SESSION_VARS} VP_LINE; "$@" ) ${OWN_FILES} ;; ` +
    `*) ( unset ${SESSION_VARS}; eval "unset VP_LINE; $VP_LINE" ) ${OWN_FILES} ;; esac`,
  'VP_RC=$?',
  `case $VP_H in f*) ;; *) ${sendFile('"$VP_OUT/$VP_N"', 1)}; ${sendFile('"$VP_OUT/$VP_N.e"', 2)}; VP_X= ;; esac`,
  `[ $((VP_N % ${OUTPUT_FILES_BATCH})) -ne 0 ] || rm -f -- "$VP_OUT"/*`,
  "printf '%s %d\\n' \"$VP_NONCE\" \"$VP_RC\"",
  "printf '%s\\n' \"$VP_NONCE\" >&2",
  'done',
].join('; ');

/*
 * Session functions: a module's constant script (the file probe, the atomic write) is the body of a shell
 * function vp_NAME. Run on a channel it is `sh -c 'vp_NAME() { BODY }; vp_NAME "$@"' NAME ARGS…`; in a line
 * session the function is defined once and a call sends only `vp_NAME ARGS…`: no script to quote, send and
 * parse, and no exec of sh. Bodies must mean the same under bash as under sh (no $0, and `${BASHPID:-$$}` where a
 * per-call pid matters) — the file module tests run them both ways.
 * A function may also run in the session's own shell (`inShell`), which saves the subshell's fork: then its body
 * must leave that shell as it found it — only `local` variables, `return` (never exit, trap, cd or set -e), umask
 * restored to $VP_UMASK and `set +C` when it changed them. The one exception is wait_for's (modules/wait-for-host.ts),
 * which holds a banner connection's pipe in VP_WAIT_FD/VP_WAIT_PID between its `open` and `close` calls.
 */
export interface SessionScriptOptions {
  /** Run in the session's own shell for these arguments (no subshell). */
  inShell?: (args: readonly string[]) => boolean;
  /** In a session, a stdin is passed as one more, last argument instead of through a pipe (which forks twice). */
  stdinAsArgument?: boolean;
  /**
   * The shell that runs the script on a channel, and the argv[0] a call must name to be rewritten: 'bash' for a
   * body that needs bash (on Debian `sh` is dash). Default 'sh'.
   */
  shell?: 'sh' | 'bash';
}

interface SessionFunction {
  name: string;
  body: string;
  options: SessionScriptOptions;
}

/** Every registered function, by the channel script that runs it. */
const sessionScripts = new Map<string, SessionFunction>();

/** Register `body` as the session function vp_<name>; returns the script that runs it as `sh -c SCRIPT NAME ARGS…`. */
export function sessionScript(name: string, body: string, options: SessionScriptOptions = {}): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`session script name '${name}' is not a plain identifier`);
  const fn = `vp_${name}`;
  const script = `${fn}() {\n${body}\n}\n${fn} "$@"`;
  sessionScripts.set(script, { name: fn, body, options });
  return script;
}

/** The definitions of the given session functions, as shell code for the driver. */
function definitions(functions: ReadonlyMap<string, SessionFunction>): string {
  return [...functions.values()].map((f) => `${f.name}() {\n${f.body}\n}`).join('\n') || ':';
}

/** Every session function registered so far, as the driver defines them (the tests define them the same way). */
export function sessionDefinitions(): string {
  return definitions(sessionScripts);
}

function lookup(argv: readonly string[], functions: ReadonlyMap<string, SessionFunction>): SessionFunction | undefined {
  const fn = argv.length >= 3 && argv[1] === '-c' ? functions.get(argv[2]!) : undefined;
  return fn !== undefined && argv[0] === (fn.options.shell ?? 'sh') ? fn : undefined;
}

/**
 * `['sh', '-c', REGISTERED, name, ...args]` → the argv of the function call; undefined for anything else.
 * `functions` is what a session defined: a module loaded after the session started is not rewritten there.
 */
export function sessionCall(argv: readonly string[], functions: ReadonlyMap<string, SessionFunction> = sessionScripts): string[] | undefined {
  const fn = lookup(argv, functions);
  return fn === undefined ? undefined : [fn.name, ...argv.slice(4)];
}

/**
 * How the session runs a command: in its own shell (`in-shell`), as a program exec'd in a subshell (`argv`), as a
 * session function called in a subshell (`call`), or as code evaluated in a subshell (`eval`, a piped stdin).
 */
export type SessionCommandKind = 'in-shell' | 'argv' | 'call' | 'eval';

/** What the session runs for argv with stdin: ASCII bash code, and how. */
export interface SessionCommand {
  code: string;
  kind: SessionCommandKind;
}

export function sessionCommand(
  argv: readonly string[],
  stdin: Uint8Array,
  functions: ReadonlyMap<string, SessionFunction> = sessionScripts,
): SessionCommand {
  const fn = lookup(argv, functions);
  if (fn === undefined) {
    const code = joinArgvAscii(argv);
    // The last command of a pipeline is resolved like any other: `exec` keeps it a program.
    return stdin.length > 0 ? { code: pipeLiteral(stdin, `exec -- ${code}`), kind: 'eval' } : { code: `set -- ${code}`, kind: 'argv' };
  }
  let code = joinArgvAscii([fn.name, ...argv.slice(4)]);
  // A function that takes stdin as its last argument always gets one (`$''` for none), so it knows which it got.
  if (fn.options.stdinAsArgument) code = `${code} ${ansiCWord(stdin)}`;
  else if (stdin.length > 0) return { code: pipeLiteral(stdin, code), kind: 'eval' };
  return fn.options.inShell?.(argv.slice(4)) ? { code, kind: 'in-shell' } : { code: `set -- ${code}`, kind: 'call' };
}

const FRAME_HEADER: Record<SessionCommandKind, string> = { 'in-shell': 'f', argv: 'a', call: 'c', eval: 's' };

/** One frame of the wire format: header line, then the code (ASCII, so its length is its byte count). */
export function frame(cmd: SessionCommand): string {
  return `${FRAME_HEADER[cmd.kind]}${cmd.code.length}\n${cmd.code}`;
}

/** What a session is sent first: the nonce line, then the frame that defines the session functions. */
export function sessionOpening(nonce: string, functions: ReadonlyMap<string, SessionFunction> = sessionScripts): string {
  return `${nonce}\n${frame({ code: asciiShellCode(definitions(functions)), kind: 'in-shell' })}`;
}

const READY = Buffer.from('VP-LINE-READY\n');

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: Error): void;
  out: Buffer;
  err: Buffer;
  rc?: number;
  errDone: boolean;
}

export class LineSession extends ChannelSession<Pending> {
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly outMark: Buffer;
  private readonly errMark: Buffer;
  private pre = Buffer.alloc(0);
  /** The session functions defined in this session's shell (those registered when it started). */
  private readonly functions: ReadonlyMap<string, SessionFunction> = new Map(sessionScripts);

  constructor(ch: ClientChannel) {
    super(ch, 'line session');
    this.outMark = Buffer.from(`${this.nonce} `);
    this.errMark = Buffer.from(`${this.nonce}\n`);
    ch.on('data', (d: Buffer) => this.onStdout(d));
    ch.stderr.on('data', (d: Buffer) => this.onStderr(d));
    ch.write(sessionOpening(this.nonce, this.functions));
  }

  /** Run argv (a call of a function this session defined, else argv itself). Rejects only if the session broke. */
  run(argv: readonly string[], stdin: Uint8Array = new Uint8Array(0)): Promise<ExecResult> {
    if (!this.usable) return this.refused();
    const data = frame(sessionCommand(argv, stdin, this.functions));
    return new Promise<ExecResult>((resolve, reject) => {
      this.pending = { resolve, reject, out: Buffer.alloc(0), err: Buffer.alloc(0), errDone: false };
      this.ch.write(data);
    });
  }

  /** End the session's input: the driver's loop ends and its shell exits (sudo with it) before the disconnect. */
  end(): void {
    this.ch.end();
  }

  private onStdout(d: Buffer): void {
    if (!this.ready) {
      this.pre = Buffer.concat([this.pre, d]);
      const at = this.pre.indexOf(READY);
      if (at < 0) return;
      this.pre = Buffer.alloc(0);
      this.markReady();
      return;
    }
    const p = this.pending;
    if (!p) return this.protocolError('output while no command runs');
    p.out = p.out.length === 0 ? d : Buffer.concat([p.out, d]);
    if (p.rc !== undefined) return this.protocolError('output after the end of a result');
    const at = p.out.indexOf(this.outMark);
    if (at < 0) return;
    const nl = p.out.indexOf(0x0a, at);
    if (nl < 0) return;
    const rc = /^(\d+)$/.exec(p.out.subarray(at + this.outMark.length, nl).toString('latin1'));
    if (!rc || nl !== p.out.length - 1) return this.protocolError('malformed end of result');
    p.rc = Number(rc[1]);
    p.out = p.out.subarray(0, at);
    this.settle();
  }

  private onStderr(d: Buffer): void {
    const p = this.pending;
    if (!p) return; // bash's own complaints before the first command (none expected)
    p.err = p.err.length === 0 ? d : Buffer.concat([p.err, d]);
    if (!p.err.subarray(-this.errMark.length).equals(this.errMark)) return;
    p.err = p.err.subarray(0, p.err.length - this.errMark.length);
    p.errDone = true;
    this.settle();
  }

  /** A result is complete when both streams carried their end mark (they arrive independently). */
  private settle(): void {
    const p = this.pending;
    if (!p || p.rc === undefined || !p.errDone) return;
    this.pending = undefined;
    p.resolve({ rc: p.rc, stdout: p.out.toString('utf8'), stderr: p.err.toString('utf8') });
  }
}

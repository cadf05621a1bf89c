import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { ansiCQuote, joinArgv } from './quote.js';
import type { ExecResult } from './types.js';

/**
 * A long-lived bash on one SSH channel that runs stdin-less commands one after another with ONE fork each
 * (the subshell), instead of a new sshd session + login shell per command. Measured on the light fleet (20 hosts
 * × 10 probe commands, alternating): 1.22 → 0.94 s wall, controller CPU 0.35 → 0.27 s; one host: ~30 → ~6 ms
 * per command. Become users get a session of their own through `sudo -n` (ssh.ts); shell-session.ts (opt-in, for
 * a become password) frames with byte counts and costs ~5 forks per command.
 *
 * Wire format:
 *   controller → host: first line a random nonce; then one line per command, the shell line as `$'…'`
 *                      (quote.ts: ansiCQuote), so a command is always exactly one line.
 *   host → controller: the command's stdout, then "<nonce> <rc>\n"; its stderr, then "<nonce>\n" on stderr.
 * The nonce is 128 random bits sent over the encrypted channel and unset before the command runs, so no output
 * can forge the end of a result. Commands get /dev/null as stdin (a small stdin is piped in by the command line
 * itself, quote.ts pipeLiteral; a large one or one with a NUL byte takes its own channel) and
 * run in a subshell: `exit`, `cd` and variables do not leak into the next one.
 * Differences from a channel, by design: a command killed by a signal reports bash's 128+N as rc; a background
 * process still writing after the command ended would write into the next result (execs with timeoutMs, as the
 * runner's long-running ones, never come here), and the session holds one channel open. Hence opt-in
 * (SshConnectOptions.lineSession); the runner turns it on.
 */
// One line on purpose: bash numbers a failing command's line from the driver's first line, so "bash: line 1:
// x: command not found" reads exactly as it does through a channel (`bash -c 'x'`).
// The second line the controller sends defines the session functions (see sessionScript) in the session's own
// shell, once; every command's subshell inherits them.
export const LINE_SESSION_DRIVER = [
  'IFS= read -r VP_NONCE || exit 1',
  'IFS= read -r VP_LINE || exit 1',
  'eval "VP_DEFS=$VP_LINE"',
  'eval "$VP_DEFS" || exit 1',
  'unset VP_DEFS',
  "printf 'VP-LINE-READY\\n'",
  'while IFS= read -r VP_LINE; do eval "VP_CMD=$VP_LINE"',
  '( unset VP_NONCE VP_LINE; eval "$VP_CMD" ) </dev/null',
  'VP_RC=$?',
  "printf '%s %d\\n' \"$VP_NONCE\" \"$VP_RC\"",
  "printf '%s\\n' \"$VP_NONCE\" >&2",
  'done',
].join('; ');

/*
 * Session functions: a module's constant `sh -c SCRIPT NAME ARGS…` (the file probe, the atomic write) becomes the
 * call `vp_NAME ARGS…` of a bash function defined once per session. Per call that saves sending, quoting and
 * parsing the script and one exec of sh; the arguments stay positional, so nothing about quoting changes.
 * Only scripts registered here are rewritten: each must mean the same under bash as under sh (no $0, and
 * `${BASHPID:-$$}` where a per-call pid matters) — the file module tests run them both ways.
 */
const sessionScripts = new Map<string, string>();

/** Register `body` (a constant script run as `sh -c body …`) as the session function vp_<name>; returns body. */
export function sessionScript(name: string, body: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`session script name '${name}' is not a plain identifier`);
  sessionScripts.set(body, `vp_${name}`);
  return body;
}

/** The definitions of the given session functions (body → name), as one shell line for the driver. */
function definitionsLine(functions: ReadonlyMap<string, string>): string {
  return [...functions].map(([body, fn]) => `${fn}() {\n${body}\n}`).join('\n') || ':';
}

/** Every session function registered so far, as the driver's definitions line (the tests define them the same way). */
export function sessionDefinitions(): string {
  return definitionsLine(sessionScripts);
}

/**
 * `['sh', '-c', REGISTERED, name, ...args]` → the argv of the function call; undefined for anything else.
 * `functions` is what a session defined: a module loaded after the session started is not rewritten there.
 */
export function sessionCall(argv: readonly string[], functions: ReadonlyMap<string, string> = sessionScripts): string[] | undefined {
  if (argv.length < 3 || argv[0] !== 'sh' || argv[1] !== '-c') return undefined;
  const fn = functions.get(argv[2]!);
  return fn === undefined ? undefined : [fn, ...argv.slice(4)];
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

export class LineSession {
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly outMark: Buffer;
  private readonly errMark: Buffer;
  private pre = Buffer.alloc(0);
  private ready = false;
  private dead = false;
  private pending: Pending | undefined;
  private readyWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  /** The session functions defined in this session's shell (those registered when it started). */
  private readonly functions = new Map(sessionScripts);

  constructor(private readonly ch: ClientChannel) {
    this.outMark = Buffer.from(`${this.nonce} `);
    this.errMark = Buffer.from(`${this.nonce}\n`);
    ch.on('data', (d: Buffer) => this.onStdout(d));
    ch.stderr.on('data', (d: Buffer) => this.onStderr(d));
    ch.on('error', () => undefined);
    ch.once('close', () => this.fail(new Error('the line session closed')));
    ch.write(`${this.nonce}\n${ansiCQuote(definitionsLine(this.functions))}\n`);
  }

  /** The shell line for argv in this session: a call of a function it defined, else argv itself. */
  commandFor(argv: readonly string[]): string {
    return joinArgv(sessionCall(argv, this.functions) ?? argv);
  }

  waitReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.dead) return Promise.reject(new Error('the line session closed'));
    return new Promise((resolve, reject) => (this.readyWaiter = { resolve, reject }));
  }

  get wasReady(): boolean {
    return this.ready;
  }

  get usable(): boolean {
    return this.ready && !this.dead && this.pending === undefined;
  }

  /** Run one shell command line (already quoted by joinArgv). Rejects only if the session itself broke. */
  run(script: string): Promise<ExecResult> {
    if (!this.usable) return Promise.reject(new Error('the line session is busy or closed'));
    const line = ansiCQuote(script);
    return new Promise<ExecResult>((resolve, reject) => {
      this.pending = { resolve, reject, out: Buffer.alloc(0), err: Buffer.alloc(0), errDone: false };
      this.ch.write(`${line}\n`);
    });
  }

  /** End the session's input: the driver's loop ends and its shell exits (sudo with it) before the disconnect. */
  end(): void {
    this.ch.end();
  }

  /** Stop the session now (abort): the running command is cut off like a closed exec channel. */
  kill(): void {
    this.fail(new Error('the line session was stopped'));
    this.ch.close();
  }

  private onStdout(d: Buffer): void {
    if (!this.ready) {
      this.pre = Buffer.concat([this.pre, d]);
      const at = this.pre.indexOf(READY);
      if (at < 0) return;
      this.ready = true;
      this.pre = Buffer.alloc(0);
      this.readyWaiter?.resolve();
      this.readyWaiter = undefined;
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

  private protocolError(what: string): void {
    this.fail(new Error(`line session protocol error: ${what}`));
    this.ch.close();
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.readyWaiter?.reject(e);
    this.readyWaiter = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }
}

import type { Readable, Writable } from 'node:stream';
import { becomePasswordWrong, type BecomeHandshake } from './become.js';
import type { ExecOptions, ExecResult } from './types.js';

/**
 * The part of running a command that is the same for an ssh2 channel and a local child process: feeding stdin,
 * answering sudo's password prompt, collecting output, timeouts and aborts.
 */

export interface ProcessEnd {
  code: number | null;
  signal?: string;
  /** A message to append to stderr (e.g. why a local spawn failed). */
  note?: string;
}

export interface ProcessIo {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves once the process has ended and its output streams are done. `code` is null when killed or lost. */
  done: Promise<ProcessEnd>;
  /** Stop the process now (signal + close); `done` still resolves afterwards. */
  kill(): void;
}

export interface DriveOptions {
  hostName: string;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  handshake?: BecomeHandshake;
  becomeUser?: string;
}

/** The driver's options for one exec: the caller's stdin, timeout and signal, and the become prompt to answer. */
export function driveOptions(hostName: string, becomeUser: string, opts: ExecOptions, handshake: BecomeHandshake | undefined): DriveOptions {
  return {
    hostName,
    becomeUser,
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(handshake ? { handshake } : {}),
  };
}

/** Raised by `drive` when the caller's AbortSignal fires; the process has been told to stop. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('exec aborted');
  e.name = 'AbortError';
  return e;
}

const KILL_GRACE_MS = 2000;

export async function drive(io: ProcessIo, opts: DriveOptions): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let timedOut = false;
  let aborted = false;
  let becomeFailure: Error | undefined;

  const writeInput = (): void => {
    if (opts.stdin !== undefined && opts.stdin.length > 0) io.stdin.write(opts.stdin);
    io.stdin.end();
  };
  // A closed remote stdin (command exited early) must not crash the run.
  io.stdin.on('error', () => undefined);

  let finishHandshake: (() => boolean) | undefined;
  if (opts.handshake) {
    finishHandshake = watchHandshake(io, opts.handshake, out, err, writeInput, () => {
      becomeFailure = becomePasswordWrong(opts.hostName, opts.becomeUser ?? 'root');
      stop();
    });
  } else {
    io.stdout.on('data', (b: Buffer) => out.push(b));
    io.stderr.on('data', (b: Buffer) => err.push(b));
    writeInput();
  }

  // After a kill, wait at most KILL_GRACE_MS for the process to end: a command that cannot be signalled (sudo to
  // another user over ssh) must not hold the caller; its channel stays counted until it really closes.
  let stopped: (() => void) | undefined;
  const gaveUp = new Promise<ProcessEnd>((resolve) => {
    stopped = () => setTimeout(() => resolve({ code: null, note: 'vncplay: the command did not stop when told to; left behind' }), KILL_GRACE_MS).unref();
  });
  const stop = (): void => {
    io.kill();
    stopped?.();
    stopped = undefined;
  };
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  let ended: ProcessEnd;
  try {
    ended = await Promise.race([io.done, gaveUp]);
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (aborted && opts.signal) throw abortError(opts.signal);
  if (becomeFailure) throw becomeFailure;

  const handedOver = finishHandshake?.() ?? true;
  const stdout = Buffer.concat(out).toString('utf8');
  let stderr = Buffer.concat(err).toString('utf8');
  // su refuses a wrong password without asking again: its message (after the prompt, on the same line) says so.
  if (!handedOver && opts.handshake?.refused?.test(stderr)) throw becomePasswordWrong(opts.hostName, opts.becomeUser ?? 'root', 'su');
  if (opts.handshake) stderr = stripPrompts(stderr, opts.handshake.prompt);
  if (ended.note) stderr += `${ended.note}\n`;
  if (timedOut) {
    stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}vncplay: command timed out after ${opts.timeoutMs} ms and was stopped\n`;
    return { rc: -1, stdout, stderr };
  }
  const result: ExecResult = { rc: ended.code ?? -1, stdout, stderr };
  if (ended.signal) result.signal = ended.signal;
  return result;
}

function stripPrompts(text: string, prompt: string | RegExp): string {
  return typeof prompt === 'string' ? text.replaceAll(prompt, '') : text.replace(prompt, (m) => (m.startsWith('\n') ? '\n' : ''));
}

function countPrompts(text: string, prompt: string | RegExp): number {
  return typeof prompt === 'string' ? text.split(prompt).length - 1 : (text.match(prompt) ?? []).length;
}

/**
 * sudo -S with a random prompt (or su's): answer the first prompt with the password; a second prompt means it was wrong.
 * Everything on stdout before the success line belongs to sudo's handover, not to the command; the command's
 * stdin is only sent after that line, so it can never be swallowed as a password (or a password fed to the command).
 */
function watchHandshake(
  io: ProcessIo,
  hs: BecomeHandshake,
  out: Buffer[],
  err: Buffer[],
  writeInput: () => void,
  onWrongPassword: () => void,
): () => boolean {
  let prompts = 0;
  let errText = '';
  let handedOver = false;
  io.stderr.on('data', (b: Buffer) => {
    err.push(b);
    // After the handover stderr is the command's own: a "Password:" it prints is not a prompt to answer.
    if (handedOver) return;
    errText += b.toString('utf8');
    const seen = countPrompts(errText, hs.prompt);
    while (prompts < seen) {
      prompts++;
      if (prompts === 1) io.stdin.write(`${hs.password}\n`);
      else onWrongPassword();
    }
  });

  const marker = Buffer.from(`${hs.success}\n`);
  let head = Buffer.alloc(0);
  io.stdout.on('data', (b: Buffer) => {
    if (handedOver) {
      out.push(b);
      return;
    }
    head = Buffer.concat([head, b]);
    const at = head.indexOf(marker);
    if (at >= 0) {
      handedOver = true;
      const rest = head.subarray(at + marker.length);
      if (rest.length > 0) out.push(rest);
      writeInput();
    }
  });
  return () => {
    // sudo failed before handing over: keep what it printed so the caller can see why.
    if (!handedOver && head.length > 0) out.push(head);
    return handedOver;
  };
}

import { VncplayError } from '../errors.js';

/**
 * The ONLY place in vncplay where an argv array becomes a shell string. Every remote command goes through
 * `joinArgv`, so quoting bugs can live in exactly one file and be tested in one place.
 */

/** Characters that never need quoting in any POSIX shell word (no globbing, expansion or word splitting). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Raised when an argument cannot be represented in a shell word (NUL bytes end C strings). */
export class QuoteError extends VncplayError {}

/**
 * Quote one argument for a POSIX shell (sh, dash, bash, busybox ash).
 *
 * Single quotes keep every byte literal — `$`, backticks, `\`, `!`, newlines — except `'` itself, which is
 * written as `'\''` (close, escaped quote, reopen). Plain words are left bare so logged commands stay readable.
 */
export function shellQuote(s: string): string {
  if (s.includes('\0')) {
    throw new QuoteError('E_ARGV_NUL', `argument contains a NUL byte: ${JSON.stringify(s.slice(0, 60))}`, {
      hint: 'command arguments cannot contain NUL bytes; pass binary data through stdin instead',
    });
  }
  if (s === '') return "''";
  if (SAFE_WORD.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Join an argv array into one shell command line, each element quoted so the shell sees exactly `argv`. */
export function joinArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * The command line that makes a POSIX shell (an SSH login shell, the shell session's sh) run argv as a PROGRAM:
 * `exec ARGV`. Without `exec` the shell would resolve argv[0] as a builtin or function (`eval 'code'` runs code)
 * and take a `NAME=value` argv[0] as an assignment; after `exec` every word is an argument, and exec only runs
 * programs ("exec: eval: not found"). No `--`: dash's exec does not take one.
 */
export function execLine(argv: readonly string[]): string {
  return `exec ${joinArgv(argv)}`;
}

/**
 * `bytes` as ONE ANSI-C quoted bash word (`$'…'`) of printable ASCII only: every byte outside printable ASCII, and
 * `\` and `'`, is written as \xHH, so any bytes without a NUL (bash strings cannot hold one) arrive as they were.
 */
export function ansiCWord(bytes: Uint8Array): string {
  if (bytes.includes(0)) {
    throw new QuoteError('E_ARGV_NUL', 'data with a NUL byte cannot be written into a command line', {
      hint: 'send such data on a channel\'s stdin instead',
    });
  }
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = ANSI_C_BYTE[bytes[i]!]!;
  return `$'${parts.join('')}'`;
}

/** Each byte as it is written inside `$'…'` (a table: a 32 KiB file is escaped on every write). */
const ANSI_C_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b >= 0x20 && b < 0x7f ? (b === 0x5c || b === 0x27 ? `\\${String.fromCharCode(b)}` : String.fromCharCode(b)) : `\\x${b.toString(16).padStart(2, '0')}`,
);

// eslint-disable-next-line no-control-regex
const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * `argv` as one bash command line of ASCII only (line-session.ts counts its frames in bytes, read by bash in
 * characters): words as joinArgv quotes them, except a word with non-ASCII characters, which becomes an ANSI-C
 * word of its UTF-8 bytes. Bash only (`$'…'`).
 */
export function joinArgvAscii(argv: readonly string[]): string {
  return argv.map((a) => (NOT_ASCII.test(a) ? ansiCWord(Buffer.from(a, 'utf8')) : shellQuote(a))).join(' ');
}

/** Shell code (a bash script) as ASCII only: itself when it is, else `eval` of it as one ANSI-C word. */
export function asciiShellCode(code: string): string {
  return NOT_ASCII.test(code) ? `eval ${ansiCWord(Buffer.from(code, 'utf8'))}` : code;
}

/**
 * `line` fed `data` on its stdin, as one line of bash: `printf '%s' $'…' | line`. Every byte outside printable
 * ASCII (and `\`, `'`) is written as \xHH, so any content without a NUL byte (bash strings cannot hold one)
 * arrives byte for byte. For the line session's small stdins (line-session.ts); big or NUL-bearing data takes a channel.
 */
export function pipeLiteral(data: Uint8Array, line: string): string {
  return `printf '%s' ${ansiCWord(data)} | ${line}`;
}

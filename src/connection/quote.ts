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
 * A shell line as ONE line of bash source: an ANSI-C quoted word (`$'…'`) holding exactly `line`'s bytes.
 * The line session (line-session.ts) reads commands line by line, so newlines must not appear raw; only `\`,
 * `'`, and control characters are escaped, other bytes (UTF-8 included) pass through unchanged.
 */
export function ansiCQuote(line: string): string {
  if (line.includes('\0')) {
    throw new QuoteError('E_ARGV_NUL', `command contains a NUL byte: ${JSON.stringify(line.slice(0, 60))}`, {
      hint: 'command arguments cannot contain NUL bytes; pass binary data through stdin instead',
    });
  }
  // eslint-disable-next-line no-control-regex
  const escaped = line.replace(/[\\'\x01-\x1f\x7f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `$'${escaped}'`;
}

/**
 * `line` fed `data` on its stdin, as one line of bash: `printf '%s' $'…' | line`. Every byte outside printable
 * ASCII (and `\`, `'`) is written as \xHH, so any content without a NUL byte (bash strings cannot hold one)
 * arrives byte for byte. For the line session's small stdins (line-session.ts); big or NUL-bearing data takes a channel.
 */
export function pipeLiteral(data: Uint8Array, line: string): string {
  if (data.includes(0)) {
    throw new QuoteError('E_ARGV_NUL', 'stdin with a NUL byte cannot be written into a command line', {
      hint: 'send such data on a channel\'s stdin instead',
    });
  }
  let escaped = '';
  for (const b of data) {
    escaped += b >= 0x20 && b < 0x7f ? (b === 0x5c || b === 0x27 ? `\\${String.fromCharCode(b)}` : String.fromCharCode(b)) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `printf '%s' $'${escaped}' | ${line}`;
}

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { joinArgv, shellQuote } from '../../src/connection/quote.js';

/** Run `script` with /bin/sh and return what `printf '%s\0' ARGS` printed, split back into strings. */
function roundTrip(argv: readonly string[]): string[] {
  const script = `printf '%s\\0' ${joinArgv(argv)}`;
  const res = spawnSync('/bin/sh', ['-c', script], { encoding: 'buffer' });
  expect(res.status).toBe(0);
  const out = res.stdout.toString('utf8');
  const parts = out.split('\0');
  parts.pop(); // trailing terminator
  return parts;
}

describe('shellQuote', () => {
  const table: Array<[string, string]> = [
    ['', "''"],
    ['plain', 'plain'],
    ['/usr/bin/env', '/usr/bin/env'],
    ['a=b,c:d@e%f+g', 'a=b,c:d@e%f+g'],
    ['--flag', '--flag'],
    ['two words', "'two words'"],
    ["it's", `'it'\\''s'`],
    ["'", `''\\'''`],
    ['$(reboot)', "'$(reboot)'"],
    ['`id`', "'`id`'"],
    ['a\nb', "'a\nb'"],
    ['*', "'*'"],
    ['~root', "'~root'"],
    ['!x', "'!x'"],
    ['back\\slash', "'back\\slash'"],
    ['"dq"', `'"dq"'`],
    ['é', "'é'"],
  ];
  it.each(table)('quotes %j as %s', (input, expected) => {
    expect(shellQuote(input)).toBe(expected);
  });

  it('rejects NUL bytes with a coded error', () => {
    expect(() => shellQuote('a\0b')).toThrowError(expect.objectContaining({ code: 'E_ARGV_NUL' }));
  });
});

describe('joinArgv through a real /bin/sh', () => {
  const nasty = [
    '',
    ' ',
    "'",
    "''",
    '"',
    '\\',
    '\\\'',
    '$HOME',
    '${PATH}',
    '$(touch /tmp/vncplay-pwned)',
    '`touch /tmp/vncplay-pwned`',
    'a;b|c&d>e<f',
    '\n',
    'line1\nline2\n',
    '\t\r\v\f',
    '*?[a-z]',
    '~',
    '#comment',
    '-n',
    '--',
    '%s%n',
    'ünïcödé 日本語 🎉',
    '\x01\x7f',
  ];
  it('round-trips every nasty argument exactly', () => {
    expect(roundTrip(nasty)).toEqual(nasty);
  });

  it('round-trips random strings (property style)', () => {
    // Deterministic PRNG so a failure is reproducible.
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = [..."abc '\"\\$`!*?~#;&|<>(){}[]\n\t%=-é日🎉"];
    for (let round = 0; round < 40; round++) {
      const argv = Array.from({ length: 1 + rand(6) }, () =>
        Array.from({ length: rand(12) }, () => alphabet[rand(alphabet.length)]!).join(''),
      );
      expect(roundTrip(argv)).toEqual(argv);
    }
    // Every non-NUL byte value 1..255 as a single-character argument (latin1 code points, utf8 on the wire).
    const bytes = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1));
    expect(roundTrip(bytes)).toEqual(bytes);
  });
});

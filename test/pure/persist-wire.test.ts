// The JSON-lines framing between the CLI and the persistence daemon (persist-wire.ts).
import { describe, expect, it } from 'vitest';
import { jsonLines } from '../../src/connection/persist-wire.js';

describe('jsonLines', () => {
  it('decodes a line whole: a large line in small chunks, a UTF-8 character split between two, several lines in one chunk', () => {
    const got: unknown[] = [];
    const feed = jsonLines<unknown>((m) => got.push(m), () => got.push('BAD'));
    const big = 'é€'.repeat(1_000_000);
    const bytes = Buffer.from(`${JSON.stringify({ a: big })}\n${JSON.stringify({ b: 1 })}\n{"c":`);
    // Odd-sized chunks: the two- and three-byte characters fall across chunk ends.
    for (let i = 0; i < bytes.length; i += 65_537) feed(bytes.subarray(i, i + 65_537));
    feed(Buffer.from('2}\n'));
    expect(got.length).toBe(3);
    expect((got[0] as { a: string }).a === big).toBe(true);
    expect(got.slice(1)).toEqual([{ b: 1 }, { c: 2 }]);
  });

  it('a line that is not JSON ends the stream', () => {
    const got: unknown[] = [];
    jsonLines<unknown>((m) => got.push(m), () => got.push('BAD'))(Buffer.from('{"ok":1}\nnot json\n{"never":1}\n'));
    expect(got).toEqual([{ ok: 1 }, 'BAD']);
  });
});

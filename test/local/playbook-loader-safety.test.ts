import { isUtf8 } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { firstInvalidUtf8 } from '../../src/playbook/yaml-source.js';
import { requireProgram } from '../support/tools.js';

/** Issue 13, loader items: inputs that used to hang the loader or be read wrongly. */

const playbook = '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n';

function fifo(): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-fifo-'));
  const file = path.join(dir, 'pb.yml');
  expect(spawnSync(requireProgram('mkfifo'), [file]).status).toBe(0);
  writeFileSync(path.join(dir, 'source.yml'), playbook);
  return { dir, file };
}

describe('a FIFO as playbook', () => {
  it('that no process writes to is an error within a second, not a wait without end', async () => {
    const { file } = fifo();
    const started = Date.now();
    const err = await loadPlaybook(file).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorList);
    const [first] = (err as ErrorList).errors;
    expect(first!.format()).toMatch(/pb\.yml:1:1: error\[E_READ\]: .* is a FIFO that no process is writing to/);
    expect(Date.now() - started).toBeLessThan(2000);
  }, 10_000);

  it('is read to its end when a writer is waiting to open it, or writes only after a while (as <(…) does)', async () => {
    for (const script of ['cat source.yml > pb.yml', 'exec > pb.yml; sleep 0.3; cat source.yml']) {
      const { dir, file } = fifo();
      const writer = spawn('sh', ['-c', script], { cwd: dir, stdio: 'ignore' });
      const exited = new Promise((resolve) => writer.on('exit', resolve));
      // The writer is started first: it blocks in open() until the loader opens the FIFO for reading.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const pb = await loadPlaybook(file);
      expect(pb.plays[0]!.tasks.map((t) => t.module)).toEqual(['ping']);
      await exited;
    }
  }, 10_000);
});

describe('firstInvalidUtf8', () => {
  it.each<[string, number[], number | undefined]>([
    ['ASCII', [0x61, 0x0a], undefined],
    ['2-, 3- and 4-byte characters', [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], undefined],
    ['a Latin-1 é', [0x61, 0xe9, 0x62], 1],
    ['a lone continuation byte', [0x80], 0],
    ['an overlong /', [0xc0, 0xaf], 0],
    ['an encoded surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a truncated 3-byte character at the end', [0x61, 0xe2, 0x82], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
  ])('%s', (_label, bytes, expected) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(expected);
  });

  it('agrees with Node\'s own UTF-8 check on random bytes', () => {
    let seed = 13;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      // Mostly high bytes, so that valid multi-byte sequences occur as well as broken ones.
      const bytes = Uint8Array.from({ length: 1 + rnd(8) }, () => (rnd(4) === 0 ? rnd(0x80) : 0x80 + rnd(0x80)));
      expect(firstInvalidUtf8(bytes) === undefined, Buffer.from(bytes).toString('hex')).toBe(isUtf8(bytes));
    }
  });
});

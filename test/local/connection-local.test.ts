// LocalConnection on the controller itself: argv without a shell, stdin, become via sudo or directly as root,
// timeouts and aborts, and the same atomic write/read helpers the ssh connection uses.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { readFileRemote, writeFileAtomic } from '../../src/connection/write-file.js';

const conn = new LocalConnection({ hostName: 'localhost' });
const dir = mkdtempSync(join(tmpdir(), 'vp-local-'));

describe('LocalConnection', () => {
  it('runs argv with no shell in between', async () => {
    const nasty = ['$(id)', '`id`', "'", '"', ';', '|', '*', '', ' x '];
    const r = await conn.exec(['printf', '%s\\0', ...nasty]);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
  });

  it('feeds stdin, reports exit codes, signals and missing commands like a shell would', async () => {
    expect(await conn.exec(['cat'], { stdin: 'in\n' })).toEqual({ rc: 0, stdout: 'in\n', stderr: '' });
    expect((await conn.exec(['sh', '-c', 'exit 5'])).rc).toBe(5);
    expect(await conn.exec(['sh', '-c', 'kill -TERM $$'])).toMatchObject({ rc: -1, signal: 'TERM' });
    expect(await conn.exec(['vp-no-such-command'])).toMatchObject({ rc: 127, stderr: 'vp-no-such-command: not found\n' });
  });

  it('times out and aborts', async () => {
    const t0 = Date.now();
    expect(await conn.exec(['sleep', '30'], { timeoutMs: 300 })).toMatchObject({ rc: -1 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(conn.exec(['sleep', '30'], { signal: ac.signal })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it.skipIf(userInfo().username !== 'root')('become: runs directly as root, through sudo -n for another user', async () => {
    expect((await conn.exec(['id', '-un'], { become: true })).stdout).toBe('root\n');
    expect((await conn.exec(['id', '-un'], { become: true, becomeUser: 'nobody' })).stdout).toBe('nobody\n');
  });

  it('writes atomically and reads back', async () => {
    const p = join(dir, 'f.conf');
    await writeFileAtomic(conn, p, 'hello\n', { mode: '0600' });
    expect(readFileSync(p, 'utf8')).toBe('hello\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const f = await readFileRemote(conn, p);
    expect(f).toMatchObject({ exists: true, type: 'file', mode: '0600', size: 6 });
    expect(f.content?.toString()).toBe('hello\n');
    const err = await writeFileAtomic(conn, join(dir, 'no-such-dir', 'x'), 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_WRITE_FILE' });
    expect((err as Error).message).toContain('does not exist');
  });
});

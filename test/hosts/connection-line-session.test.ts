// The line session (src/connection/line-session.ts): plain execs through one long-lived bash per connection,
// against a real fleet host. Results must be exactly what a channel per command gives.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SshConnection } from '../../src/connection/ssh.js';
import { writeFileAtomic } from '../../src/connection/write-file.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

describe.skipIf(!fleetAvailable())('line session (plain execs on one bash)', () => {
  let line: SshConnection;
  let chan: SshConnection;
  beforeAll(async () => {
    const h = fleetHosts()[0]!;
    line = await connect(fleetConnectionSpec(h), { lineSession: true });
    chan = await connect(fleetConnectionSpec(h));
  });
  afterAll(async () => {
    await line?.close();
    await chan?.close();
  });

  // Each row runs on both connections; the line session must give the very same ExecResult.
  const nasty = ['', ' ', "'", '"', '\\', '$HOME', '$(touch /tmp/vp-pwned-line)', '`id`', 'a;b|c&d', '\n', '\r\n', '\t\x01\x7f', 'é日🎉', "$'x'"];
  const rows: [string, string[]][] = [
    ['nasty arguments arrive verbatim', ['printf', '%s\\0', ...nasty]],
    ['stdout and stderr apart, exit code', ['sh', '-c', 'echo out; echo err >&2; exit 7']],
    ['output without a trailing newline', ['printf', 'no newline']],
    ['stderr without a trailing newline', ['sh', '-c', 'printf oops >&2; exit 1']],
    ['missing command', ['vp-no-such-command']],
    ['stdin is empty, not the session', ['sh', '-c', 'cat; echo rc=$?']],
    ['large output (1 MiB of base64)', ['sh', '-c', 'head -c 786432 /dev/zero | base64 -w0']],
    ['the session variables are not visible', ['sh', '-c', 'echo "${VP_NONCE-unset} ${VP_LINE-unset}"; set | grep -c "^VP_NONCE=" || true']],
    ['working directory and user', ['sh', '-c', 'pwd; id -un']],
  ];
  it.each(rows)('%s', async (_what, argv) => {
    const viaLine = await line.exec(argv);
    const viaChannel = await chan.exec(argv);
    expect(viaLine).toEqual(viaChannel);
  });

  // Become without a password: one `sudo -n bash` line session per become user instead of a channel + sudo each.
  // Except a missing command: sudo itself reports that (rc 1) on a channel, the session's bash says 127, as without become.
  it.each(rows.filter(([what]) => what !== 'missing command'))('under become: %s', async (_what, argv) => {
    const before = { line: line.stats.lineExecs, channels: line.stats.channels };
    const viaLine = await line.exec(argv, { become: true });
    const viaChannel = await chan.exec(argv, { become: true });
    expect(viaLine).toEqual(viaChannel);
    expect(line.stats.lineExecs - before.line).toBe(1);
  });

  it('become sessions are per user, run as that user, and keep commands apart', async () => {
    const asRoot = await line.exec(['sh', '-c', 'id -un; echo "$HOME"; cd /tmp; X=1'], { become: true });
    expect(asRoot).toEqual({ rc: 0, stdout: 'root\n/root\n', stderr: '' });
    const asNobody = await line.exec(['id', '-un'], { become: true, becomeUser: 'nobody' });
    expect(asNobody.stdout).toBe('nobody\n');
    const missing = await line.exec(['vp-no-such-command'], { become: true });
    expect([missing.rc, missing.stderr]).toEqual([127, expect.stringContaining('exec: vp-no-such-command: not found')]);
    const plain = await line.exec(['sh', '-c', 'id -un; pwd; echo "${X-unset}"']);
    expect(plain.stdout).toBe('vncplay\n/home/vncplay\nunset\n');
  });

  // Small stdins are piped in by the command line (quote.ts pipeLiteral): byte for byte, as a channel sends them.
  const noNul = new Uint8Array(4096).map((_, i) => (i % 255) + 1);
  const stdins: [string, string | Uint8Array][] = [
    ['text with quotes and backslashes', "a'b\\c\"d $x `y`\n"],
    ['UTF-8 and control characters', 'é日🎉\r\n\t\x01\x7f no final newline'],
    ['every byte value but NUL', noNul],
    ['32 KiB of text', 'x'.repeat(32 * 1024)],
  ];
  it.each(stdins)('stdin through the session: %s', async (_what, stdin) => {
    const before = line.stats.lineExecs;
    const viaLine = await line.exec(['sh', '-c', 'wc -c; cat | sha256sum'], { stdin });
    expect(line.stats.lineExecs - before).toBe(1);
    const bytes = typeof stdin === 'string' ? Buffer.from(stdin) : Buffer.from(stdin);
    const viaChannel = await chan.exec(['sh', '-c', 'wc -c; cat | sha256sum'], { stdin });
    expect(viaLine).toEqual(viaChannel);
    expect((await line.exec(['sha256sum'], { stdin })).stdout.split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('runs plain execs in the session, keeps commands apart (exit, cd, variables)', async () => {
    const before = line.stats.lineExecs;
    const start = (await line.exec(['pwd'])).stdout;
    await line.exec(['sh', '-c', 'cd /; exit 0']);
    expect((await line.exec(['bash', '-c', 'cd /tmp; X=1; export Y=2; exit 3'])).rc).toBe(3);
    expect((await line.exec(['pwd'])).stdout).toBe(start);
    expect((await line.exec(['sh', '-c', 'echo "${X-}${Y-}"'])).stdout).toBe('\n');
    expect(line.stats.lineExecs - before).toBe(5);
  });

  it('execs with a large or NUL-bearing stdin, a timeout, or while the session is busy take their own channel', async () => {
    const before = { line: line.stats.lineExecs, channels: line.stats.channels };
    const bin = new Uint8Array(randomBytes(50_000));
    const sum = await line.exec(['sha256sum'], { stdin: bin });
    expect(sum.stdout.split(' ')[0]).toBe(createHash('sha256').update(bin).digest('hex'));
    expect((await line.exec(['true'], { timeoutMs: 5000 })).rc).toBe(0);
    const parallel = await Promise.all([1, 2, 3].map((i) => line.exec(['sh', '-c', `sleep 0.2; echo ${i}`])));
    expect(parallel.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect(line.stats.lineExecs - before.line).toBe(1);
    expect(line.stats.channels - before.channels).toBe(4);
  });

  // The atomic write runs in the session's own shell with the content as its last argument (write-file.ts):
  // printf (a builtin) fills the temp file, so a full disk must surface from printf, not from dd's count.
  it('an atomic write through the session: one exec; a full disk fails it and keeps the old file', async () => {
    const h = fleetHosts()[0]!;
    const mnt = `/mnt/vp-line-small-${randomBytes(3).toString('hex')}`;
    await hostExecOk(h.name, ['sh', '-c', `mkdir -p ${mnt} && mount -t tmpfs -o size=16k tmpfs ${mnt}`]);
    try {
      const before = line.stats.lineExecs;
      await writeFileAtomic(line, `${mnt}/f`, 'small old\n', { become: true, mode: '0640' });
      expect(line.stats.lineExecs - before).toBe(1);
      expect(await hostExecOk(h.name, ['stat', '-c', '%a %U %s', `${mnt}/f`])).toBe('640 root 10\n');
      const err = await writeFileAtomic(line, `${mnt}/f`, 'y'.repeat(30 * 1024), { become: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_WRITE_FILE', message: expect.stringMatching(/No space left on device/) });
      expect(line.stats.lineExecs - before).toBe(2);
      expect(await hostExecOk(h.name, ['cat', `${mnt}/f`])).toBe('small old\n');
      expect(await hostExecOk(h.name, ['ls', '-A', mnt])).toBe('f\n');
      // The session shell is still fine and its umask untouched.
      expect((await line.exec(['sh', '-c', 'umask'], { become: true })).stdout).toBe((await chan.exec(['sh', '-c', 'umask'], { become: true })).stdout);
    } finally {
      await hostExec(h.name, ['sh', '-c', `umount ${mnt} && rmdir ${mnt}`]);
    }
  });

  it('an aborted exec stops its command; the next exec gets a fresh session', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = line.exec(['sleep', '30'], { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 300);
    await expect(p).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(10_000);
    const before = line.stats.lineExecs;
    expect(await line.exec(['echo', 'again'])).toEqual({ rc: 0, stdout: 'again\n', stderr: '' });
    expect(line.stats.lineExecs - before).toBe(1);
  });
});

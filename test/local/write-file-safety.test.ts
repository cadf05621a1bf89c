// The atomic write and the validate step against planted symlinks, run by a local sh (as on a channel) and by the
// line session's driver in a local bash (as in a session); the fleet test (test/integration/file-links-fleet)
// does the same through SSH with a link owned by another user.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LINE_SESSION_DRIVER, frame, sessionCommand, sessionOpening } from '../../src/connection/line-session.js';
import { WRITE_FILE_SCRIPT } from '../../src/connection/write-file.js';
import { LocalConnection } from '../../src/connection/local.js';
import { backupStep, validateStep } from '../../src/modules/file-common.js';
import { fileModule } from '../../src/modules/file.js';
import { invokeModule } from '../../src/runner/invoke-module.js';
import { runThroughDriver } from '../support/line-driver.js';

const root = mkdtempSync(join(tmpdir(), 'vncplay-write-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh folder holding `secret` (0600, "secret\n") and `app.conf`, a link to it, as a local user could plant. */
function plantedLink(): { dir: string; link: string; secret: string } {
  const dir = join(root, `case${++n}`);
  spawnSync('mkdir', [dir]);
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'secret\n', { mode: 0o600 });
  const link = join(dir, 'app.conf');
  symlinkSync(secret, link);
  return { dir, link, secret };
}

function writeArgv(dest: string, content: string, mode: string): string[] {
  return ['sh', '-c', WRITE_FILE_SCRIPT, 'vncplay-write', dest, mode, '', '', String(Buffer.byteLength(content)), 'feedc0de0123456789abcdef'];
}

describe('the atomic write never follows a link at dest', () => {
  it.each(['channel (sh, content on stdin)', 'line session (content as an argument)'])('%s: the link becomes a regular file, its target is untouched', (way) => {
    const { dir, link, secret } = plantedLink();
    const argv = writeArgv(link, 'new content\n', '0640');
    const res = way.startsWith('channel')
      ? spawnSync(argv[0]!, argv.slice(1), { input: 'new content\n', encoding: 'utf8' })
      : { status: runThroughDriver([{ argv, stdin: 'new content\n' }])[0]!.rc, stderr: '' };
    expect(res.status, res.stderr).toBe(0);
    expect(lstatSync(link).isFile()).toBe(true);
    expect(lstatSync(link).mode & 0o777).toBe(0o640);
    expect(readFileSync(link, 'utf8')).toBe('new content\n');
    expect(readFileSync(secret, 'utf8')).toBe('secret\n');
    expect(lstatSync(secret).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['app.conf', 'secret']);
  });

  it('without a mode, a replaced link gives the new file nothing of its target (a new file\'s mode)', () => {
    const { link } = plantedLink();
    const argv = writeArgv(link, 'x', '');
    const res = spawnSync(argv[0]!, argv.slice(1), { input: 'x', encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expect(lstatSync(link).mode & 0o777).toBe(0o666 & ~process.umask());
  });
});

describe('validate: its temp file is random and created exclusively', () => {
  const run = (step: ReturnType<typeof validateStep>): ReturnType<typeof spawnSync> => {
    if (step.kind !== 'exec') throw new Error('validate is an exec step');
    return spawnSync(step.argv[0]!, step.argv.slice(1), { input: step.stdin, encoding: 'utf8' });
  };

  it('a link planted at the temp name is refused: nothing is written through it, the link is left as it is', () => {
    const { dir, secret } = plantedLink();
    const token = '00112233445566778899aabb';
    const step = validateStep(join(dir, 'sshd_config'), Buffer.from('Port 22\n'), 'cat %s', token);
    const tmp = join(dir, `.sshd_config.${token}.vncplay-validate`);
    symlinkSync(secret, tmp);
    const res = run(step);
    expect(res.status).toBe(125);
    expect(String(res.stderr)).toContain('cannot write the temporary file');
    expect(readFileSync(secret, 'utf8')).toBe('secret\n');
    expect(lstatSync(tmp).isSymbolicLink()).toBe(true);
  });

  it('the validator reads a private (0600) temp file, removed afterwards; the name carries the token', () => {
    const dir = mkdtempSync(join(root, 'v-'));
    const step = validateStep(join(dir, 'f'), Buffer.from('data\n'), 'stat -c %a %s', '0123456789abcdef01234567');
    expect(step.kind === 'exec' && step.argv[4]).toBe(join(dir, '.f.0123456789abcdef01234567.vncplay-validate'));
    const res = run(step);
    expect(res.status, String(res.stderr)).toBe(0);
    expect(String(res.stderr)).toBe('600\n');
    expect(readdirSync(dir)).toEqual([]);
    expect(() => validateStep('/etc/f', Buffer.from(''), 'cat %s', '4242.1764100000')).toThrow(/random/);
  });
});

describe('backup: its guessable name (PID and time) cannot redirect it', () => {
  it('a link planted at the backup name is replaced by the backup; the file it pointed to is untouched', () => {
    const { dir, secret } = plantedLink();
    const dest = join(dir, 'vnc.conf');
    writeFileSync(dest, 'old config\n', { mode: 0o640 });
    const backup = `${dest}.4242.2026-12-07@06:00:00~`;
    symlinkSync(secret, backup);
    const step = backupStep(dest, backup);
    if (step.kind !== 'exec') throw new Error('backup is an exec step');
    const res = spawnSync(step.argv[0]!, step.argv.slice(1), { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expect(readFileSync(secret, 'utf8')).toBe('secret\n');
    expect(lstatSync(backup).isFile()).toBe(true);
    expect(readFileSync(backup, 'utf8')).toBe('old config\n');
    expect(lstatSync(backup).mode & 0o777).toBe(0o640);
  });
});

describe('a line session ended by a signal in the middle of a write', () => {
  // `dd` (which fsyncs the temp file) is replaced on PATH by one that signals the session's shell first: the
  // signal then arrives at a known point, while the temp file exists.
  it.each(['TERM', 'HUP', 'INT'])('SIG%s: the session removes the temp file before it exits', async (signal) => {
    const dir = mkdtempSync(join(root, 'kill-'));
    const bin = join(dir, 'bin');
    spawnSync('mkdir', [bin]);
    const pidFile = join(bin, 'session.pid');
    writeFileSync(join(bin, 'dd'), `#!/bin/sh\nkill -${signal} "$(cat '${pidFile}')"\nexec /bin/dd "$@"\n`);
    chmodSync(join(bin, 'dd'), 0o755);
    const dest = join(dir, 'vnc.conf');
    const session = spawn('bash', ['-c', LINE_SESSION_DRIVER], { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` } });
    writeFileSync(pidFile, String(session.pid));
    const ended = new Promise<number | null>((resolve) => session.once('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
    session.stdout.resume();
    session.stderr.resume();
    session.stdin.write(sessionOpening('vptestnonce'));
    session.stdin.write(frame(sessionCommand(writeArgv(dest, 'content\n', '0644'), Buffer.from('content\n'))));
    const code = await ended;
    expect(code).toBe(128 + { HUP: 1, INT: 2, TERM: 15 }[signal]!);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['bin']);
  });
});

describe('file state=absent and a link', () => {
  const conn = new LocalConnection({ hostName: 'localhost' });
  const absent = (path: string): ReturnType<typeof invokeModule> =>
    invokeModule(fileModule, { path, state: 'absent' }, {
      hostName: 'localhost', conn, check: false, diff: false, become: false, signal: new AbortController().signal, vars: {},
      render: (t: string) => t, findFile: async (rel) => rel, log: () => {},
    });

  // rm -rf LINK/ (and Ansible's rmtree, which then fails with ENOTDIR) empties the folder the link points to.
  it('path LINK/ is refused before anything is removed; path LINK removes the link only', async () => {
    const dir = mkdtempSync(join(root, 'absent-'));
    spawnSync('mkdir', [join(dir, 'data')]);
    writeFileSync(join(dir, 'data', 'keep'), 'keep\n');
    symlinkSync(join(dir, 'data'), join(dir, 'link'));
    await expect(absent(`${join(dir, 'link')}/`)).rejects.toMatchObject({ code: 'E_FILE_ABSENT_LINK' });
    expect(readdirSync(join(dir, 'data'))).toEqual(['keep']);
    expect((await absent(join(dir, 'link'))).changed).toBe(true);
    expect(readdirSync(dir)).toEqual(['data']);
    expect(readdirSync(join(dir, 'data'))).toEqual(['keep']);
    // A real folder given with a trailing slash is removed as before.
    expect((await absent(`${join(dir, 'data')}/`)).changed).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});

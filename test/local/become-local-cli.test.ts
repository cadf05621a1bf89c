import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../support/tools.js';
import { parseRecap, repoRoot } from '../support/cli-helpers.js';

/**
 * `-K` reaches the local connection (issue 13, low item): a throwaway user on the controller whose sudo asks for a
 * password runs vncplay with become on a local host and with `delegate_to: localhost`. The user and its sudoers
 * file are removed afterwards.
 */

const user = `vpk${process.pid % 100000}`;
const password = `pw-${process.pid}-Kx`;
const sudoers = `/etc/sudoers.d/vncplay-test-${user}`;
const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-become-local-'));

function run(program: Parameters<typeof requireProgram>[0], args: string[], input?: string): ReturnType<typeof spawnSync> {
  const r = spawnSync(requireProgram(program), args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: ${String(r.stderr)}`);
  return r;
}

beforeAll(() => {
  run('useradd', ['--no-create-home', '--shell', '/bin/sh', user]);
  run('chpasswd', [], `${user}:${password}\n`);
  // A password is required: no NOPASSWD, so `sudo -n` fails and only -K gets through.
  writeFileSync(sudoers, `${user} ALL=(root) ALL\n`, { mode: 0o440 });
  chmodSync(dir, 0o755);
  // Every run writes its audit record: a folder the throwaway user may write to.
  mkdirSync(path.join(dir, 'audit'));
  chmodSync(path.join(dir, 'audit'), 0o1777);
  writeFileSync(path.join(dir, 'inv.ini'), 'ctl ansible_connection=local\n');
  writeFileSync(
    path.join(dir, 'play.yml'),
    `- hosts: ctl
  gather_facts: false
  tasks:
    - name: show local
      command: id -un
      become: true
    - name: show delegated
      command: id -un
      become: true
      delegate_to: localhost
`,
  );
});

afterAll(() => {
  rmSync(sudoers, { force: true });
  spawnSync(requireProgram('userdel'), [user]);
  rmSync(dir, { recursive: true, force: true });
});

describe('-K on the local connection', () => {
  it('become on a local host and under delegate_to: localhost uses the -K password', () => {
    const r = spawnSync(
      requireProgram('runuser'),
      ['-u', user, '--', requireProgram('node'), path.join(repoRoot, 'bin/vncplay.js'), 'play.yml', '-i', 'inv.ini', '-K', '--json'],
      { cwd: dir, input: `${password}\n`, encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: dir, VNCPLAY_AUDIT_DIR: path.join(dir, 'audit'), NO_COLOR: '1' }, timeout: 100_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const results = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; task?: { name: string }; result?: { stdout?: string } })
      .filter((e) => e.type === 'task_result');
    expect(results.map((e) => [e.task?.name, e.result?.stdout])).toEqual([
      ['show local', 'root'],
      ['show delegated', 'root'],
    ]);
    expect(parseRecap(r.stdout, [])).toBeDefined();
    expect(r.stdout + r.stderr).not.toContain(password);
  }, 120_000);
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection/ssh.js';
import type { RunEvent } from '../../src/runner/events.js';
import { fleetAddress, fleetAvailable, fleetConnectionSpec, fleetHosts, fleetKey, fleetKnownHosts, hostExec } from '../fleet/fleet.js';
import { vncplay } from '../support/cli-helpers.js';

/**
 * Issue 13's execution items through the real CLI and the real line session on fleet host h1: `command` runs a
 * program, never a builtin or a session function (M6); a background process's output never reaches another
 * task (M7); bare connection names never redirect SSH (M8).
 */

const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-exec-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An inventory for h1 with its ansible_* connection variables and the extra host variables given. */
function inventory(extra: Record<string, unknown>): string {
  const h1 = fleetHosts()[0]!;
  const file = path.join(dir, 'inventory.yml');
  const vars = {
    ansible_host: h1.address,
    ansible_user: 'vncplay',
    ansible_ssh_private_key_file: fleetKey(),
    ansible_ssh_known_hosts_file: fleetKnownHosts(),
    ...extra,
  };
  writeFileSync(file, JSON.stringify({ vnc: { hosts: { h1: vars } } }));
  return file;
}

/** The registered results the run's debug tasks printed (`msg`), in order. */
function messages(events: RunEvent[]): unknown[] {
  return events.flatMap((e) => (e.type === 'task_result' && e.result?.['msg'] !== undefined && e.task.name.startsWith('show') ? [e.result['msg']] : []));
}

function playbook(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!fleetAvailable())('execution safety on a fleet host', () => {
  it('M8: bare host/port/user/connection variables (inventory and -e) are ordinary variables, as in Ansible', async () => {
    const inv = inventory({ port: 5901, user: 'nobody', remote_user: 'nobody' });
    const play = playbook(
      'bare-vars.yml',
      `- hosts: vnc
  gather_facts: false
  tasks:
    - command: hostname
      register: where
    - debug:
        msg: "{{ where.stdout }} {{ port }} {{ host }} {{ user }}"
`,
    );
    const r = await vncplay([play, '-i', inv, '-e', 'port=5902', '-e', `host=${fleetAddress(250)}`, '-e', 'connection=local', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const msg = r.events.flatMap((e) => (e.type === 'task_result' && e.task.module === 'debug' ? [e.result?.['msg']] : []));
    expect(msg).toEqual([`h1 5902 ${fleetAddress(250)} nobody`]);
  }, 60_000);

  // One play, run as the login user and under become (a `sudo -n` line session): the runner's line session runs
  // every command here.
  it.each([false, true])('M6, M7 on the line session (become: %s): no builtin runs, each task has its own output', async (become) => {
    const canary = `/tmp/vncplay-exec-canary-${process.pid}-${String(become)}`;
    const play = playbook(
      `line-${String(become)}.yml`,
      `- hosts: vnc
  gather_facts: false
  become: ${String(become)}
  tasks:
    - command: eval "touch ${canary}"
      register: builtin
      ignore_errors: true
    - command: X=1 touch ${canary}
      register: assignment
      ignore_errors: true
    - command: vp_steps "touch ${canary}"
      register: session_function
      ignore_errors: true
    - shell: "(sleep 0.5; echo LATE; echo LATE-ERR >&2) & echo own"
      register: background
    - command: sh -c 'sleep 1; echo next'
      register: next
    - command: echo third
      register: third
    - name: show
      debug:
        msg: "{{ [builtin.rc, builtin.msg, assignment.msg, session_function.msg, background.stdout, next.stdout, next.stderr, third.stdout] }}"
`,
    );
    try {
      const r = await vncplay([play, '-i', inventory({}), '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.recap['h1']).toMatchObject({ failed: 0, ignored: 3 });
      expect(messages(r.events)).toEqual([
        [
          2,
          "[Errno 2] No such file or directory: b'eval'",
          "[Errno 2] No such file or directory: b'X=1'",
          "[Errno 2] No such file or directory: b'vp_steps'",
          'own',
          'next',
          '',
          'third',
        ],
      ]);
      expect((await hostExec(1, ['test', '-e', canary])).code).not.toBe(0);
    } finally {
      await hostExec(1, ['rm', '-f', canary]);
    }
  }, 60_000);

  it('M6 and the NAME=value item on a channel per command: the login shell execs argv[0] as a program', async () => {
    const conn = await connect(fleetConnectionSpec(fleetHosts()[0]!));
    const canary = `/tmp/vncplay-exec-canary-${process.pid}-channel`;
    try {
      expect(await conn.exec(['eval', `touch ${canary}`])).toEqual({ rc: 127, stdout: '', stderr: 'bash: line 1: exec: eval: not found\n' });
      expect(await conn.exec(['X=1', 'touch', canary])).toEqual({ rc: 127, stdout: '', stderr: 'bash: line 1: exec: X=1: not found\n' });
      expect((await conn.exec(['eval', `touch ${canary}`], { become: true })).rc).not.toBe(0);
      expect(await conn.exec(['printf', '%s', 'a program'])).toEqual({ rc: 0, stdout: 'a program', stderr: '' });
      expect((await hostExec(1, ['test', '-e', canary])).code).not.toBe(0);
    } finally {
      await conn.close();
      await hostExec(1, ['rm', '-f', canary]);
    }
  }, 60_000);
});

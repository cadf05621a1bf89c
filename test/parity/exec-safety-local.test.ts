import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * `command` runs a program and nothing else (issue 13 M6 and its low items), side by side with ansible-playbook on
 * the controller (ansible_connection=local): a shell builtin or a NAME=value word as argv[0] is "not found" with
 * Ansible's result, and a command's own output can never pass for a creates/removes skip.
 */

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const PLAY = `- hosts: localhost
  gather_facts: false
  tasks:
    - command: eval "touch {{ root }}/eval-ran"
      register: builtin
      ignore_errors: true
    - command: X=1 touch {{ root }}/assignment-ran
      register: assignment
      ignore_errors: true
    - command: env X=1 {{ root }}/vp-no-such-program
      register: missing_via_env
      ignore_errors: true
    - command: echo __vncplay_skip__creates
      args:
        creates: "{{ root }}/absent"
      register: marker
    - command: echo never
      args:
        removes: "{{ root }}/absent"
      register: skipped
    - copy:
        dest: "{{ root }}/results.json"
        content: >-
          {{ {'builtin': [builtin.failed, builtin.changed, builtin.rc, builtin.msg, builtin.stdout, builtin.stderr],
              'assignment': [assignment.failed, assignment.rc, assignment.msg],
              'env_rc': missing_via_env.rc,
              'marker': [marker.changed, marker.stdout, marker.rc],
              'skipped': [skipped.changed, skipped.msg]} | to_json }}
`;

describe('command execs a program, as in Ansible', () => {
  it('a builtin or NAME=value is "[Errno 2] No such file or directory", and the skip mark cannot be forged', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-exec-local-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'inv.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    await writeFile(path.join(dir, 'play.yml'), PLAY);
    const results: Record<string, unknown> = {};
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const root = path.join(dir, tool);
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'play.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.recap['localhost'], tool).toMatchObject({ failed: 0, ignored: 3 });
      expect(existsSync(path.join(root, 'eval-ran')) || existsSync(path.join(root, 'assignment-ran')), tool).toBe(false);
      results[tool] = JSON.parse(await readFile(path.join(root, 'results.json'), 'utf8'));
    }
    expect(results['vncplay']).toEqual({
      builtin: [true, false, 2, "[Errno 2] No such file or directory: b'eval'", '', ''],
      assignment: [true, 2, "[Errno 2] No such file or directory: b'X=1'"],
      env_rc: 127,
      marker: [true, '__vncplay_skip__creates', 0],
      skipped: [false, `Did not run command since '${path.join(dir, 'vncplay', 'absent')}' does not exist`],
    });
    const sameBut = (r: unknown): unknown => JSON.parse(JSON.stringify(r).replaceAll(path.join(dir, 'ansible'), path.join(dir, 'vncplay')));
    expect(results['vncplay']).toEqual(sameBut(results['ansible']));
  }, 120_000);
});

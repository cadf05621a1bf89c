import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/**
 * Issue 13, M5: include_tasks is dynamic. A task file that includes itself under a `when:` (valid Ansible) is checked
 * once, not expanded without end before the run; a recursion without an end stops at a depth limit on the host.
 * Local processes only: the CLI on ansible_connection=local, with a heap cap so an endless expansion fails fast.
 */

const smallHeap = { NODE_OPTIONS: '--max-old-space-size=256' };

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-include-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  writeFileSync(path.join(dir, 'inv'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  return dir;
}

const guardedRecursion = {
  'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: rec.yml\n',
  'rec.yml': '- name: step\n  debug: msg=x\n- include_tasks: rec.yml\n  when: false\n',
};

describe('a task file that includes itself', () => {
  it('under `when: false` passes --syntax-check and runs, in a 256 MB heap', async () => {
    const dir = tree(guardedRecursion);
    const syntax = await vncplay(['--syntax-check', 'pb.yml'], { cwd: dir, env: smallHeap, timeoutMs: 30_000 });
    expect(syntax.stderr).toBe('');
    expect(syntax.code).toBe(0);
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--json'], { cwd: dir, env: smallHeap, timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.filter((e) => e.type === 'task_result' && e.task.name === 'step')).toHaveLength(1);
    expect(run.recap['localhost']).toMatchObject({ ok: 2, skipped: 1, failed: 0 });
  });

  it('an undefined variable inside it is reported once, at its position, before the run (exit 4)', async () => {
    const dir = tree({ ...guardedRecursion, 'rec.yml': '- name: step\n  debug: msg="{{ nowhere }}"\n- include_tasks: rec.yml\n  when: false\n' });
    const run = await vncplay(['-i', 'inv', 'pb.yml'], { cwd: dir, env: smallHeap, timeoutMs: 30_000 });
    expect(run.code).toBe(4);
    expect([...run.stderr.matchAll(/error\[(\w+)\]/g)].map((m) => m[1])).toEqual(['E_TEMPLATE_UNDEFINED']);
    expect(run.stderr).toMatch(/^rec\.yml:2:\d+: error\[E_TEMPLATE_UNDEFINED\]: .*nowhere/m);
  });

  it('without an end fails the host at 64 levels with a positioned error (exit 2)', async () => {
    const dir = tree({
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: rec.yml\n',
      'rec.yml': '- name: step\n  debug: msg=x\n- include_tasks: rec.yml\n',
    });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--json'], { cwd: dir, env: smallHeap, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(2);
    const results = run.events.filter((e) => e.type === 'task_result');
    expect(results.filter((e) => e.task.name === 'step')).toHaveLength(64);
    const failed = results.filter((e) => e.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.task).toMatchObject({ name: 'include_tasks', path: 'rec.yml:3:3' });
    expect(failed[0]!.msg).toMatch(/^rec\.yml:3:3: error\[E_INCLUDE_DEPTH\]: include_tasks nested more than 64 levels deep/);
    expect(failed[0]!.msg).toMatch(/hint: .*when/);
    expect(run.recap['localhost']).toMatchObject({ ok: 128, failed: 1 });
  });
});

describe('an include_tasks whose file cannot be loaded on a host', () => {
  it('(missing file, undefined variable in its path) fails that host at the include, positioned; the others go on', async () => {
    const dir = tree({
      'pb.yml': [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - include_tasks: "{{ inc }}"',
        '    - name: after',
        '      debug: msg=x',
        '',
      ].join('\n'),
      'good.yml': '- name: inside\n  debug: msg=y\n',
      'two-hosts': '[local]\nl1 ansible_connection=local inc=good.yml\nl2 ansible_connection=local inc=nothere.yml\nl3 ansible_connection=local\n',
    });
    const run = await vncplay(['-i', 'two-hosts', 'pb.yml', '--json'], { cwd: dir, timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(2);
    const failed = run.events.filter((e) => e.type === 'task_result' && e.status === 'failed');
    const byHost = Object.fromEntries(failed.map((e) => (e.type === 'task_result' ? [e.host, `${e.task.name}: ${e.msg}`] : [])));
    expect(Object.keys(byHost).sort()).toEqual(['l2', 'l3']);
    expect(byHost['l2']).toMatch(/^include_tasks: pb\.yml:4:7: error\[E_MISSING_FILE\]: task file `nothere\.yml` not found/);
    expect(byHost['l3']).toMatch(/^include_tasks: pb\.yml:4:7: error\[E_TEMPLATE_UNDEFINED\]: undefined variable 'inc'/);
    expect(run.recap['l1']).toMatchObject({ ok: 3, failed: 0 });
    expect(run.recap['l2']).toMatchObject({ ok: 0, failed: 1 });
  });
});

/** The task names a run shows (TASK [name] headers of ansible-playbook's text, task_result events of ours), in order. */
function taskNames(stdout: string): string[] {
  return [...stdout.matchAll(/^TASK \[(.*)\] \*+$/gm)].map((m) => m[1]!);
}

describe('include_tasks is a task of its own, as ansible-playbook runs it', () => {
  it('its tags select it and are not inherited by its tasks; it is ok (skipped under a false when) in the recap', async () => {
    const dir = tree({
      ...guardedRecursion,
      'tg.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: inner.yml\n      tags: [inc]\n',
      'inner.yml': '- name: untagged inner\n  debug: msg=u\n- name: tagged other\n  debug: msg=o\n  tags: [other]\n',
    });
    const cases: [string, string[]][] = [
      ['tg.yml', []],
      ['tg.yml', ['--tags', 'inc']],
      ['tg.yml', ['--tags', 'other']],
      ['tg.yml', ['--skip-tags', 'inc']],
      ['tg.yml', ['--skip-tags', 'other']],
      ['pb.yml', []],
    ];
    for (const [file, extra] of cases) {
      const args = ['-i', 'inv', file, ...extra];
      const [ours, theirs] = [await vncplay([...args, '--no-color'], { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(taskNames(ours.stdout), args.join(' ')).toEqual(taskNames(theirs.stdout));
      expect(ours.recap, args.join(' ')).toEqual(theirs.recap);
    }
  });
});

describe('--list-tasks with include_tasks, as ansible-playbook lists it', () => {
  it('lists the include (by its name, else `include_tasks`), not the tasks of its file; import_tasks is expanded', async () => {
    const dir = tree({
      ...guardedRecursion,
      'lt.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - name: first',
        '      debug: msg=a',
        '      tags: [t1]',
        '    - include_tasks: rec.yml',
        '      tags: [inc]',
        '    - name: named include',
        '      include_tasks:',
        '        file: rec.yml',
        '    - import_tasks: static.yml',
        '',
      ].join('\n'),
      'static.yml': '- name: static one\n  debug: msg=s\n',
    });
    for (const extra of [[], ['--tags', 'inc']]) {
      const args = ['-i', 'inv', '--list-tasks', 'lt.yml', ...extra];
      const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(theirs.stdout);
    }
  });
});

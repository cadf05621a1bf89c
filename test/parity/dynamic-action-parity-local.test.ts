import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * Issue 16: a templated module name (`action: "{{ packager }} name=bash selection=install"`, `local_action:` with
 * `module: "{{ reader }}"`) is chosen for each host when the task runs, as Ansible templates `action` then. Both
 * tools run the same playbook on the controller (ansible_connection=local; nothing on it changes: bash is already
 * selected for install, stat only reads): the same recap, the same registered results, the same failure for a
 * name that is no module, the same refusal of an argument the chosen module lacks, and the same --list-tasks.
 */

const playbook = `
- hosts: localhost
  gather_facts: false
  vars:
    packager: dpkg_selections
    reader: stat
    missing: vncplay_no_such_module
  tasks:
    - name: the package module from a variable
      action: "{{ packager }} name=bash selection={{ wanted }}"
      vars:
        wanted: install
      register: selected
    - name: local_action, the mapping form
      local_action:
        module: "{{ reader }}"
        path: /etc/hostname
      register: read
    - name: a loop (the module is chosen once, before it, as Ansible's strategy does)
      action: "{{ reader }} path={{ item }}"
      loop: [/etc]
      register: looped
    - action: "{{ missing }} x=1"
      ignore_errors: true
      register: unknown
    - name: an argument the chosen module lacks
      action: "{{ reader }} path=/etc no_such_option=1"
      ignore_errors: true
      register: refused
    - name: what the later tasks see
      debug:
        msg: "{{ [selected.changed, read.stat.isreg, looped.results[0].stat.isdir, unknown.failed, refused.failed] }}"
`;

/** The line of the playbook that holds `text` (1-based). */
function lineOf(text: string): number {
  return playbook.slice(0, playbook.indexOf(text)).split('\n').length;
}

const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
let run: ParityRun;

afterAll(async () => {
  if (run) await rm(run.dir, { recursive: true, force: true });
});

describe('a module chosen by a template when the task runs, as ansible-playbook does', () => {
  it('runs the same modules with the same results', async () => {
    run = await runBoth(playbook, { inventory, host: 'localhost' });
    expect(run.theirsOutput).not.toMatch(/ERROR!/);
    expect(counts(run.oursRecap), run.oursOutput).toEqual(counts(run.theirsRecap));
    expect(counts(run.oursRecap)).toEqual({ ok: 6, changed: 0, failed: 0, skipped: 0, ignored: 2 });
    const fields = ['changed', 'failed', 'msg'];
    const named = ['the package module from a variable', 'local_action, the mapping form', 'what the later tasks see'];
    const only = (r: ParityRun['ours']): ParityRun['ours'] => Object.fromEntries(named.map((n) => [n, r[n] ?? {}]));
    expect(pick(only(run.ours), fields)).toEqual(pick(only(run.theirs), fields));
    expect(run.ours['what the later tasks see']?.['msg']).toEqual([false, true, true, true, true]);
    expect((run.ours['local_action, the mapping form']?.['stat'] as Record<string, unknown>)['path']).toBe('/etc/hostname');
  });

  it('a name that is no module fails with Ansible\'s words, at the template; a refused argument fails the task', () => {
    // Unnamed, the task is called by its action as written, by both tools.
    const message = 'The module vncplay_no_such_module was not found in configured module paths';
    expect(run.theirs['{{ missing }}']?.['msg']).toBe(message);
    expect(run.ours['{{ missing }}']?.['msg']).toMatch(new RegExp(`^pb\\.yml:${lineOf('{{ missing }} x=1')}:15: error\\[E_UNKNOWN_MODULE\\]: ${message}\\n`));
    expect(run.theirs['an argument the chosen module lacks']?.['msg']).toMatch(/Unsupported parameters for \(stat\) module: no_such_option/);
    expect(run.ours['an argument the chosen module lacks']?.['msg']).toMatch(new RegExp(`^pb\\.yml:${lineOf('no_such_option=1')}:15: error\\[E_UNKNOWN_PARAM\\]: stat: unknown parameter \`no_such_option\``));
  });

  it('--list-tasks names an unnamed one by its template; -v says the module is checked when the task runs', async () => {
    const args = ['-i', path.join(run.dir, 'inventory.ini'), '--list-tasks', 'pb.yml'];
    const [ours, theirs] = [await vncplay([...args, '-v'], { cwd: run.dir }), await ansiblePlaybook(args, { cwd: run.dir })];
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout.replace(/^No config file found.*\n/m, ''));
    expect(ours.stderr).toContain(`[NOTE]: pb.yml:${lineOf('{{ packager }}')}:15: the module \`{{ packager }}\` is chosen for each host when the task runs`);
  });
});

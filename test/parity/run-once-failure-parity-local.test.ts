import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { localInventory, writeProject } from '../support/module-parity.js';

/**
 * A failing `run_once` task fails every host of the play in Ansible's linear strategy
 * (StrategyBase._process_pending_results: `if original_task.run_once:` marks each host of the play failed; linear's
 * run() treats run_once as any_errors_fatal): the play ends for all, the playbook stops, and the recap counts the
 * failure for the host that ran the task only. A rescue catches it on every host, and is counted (`rescued`) for
 * that host only; ignore_errors lets every host go on; "NO MORE HOSTS LEFT" is printed when the play breaks. Three
 * hosts on the controller (ansible_connection=local).
 */

const playbook = `
- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: msg=before
    - name: a rescued run_once failure
      block:
        - name: fails once
          fail: msg=once
          run_once: true
      rescue:
        - name: rescued on every host
          debug: msg=rescued
    - name: an ignored run_once failure
      fail: msg=ignored
      run_once: true
      ignore_errors: true
    - name: still running everywhere
      debug: msg=on
    - name: run_once fails
      fail: msg=boom
      run_once: true
    - name: never
      debug: msg=never
- hosts: all
  gather_facts: false
  tasks:
    - name: the playbook has stopped
      debug: msg=two
`;

const dir = writeProject({ 'pb.yml': playbook, 'inv.ini': localInventory(['h1', 'h2', 'h3']) });

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a failing run_once task, as ansible-playbook handles it', () => {
  it('ends the play for every host and counts the failure and its rescue for the host that ran it: the same recaps and exit code', async () => {
    const args = ['-i', 'inv.ini', 'pb.yml'];
    const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir }), await vncplay(args, { cwd: dir })];
    expect(ours.recap, `--- ansible\n${theirs.stdout}\n--- vncplay\n${ours.stdout}${ours.stderr}`).toEqual(theirs.recap);
    expect(ours.code).toBe(theirs.code);
    expect(ours.code).toBe(2);
    expect(ours.recap['h1']).toMatchObject({ ok: 4, failed: 1, rescued: 1, ignored: 1 });
    expect(ours.recap['h2']).toMatchObject({ ok: 3, failed: 0, rescued: 0 });
    expect(ours.stdout).not.toMatch(/TASK \[(never|the playbook has stopped)\]/);
    // The linear strategy's word when it breaks the play, printed before the recap by both.
    for (const out of [theirs.stdout, ours.stdout]) expect(out).toMatch(/"msg": "boom"\}\n\nNO MORE HOSTS LEFT \*+\n\nPLAY RECAP/);
  });
});

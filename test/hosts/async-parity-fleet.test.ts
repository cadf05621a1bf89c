import { describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * async/poll and async_status side by side with ansible-playbook on fleet host h1 (no python needed by vncplay's
 * jobs): a waited job under become (its file under /root/.ansible_async), a fire-and-forget job of the login user
 * read with async_status until it finishes, then cleaned up; the fields playbooks read and the recap.
 */
const playbook = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: waited under become
      shell: id -un; echo oops >&2; exit 2
      become: true
      async: 20
      poll: 1
      register: waited
      ignore_errors: true
    - name: fired
      command: sleep 2
      async: 30
      poll: 0
      register: fired
    - name: status
      async_status:
        jid: "{{ fired.ansible_job_id }}"
      register: st
      until: st.finished
      retries: 20
      delay: 1
    - name: cleanup
      async_status:
        jid: "{{ fired.ansible_job_id }}"
        mode: cleanup
    - name: job files
      shell: ls "$HOME/.ansible_async" | wc -l; sudo -n ls /root/.ansible_async | wc -l; rmdir "$HOME/.ansible_async"; sudo -n rmdir /root/.ansible_async
      register: left
`;

describe.skipIf(!fleetAvailable())('async and async_status: parity with ansible-playbook on a fleet host', () => {
  it('the same finished, rc, stdout, started and recap; job files where Ansible keeps them, cleaned up', async () => {
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h1' });
    const fields = ['changed', 'failed', 'started', 'finished', 'rc', 'stdout', 'stderr', 'msg'];
    // `failed: 0` (a started job) is registered by both tools; Ansible's json callback leaves it out.
    const normal = (results: typeof run.ours): typeof run.ours =>
      Object.fromEntries(Object.entries(pick(results, fields)).map(([name, r]) => [name, { ...r, failed: r['failed'] ? true : undefined }]));
    const theirs = normal(run.theirs);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(5);
    expect(theirs['waited under become']).toMatchObject({ finished: 1, rc: 2, stdout: 'root', stderr: 'oops', failed: true });
    expect(theirs['fired']).toMatchObject({ started: 1, finished: 0, changed: true });
    expect(theirs['job files']!['stdout']).toBe('0\n0');
    expect(normal(run.ours), run.oursOutput.slice(-3000)).toEqual(theirs);
    for (const results of [run.ours, run.theirs]) expect(results['fired']!['ansible_job_id']).toMatch(/^j\d+\.\d+$/);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  });
});

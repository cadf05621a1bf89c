import { describe, expect, it } from 'vitest';
import { tempTree } from '../support/temp-tree.js';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';

/**
 * Issue 16 async/poll and issue 15 async_status, side by side with ansible-playbook on the controller (local
 * connection): the fields playbooks read of a waited job, a fire-and-forget job and its async_status, a time-out;
 * and the job files themselves, which each tool must read when the other wrote them (~/.ansible_async/JID).
 */

const playbooks: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'jobs.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: waited, failing
      shell: echo out; echo "err \\"q\\"" >&2; exit 3
      async: 10
      poll: 1
      register: waited
      ignore_errors: true
    - debug:
        msg: "waited {{ waited.finished }} {{ waited.rc }} {{ waited.stdout }} {{ waited.stderr }} {{ waited.failed }} {{ waited.ansible_job_id is match('j[0-9]+[.][0-9]+$') }}"
    - name: fired
      command: sleep 1
      async: 30
      poll: 0
      register: fired
    - debug:
        msg: "fired {{ fired.started }} {{ fired.finished }} {{ fired.changed }} {{ fired.results_file | basename == fired.ansible_job_id }}"
    - name: status
      async_status:
        jid: "{{ fired.ansible_job_id }}"
      register: st
      until: st.finished
      retries: 20
      delay: 1
    - debug:
        msg: "status {{ st.finished }} {{ st.rc }} {{ st.changed }} {{ st.cmd }} {{ st.ansible_job_id == fired.ansible_job_id }}"
    - name: cleanup
      async_status:
        jid: "{{ fired.ansible_job_id }}"
        mode: cleanup
      register: cl
    - debug:
        msg: "cleanup {{ cl.erased == fired.results_file }} {{ cl.started }} {{ cl.finished }}"
    - name: too slow
      command: sleep 15
      async: 2
      poll: 1
      register: slow
      ignore_errors: true
    - debug:
        msg: "slow {{ slow.failed }} {{ slow.msg }} {{ slow.async_result.finished }}"
    # The job goes on after the controller gave up, until the host kills it (as async_wrapper does, at 10 s for a
    # limit of 2): wait for that, then remove its file (nothing left behind).
    - async_status:
        jid: "{{ slow.async_result.ansible_job_id }}"
      register: slow_end
      until: slow_end.finished
      retries: 20
      delay: 1
      ignore_errors: true
    - debug:
        msg: "slow killed {{ slow_end.failed }} {{ slow_end.msg }}"
    - async_status:
        jid: "{{ slow.async_result.ansible_job_id }}"
        mode: cleanup
`,
  'fire.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - shell: printf 'a "q" \\\\ b\\tc é\\n\\nline2\\n\\n'; printf 'e\\n' >&2; exit 4
      async: 20
      poll: 0
      register: job
    - debug: msg="JID={{ job.ansible_job_id }}"
`,
  'read.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - async_status: jid={{ jid }}
      register: st
      until: st.finished
      retries: 20
      delay: 1
      ignore_errors: true
    - debug:
        msg: "{{ {'finished': st.finished, 'rc': st.rc, 'stdout': st.stdout, 'stdout_lines': st.stdout_lines, 'stderr': st.stderr, 'failed': st.failed, 'jid': st.ansible_job_id == jid} | to_json }}"
    - async_status: jid={{ jid }} mode=cleanup
`,
};

/** The `"msg": …` lines of the debug tasks, as both tools print them. */
function messages(run: CliRun): string[] {
  return run.stdout.split('\n').filter((l) => l.trimStart().startsWith('"msg"'));
}

const tools = { ansible: ansiblePlaybook, vncplay } as const;

describe('async, poll and async_status, as ansible-playbook runs them', () => {
  const dir = tempTree(playbooks, 'vncplay-async-');

  it('a waited job, a fire-and-forget job read with async_status, a time-out: the same fields and recap', async () => {
    const args = ['-i', 'inv', 'jobs.yml'];
    const [ours, theirs] = [await vncplay(args, { cwd: dir }), await ansiblePlaybook(args, { cwd: dir })];
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(messages(ours)).toEqual(messages(theirs));
    expect(messages(ours)[0]).toContain('waited 1 3 out err \\"q\\" True True');
    expect(messages(ours).at(-2)).toContain('slow True async task did not complete within the requested time - 2s 0');
    expect(messages(ours).at(-1)).toContain('slow killed True Timeout exceeded');
    expect(ours.recap).toEqual(theirs.recap);
  });

  // Each tool starts a job the other one reads: the job file is the contract (stdout with quotes, a backslash, a
  // tab, UTF-8 and trailing empty lines; a non-zero rc).
  it.each([
    ['vncplay', 'ansible'],
    ['ansible', 'vncplay'],
  ] as const)('a job started by %s is read by %s', async (starter, reader) => {
    const fired = await tools[starter](['-i', 'inv', 'fire.yml'], { cwd: dir });
    expect(fired.code, fired.stdout + fired.stderr).toBe(0);
    const jid = /JID=(j[0-9]+\.[0-9]+)/.exec(fired.stdout)?.[1];
    expect(jid, fired.stdout).toBeDefined();
    const read = await tools[reader](['-i', 'inv', 'read.yml', '-e', `jid=${jid!}`], { cwd: dir });
    expect(read.code, read.stdout + read.stderr).toBe(0);
    const [line] = messages(read);
    const fields = JSON.parse(JSON.parse(`{${line!}}`).msg as string) as Record<string, unknown>;
    expect(fields).toEqual({ finished: 1, rc: 4, stdout: 'a "q" \\ b\tc é\n\nline2', stdout_lines: ['a "q" \\ b\tc é', '', 'line2'], stderr: 'e', failed: true, jid: true });
  });
});

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { writeProject } from '../support/module-parity.js';

/**
 * Results as ansible-playbook's default callback prints them (CallbackBase._dump_results): json.dumps with
 * sort_keys=True (nested mappings too) and ensure_ascii=False, `", "`/`": "` separators on one line (-v results,
 * failures) or an indent of 4 (debug), without the `failed`/`skipped` keys TaskResult.clean_copy drops. The same
 * playbook on the controller, the printed lines compared whole, at the default verbosity and at -v.
 */

const playbook = `
- hosts: target
  gather_facts: false
  vars:
    unsorted:
      zeta: 1
      alpha: {zz: [3, {b: 1, a: 2}], aa: "é"}
      mid: null
      empty: {}
      none: []
  tasks:
    - name: a variable
      debug: var=unsorted
    - name: a message that is a mapping
      debug: msg="{{ unsorted }}"
    - name: a list message
      debug: msg="{{ [unsorted.alpha, 'x'] }}"
    - name: a result shown at -v
      ping: data=hello
    - name: a nested result shown at -v
      stat: path=/nonexistent/path
    - name: a failure
      fail: msg="it's broken"
      ignore_errors: true
    - name: skipped
      debug: msg=never
      when: false
`;

const dir = writeProject({ 'pb.yml': playbook, 'inv.ini': 'target ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' });

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The printed lines, without what only Ansible prints around them (the config file line at -v). */
function lines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => !/^No config file found|^Using .* as config file/.test(l)).map((l) => l.trimEnd());
}

describe("results printed as ansible-playbook's default callback prints them", () => {
  it.each([[[]], [['-v']]])('the same lines %j', async (extra: string[]) => {
    const args = ['-i', 'inv.ini', 'pb.yml', ...extra];
    const env = { ANSIBLE_STDOUT_CALLBACK: 'default' };
    const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir, env }), await vncplay(args, { cwd: dir })];
    expect(lines(ours.stdout)).toEqual(lines(theirs.stdout));
    expect(ours.stdout).toContain('"alpha": {\n            "aa": "é",');
  });
});

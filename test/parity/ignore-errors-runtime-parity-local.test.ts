import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, debugMessages, vncplay } from '../support/cli-helpers.js';
import { localInventory } from '../support/module-parity.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * ignore_errors on a task that fails outside its module's answer, side by side with ansible-playbook: an error while
 * rendering its arguments (division by zero, a type error, a bad regular expression) and a loop given no list. Ansible's
 * TaskExecutor makes each a failed result, which ignore_errors ignores and register keeps.
 */
const files: Record<string, string> = {
  inv: localInventory(['localhost']),
  'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="{{ 1 / 0 }}"
      ignore_errors: true
    - debug: msg="{{ [1, 2] | first | int + 'x' }}"
      ignore_errors: true
    - command: "echo {{ 'a' | regex_replace('(', 'b') }}"
      ignore_errors: true
      register: r_args
    - debug: msg="{{ item }}"
      loop: "{{ 'abc' }}"
      ignore_errors: true
      register: r_loop
    - debug:
        msg: "{{ r_args.failed }} {{ r_loop.failed }} {{ r_loop.msg }}"
    - name: not ignored
      debug: msg="{{ 1 / 0 }}"
    - name: never
      debug: msg=never
`,
  'undefined.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="{{ undefined_thing }}"
      ignore_errors: true
      register: r
    - block:
        - command: "echo {{ nope }}"
      ignore_errors: yes
    - command: "echo {{ item }}"
      loop: "{{ missing_list }}"
      ignore_errors: true
    - debug: msg="{{ r.failed }}"
`,
};

describe('ignore_errors on a task whose arguments or loop fail to render', () => {
  const dir = tempTree(files, 'vncplay-ignore-errors-');

  it('ignores the failure as Ansible does: the same recap, the same registered failure', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dir });
    expect(theirs.recap['localhost']).toMatchObject({ ok: 5, failed: 1, ignored: 4 });
    expect(ours.recap, ours.stdout + ours.stderr).toEqual(theirs.recap);
    expect(debugMessages(ours)).toEqual(debugMessages(theirs));
    expect(debugMessages(ours)).toEqual([
      `"msg": "True True Invalid data passed to 'loop', it requires a list, got this instead: abc. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."`,
    ]);
    expect(ours.code).toBe(2);
  });

  it('runs a task that ignores its errors past an undefined variable, where the load-time check would refuse it', async () => {
    const ours = await vncplay(['-i', 'inv', 'undefined.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'undefined.yml'], { cwd: dir });
    expect(theirs.recap['localhost']).toMatchObject({ ok: 4, failed: 0, ignored: 3 });
    expect(ours.recap, ours.stdout + ours.stderr).toEqual(theirs.recap);
    expect(debugMessages(ours)).toEqual(['"msg": true']);
  });
});

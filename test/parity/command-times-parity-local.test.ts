import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, debugMessages, vncplay } from '../support/cli-helpers.js';
import { localInventory } from '../support/module-parity.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * command/shell's start, end and delta, side by side with ansible-playbook: written as Python writes a datetime and
 * a timedelta (`2026-12-08 02:03:31.769628`, `0:00:00.007923`), which playbooks parse with to_datetime or compare;
 * and `cmd`: the words run for command, the command line as written for shell.
 */
const files: Record<string, string> = {
  inv: localInventory(['localhost']),
  'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: sleep 0.2
      register: r_cmd
    - shell: "exit 3"
      register: r_shell
      ignore_errors: true
    - debug:
        msg: >-
          {{ [r_cmd, r_shell] | map(attribute='start') | map('regex_search', '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}$') | map('length') | list }}
          {{ [r_cmd, r_shell] | map(attribute='end') | map('regex_search', '^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}$') | map('length') | list }}
          {{ [r_cmd, r_shell] | map(attribute='delta') | map('regex_search', '^0:00:0\\d\\.\\d{6}$') | map('length') | list }}
          {{ r_cmd.delta is version('0:00:00.200000', '>=') }} {{ r_cmd.start < r_cmd.end }} {{ r_cmd.start[:10] == (now() | string)[:10] }}
    - debug:
        msg: "{{ r_cmd.cmd }} {{ r_shell.cmd }}"
`,
};

describe('command and shell times and cmd as Ansible registers them', () => {
  const dir = tempTree(files, 'vncplay-command-times-');

  it('start and end as str(datetime), delta as str(timedelta), cmd as written for shell', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dir });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(debugMessages(theirs)).toEqual(['"msg": "[26, 26] [26, 26] [14, 14] True True True"', `"msg": "['sleep', '0.2'] exit 3"`]);
    expect(debugMessages(ours)).toEqual(debugMessages(theirs));
  });
});

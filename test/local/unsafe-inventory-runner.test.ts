import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { parseExtraVars } from '../../src/playbook/vars.js';
import type { RunEvent } from '../../src/runner/events.js';
import { runPlaybook } from '../../src/runner/run.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * `!unsafe` values from a YAML inventory, group_vars/host_vars and -e @file reach modules literally on a real
 * (local) connection: never rendered, also through another variable and through hostvars[...]. Connection
 * settings written !unsafe still work (the runner gets plain strings). Text that would render differently
 * (`{{ 7 * 6 }}` → 42) or not at all (`a{%b{{c`: a syntax error) shows whether anything was rendered.
 */

const PW = 'a{%b{{c';

const tree = (files: Record<string, string>): string => tempTree(files, 'vncplay-unsafe-run-');

describe('!unsafe from the inventory side, on a local connection', () => {
  it('reaches debug and copy literally, through a play var and hostvars, and connection vars still work', async () => {
    const dir = tree({
      'inv/hosts.yml': [
        'vnc:',
        '  vars:',
        '    ansible_connection: !unsafe local',
        // A connection setting written !unsafe: a plain string for the connection, so it is redacted as a secret.
        "    ansible_become_password: !unsafe 'sudo{{pw'",
        '  hosts:',
        '    l1:',
        "      host_calc: !unsafe '{{ 7 * 6 }}'",
        '    l2:',
        '',
      ].join('\n'),
      'inv/group_vars/vnc.yml': `vnc_password: !unsafe '${PW}'\n`,
      'inv/host_vars/l2.yml': "host_calc: !unsafe '{% if x %}'\n",
      'extra.yml': "e_calc: !unsafe '{{ 6 * 7 }}'\n",
      'play.yml': `
- hosts: vnc
  gather_facts: false
  vars:
    wrapped: "pw={{ vnc_password }}"
  tasks:
    - name: direct
      debug:
        msg: "{{ vnc_password }}"
    - name: through a play var
      debug:
        msg: "{{ wrapped }}"
    - name: through hostvars
      debug:
        msg: "{{ hostvars['l1'].host_calc }}|{{ hostvars['l2']['host_calc'] }}|{{ hostvars[inventory_hostname].vnc_password }}"
    - name: extra vars file
      debug:
        msg: "{{ e_calc }}"
    - name: copy
      copy:
        content: "{{ vnc_password }} {{ host_calc }}"
        dest: "{{ playbook_dir }}/out-{{ inventory_hostname }}.txt"
    - name: become password
      debug:
        msg: "{{ ansible_become_password }}"
`,
    });
    const inventory = await loadInventory(path.join(dir, 'inv/hosts.yml'), dir);
    const playbook = await loadPlaybook(path.join(dir, 'play.yml'));
    const extraVars = await parseExtraVars(['@extra.yml'], dir);
    const events: RunEvent[] = [];
    const result = await runPlaybook({ playbook, inventory, extraVars, onEvent: (e) => events.push(e) });
    const msgs = (task: string): Record<string, unknown> =>
      Object.fromEntries(
        events
          .filter((e): e is Extract<RunEvent, { type: 'task_result' }> => e.type === 'task_result' && e.task.name === task)
          .map((e) => [e.host, e.msg ?? e.status]),
      );
    expect(result.exitCode, JSON.stringify(events.filter((e) => e.type === 'task_result'))).toBe(0);
    expect(msgs('direct')).toEqual({ l1: PW, l2: PW });
    expect(msgs('through a play var')).toEqual({ l1: `pw=${PW}`, l2: `pw=${PW}` });
    const viaHostvars = `{{ 7 * 6 }}|{% if x %}|${PW}`;
    expect(msgs('through hostvars')).toEqual({ l1: viaHostvars, l2: viaHostvars });
    expect(msgs('extra vars file')).toEqual({ l1: '{{ 6 * 7 }}', l2: '{{ 6 * 7 }}' });
    expect(readFileSync(path.join(dir, 'out-l1.txt'), 'utf8')).toBe(`${PW} {{ 7 * 6 }}`);
    expect(readFileSync(path.join(dir, 'out-l2.txt'), 'utf8')).toBe(`${PW} {% if x %}`);
    // The connection saw ansible_become_password as the string it is: it became a run secret and is hidden.
    expect(msgs('become password')).toEqual({ l1: '********', l2: '********' });
    expect(existsSync(path.join(dir, '42'))).toBe(false);
  });
});

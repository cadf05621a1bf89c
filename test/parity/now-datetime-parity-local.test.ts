import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * now() and to_datetime give Python datetimes, side by side with ansible-playbook: attributes, strftime,
 * isoformat, timestamp, date(), weekday(), comparisons, subtraction giving a timedelta, and how a datetime is
 * printed, turned to JSON/YAML, kept by set_fact and nested in a list. What varies with the clock is compared
 * through relations (now() against now(fmt=…), formats, signs); fixed moments come from to_datetime.
 */
const files: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'play.yml': String.raw`
- hosts: all
  gather_facts: false
  vars:
    leap: "{{ '2020-02-29 13:45:30' | to_datetime }}"
    stamp_re: '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$'
  tasks:
    - name: now() as playbooks use it
      debug:
        msg: >-
          {{ now().strftime('%Y-%m-%d') == now(fmt='%Y-%m-%d') }}
          {{ now().year == (now(fmt='%Y') | int) }} {{ now().month == (now(fmt='%m') | int) }}
          {{ now(utc=true).isoformat() | regex_search('^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$') | length }}
          {{ now(true).isoformat()[:13] == now(utc=true, fmt='%Y-%m-%dT%H') }}
          {{ (now() - ('2020-01-01' | to_datetime('%Y-%m-%d'))).days > 2000 }}
          {{ ((now().timestamp() | int) - (now(fmt='%s') | int)) | abs < 5 }}
          {{ now() > ('2020-01-01' | to_datetime('%Y-%m-%d')) }} {{ now() is string }}
          {{ now().date() == now().date() }} {{ now().weekday() == ((now(fmt='%w') | int) + 6) % 7 }}
          {{ (now() | string) | regex_search(stamp_re) | length }} {{ now() | to_json | length }}
          {{ (now() - now()).days in [-1, 0] }} {{ (now() - now()).total_seconds() < 1 }}
    - name: printed as str()
      debug:
        msg: "{{ now() }}"
      register: printed
    - set_fact:
        started: "{{ now() }}"
    - name: what set_fact and register keep is the text
      debug:
        msg: >-
          {{ started is string }} {{ started | regex_search(stamp_re) | length }}
          {{ printed.msg | regex_search(stamp_re) | length }}
          {{ (started | to_datetime('%Y-%m-%d %H:%M:%S.%f')) <= now() }}
    - name: a fixed moment
      debug:
        msg: >-
          {{ leap }} | {{ leap is string }} |
          {% set d = '2020-02-29 13:45:30' | to_datetime %}{{ d.year }} {{ d.month }} {{ d.day }} {{ d.hour }}
          {{ d.minute }} {{ d.second }} {{ d.microsecond }} {{ d.isoformat() }} {{ d.isoformat(' ') }}
          {{ d.strftime('%a %A %b %B %j %I %p %y %H:%M:%S.%f %w %%') }} {{ d.weekday() }} {{ d.isoweekday() }}
          {{ d.date() }} {{ d.date().isoformat() }} {{ d.timestamp() | int }} {{ d | string }} {{ [d, d.date()] }}
          {{ d | to_json }} {{ {'at': d, 'on': d.date()} | to_json }} {{ [d] | to_nice_json }} {{ d | to_yaml }}
    - name: differences and comparisons
      debug:
        msg: >-
          {% set d = '2020-02-29 13:45:30' | to_datetime %}
          {% set e = 'Mar 01, 2021' | to_datetime('%b %d, %Y') %}
          {% set f = '2021-02-28 14:45:30.25' | to_datetime('%Y-%m-%d %H:%M:%S.%f') %}
          {{ e - d }} | {{ (e - d).days }} {{ (e - d).seconds }} {{ (e - d).microseconds }}
          {{ (e - d).total_seconds() | int }} | {{ d - e }} | {{ (d - e).days }} | {{ d - f }} | {{ f }} {{ f.microsecond }}
          {{ d - d }} | {{ [e - d] }} | {{ d < e }} {{ d == ('2020-02-29 13:45:30' | to_datetime) }} {{ d != e }}
          {{ [e, d, f] | max }} {{ [e, d, f] | min }} {{ [e, d, f] | sort | map('string') | list }}
          {{ (e - d) > (f - d) }} {{ (e - d) == (e - d) }} {{ e.date() - d.date() }} {{ (d - d) | bool }}
          {{ ('Mar 01, 2021' | to_datetime('%b %d, %Y') - '2021-01-01' | to_datetime('%Y-%m-%d')).days == 59 }}
          {{ '07/04/21 09:30 PM' | to_datetime('%m/%d/%y %I:%M %p') }} {{ '2021-032' | to_datetime('%Y-%j') }}
    - name: in YAML, block and flow
      debug:
        msg: >-
          {% set d = '2020-02-29 13:45:30' | to_datetime %}{{ [d, d.date()] | to_yaml }}|{{ {'at': d} | to_nice_yaml }}
          |{{ {'a': [d], 'b': {'c': d.date()}} | to_yaml }}|{{ {'a': d} | to_yaml }}|{{ [d, '2021-01-01' | to_datetime('%Y-%m-%d')] | to_nice_yaml }}
    - name: filters and tests on a datetime
      debug:
        msg: >-
          {% set d = '2020-02-29 13:45:30' | to_datetime %}{{ d | int }} {{ d | bool }} {{ d is string }} {{ d is mapping }}
          {{ d is sequence }} {{ d is iterable }} {{ d is number }} {{ d | default('x') }} {{ d | to_json | from_json }}
          {{ d | ternary(1, 2) }} {{ [d] | first | string | length }} {{ d in [d] }} {{ [d, d] | unique | length }}
          {{ d.date() < d.date() }} {{ d | string | to_datetime }} {{ leap | to_datetime }} {{ leap.year is defined }}
    - name: in conditions, string formatting and debug's var
      debug:
        msg: >-
          {% set d = '2020-02-29 13:45:30' | to_datetime %}{{ '%s' % d }} {{ '{}'.format(d) }} {{ [d, d] | join(',') }}
          {{ d ~ '' }} {{ d | type_debug }} {{ d is defined }} {{ (now() - now()) | type_debug }}
      when: now() > ('2020-02-29 13:45:30' | to_datetime)
    - debug:
        var: ('2020-02-29 13:45:30' | to_datetime)
    - debug:
        var: "[('2020-02-29 13:45:30' | to_datetime).date()]"
`,
};

/** debug's lines: `"msg": …` and, for `var:`, `"(expression)": …`. */
const messages = (run: CliRun): string[] => run.stdout.split('\n').filter((l) => /^\s*"(msg|\(|\[)/.test(l)).map((l) => l.trim());

describe('now() and to_datetime as Python datetimes, as ansible-playbook gives them', () => {
  const dir = tempTree(files, 'vncplay-now-datetime-');

  it('prints, compares and subtracts them as Ansible does', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dir });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    const theirMessages = messages(theirs);
    expect(theirMessages, theirs.stdout).toHaveLength(10);
    expect(theirMessages[0]).toBe('"msg": "True True True 26 True True True True False True True 26 28 True True"');
    expect(theirMessages[1]).toMatch(/^"msg": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"$/);
    expect(messages(ours).slice(2)).toEqual(theirMessages.slice(2));
    expect(messages(ours)[0]).toBe(theirMessages[0]);
    expect(messages(ours)[1]).toMatch(/^"msg": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"$/);
  });
});

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localInventory, playYaml } from '../support/runner-helpers.js';

describe('runner semantics on local hosts', () => {
  it('loops with register, per-item when, and aggregates results', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: echo
      command: echo {{ item }}
      loop: [a, b, c]
      when: item != 'b'
      register: out
      changed_when: false
    - name: show
      debug:
        msg: "{{ out.results | map(attribute='stdout', default='-') | list }}"
`);
    expect(r.exitCode).toBe(0);
    const loop = r.results('echo')[0]!;
    expect(loop.status).toBe('ok');
    const items = loop.result!['results'] as Record<string, unknown>[];
    expect(items.map((i) => i['skipped'] === true)).toEqual([false, true, false]);
    // A skipped item has no stdout, so map() takes the default for it.
    expect(r.results('show')[0]!.result!['msg']).toEqual(['a', '-', 'c']);
    expect(r.stats['l1']).toMatchObject({ ok: 2, changed: 0, failed: 0 });
  });

  it('block/rescue/always counts rescued, not failed, and runs always', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: boom
          command: /bin/false
        - name: never
          debug: msg=unreachable
      rescue:
        - name: recover
          debug: msg=rescued
      always:
        - name: finally
          debug: msg=always
`);
    expect(r.exitCode).toBe(0);
    expect(r.results('never')).toHaveLength(0);
    expect(r.results('recover')).toHaveLength(1);
    expect(r.results('finally')).toHaveLength(1);
    expect(r.stats['l1']).toMatchObject({ failed: 0, rescued: 1 });
  });

  it('runs a notified handler once at the end, only when the notifier changed, also by listen topic', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: change
      command: "true"
      notify: [h1, topic]
    - name: change again
      command: "true"
      notify: h1
    - name: no change
      command: "true"
      changed_when: false
      notify: h2
    - name: last task
      debug: msg=last
  handlers:
    - name: h1
      debug: msg=h1
    - name: h2
      debug: msg=h2
    - name: h3
      debug: msg=h3
      listen: topic
`);
    expect(r.exitCode).toBe(0);
    const names = r.events.filter((e) => e.type === 'task_result').map((e) => (e as { task: { name: string } }).task.name);
    expect(names).toEqual(['change', 'change again', 'no change', 'last task', 'h1', 'h3']);
  });

  it('retries until the condition holds, and fails with the attempt count when it never does', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: count
      shell: n=$(cat {{ playbook_dir }}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ playbook_dir }}/n; echo $n
      register: c
      until: c.stdout | int >= 3
      retries: 5
      delay: 0
    - name: never
      command: "false"
      register: x
      until: x.rc == 0
      retries: 2
      delay: 0
`);
    expect(r.results('count')[0]!.result!['attempts']).toBe(3);
    const never = r.results('never')[0]!;
    expect(never.status).toBe('failed');
    expect(never.result!['attempts']).toBe(3);
    expect(r.exitCode).toBe(2);
  });

  it('applies changed_when, failed_when and ignore_errors', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: grep
      command: grep -c nothing-here /etc/hostname
      register: g
      failed_when: g.rc > 1
      changed_when: false
    - name: fails but ignored
      command: "false"
      ignore_errors: true
    - name: still runs
      debug: msg=ok
`);
    expect(r.results('grep')[0]!.status).toBe('ok');
    expect(r.results('fails but ignored')[0]!.status).toBe('ignored');
    expect(r.results('still runs')).toHaveLength(1);
    // As ansible-playbook counts it: an ignored failure is ok + ignored, and command's changed=true still counts.
    expect(r.stats['l1']).toMatchObject({ ok: 3, changed: 1, failed: 0, ignored: 1 });
    expect(r.exitCode).toBe(0);
  });

  it('skips command in --check, keeps debug, and changes no file', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy:
        dest: "{{ playbook_dir }}/out.txt"
        content: hi
    - name: cmd
      command: touch {{ playbook_dir }}/touched
`,
      { check: true },
    );
    expect(r.results('write')[0]!.status).toBe('changed');
    expect(r.results('cmd')[0]!.status).toBe('skipped');
    await expect(stat(path.join(r.dir, 'out.txt'))).rejects.toThrow();
    await expect(stat(path.join(r.dir, 'touched'))).rejects.toThrow();
  });

  it('extra vars beat set_fact, set_fact beats play vars', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  vars:
    a: play
    b: play
  tasks:
    - set_fact:
        a: fact
        b: fact
    - name: show
      debug:
        msg: "{{ a }}-{{ b }}"
`,
      { extraVars: { b: 'extra' } },
    );
    expect(r.results('show')[0]!.result!['msg']).toBe('fact-extra');
  });

  it('never renders template text that came from a host', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    secret: s3cr3t
  tasks:
    - name: emit
      command: echo "{{ '{{' }} secret {{ '}}' }}"
      register: out
      changed_when: false
    - name: show
      debug:
        msg: "{{ out.stdout }}"
`);
    expect(r.results('show')[0]!.result!['msg']).toBe('{{ secret }}');
  });

  it('tags, skip-tags and start-at-task select tasks', async () => {
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - { name: one, debug: { msg: "1" }, tags: [a] }
    - { name: two, debug: { msg: "2" }, tags: [b] }
    - { name: three, debug: { msg: "3" }, tags: [always] }
    - { name: four, debug: { msg: "4" }, tags: [never, c] }
`;
    const names = (r: Awaited<ReturnType<typeof playYaml>>) =>
      r.events.filter((e) => e.type === 'task_result').map((e) => (e as { task: { name: string } }).task.name);
    expect(names(await playYaml(yaml))).toEqual(['one', 'two', 'three']);
    expect(names(await playYaml(yaml, { tags: ['b'] }))).toEqual(['two', 'three']);
    expect(names(await playYaml(yaml, { tags: ['c'] }))).toEqual(['three', 'four']);
    expect(names(await playYaml(yaml, { skipTags: ['a', 'always'] }))).toEqual(['two']);
    expect(names(await playYaml(yaml, { startAtTask: 'two' }))).toEqual(['two', 'three']);
  });

  it('serial batches with max_fail_percentage stop the play after a failing batch', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  serial: 2
  max_fail_percentage: 0
  tasks:
    - name: maybe fail
      fail: msg=bad
      when: inventory_hostname == 'l2'
    - name: after
      debug: msg=after
`,
      { inventory: localInventory(['l1', 'l2', 'l3', 'l4']) },
    );
    const batches = r.events.filter((e) => e.type === 'play_start').map((e) => (e as { hosts: string[] }).hosts);
    expect(batches).toEqual([['l1', 'l2']]);
    expect(r.results('after')).toHaveLength(0);
    expect(r.exitCode).toBe(2);
  });

  it('one failing host leaves the play; the others go on (linear)', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: maybe fail
      fail: msg=bad
      when: inventory_hostname == 'l2'
    - name: after
      debug: msg=after
- hosts: all
  gather_facts: false
  tasks:
    - name: second play
      debug: msg=x
`,
      { inventory: localInventory(['l1', 'l2', 'l3']) },
    );
    expect(r.results('after').map((e) => e.host).sort()).toEqual(['l1', 'l3']);
    expect(r.results('second play').map((e) => e.host).sort()).toEqual(['l1', 'l3']);
    expect(r.failedHosts).toEqual(['l2']);
    expect(r.exitCode).toBe(2);
  });

  it('run_once runs on the first host and shares its registered result', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: once
      command: echo {{ inventory_hostname }}
      register: first
      run_once: true
    - name: show
      debug:
        msg: "{{ first.stdout }}"
`,
      { inventory: localInventory(['l1', 'l2', 'l3']) },
    );
    expect(r.results('once').map((e) => e.host)).toEqual(['l1']);
    expect(r.results('show').map((e) => e.result!['msg'])).toEqual(['l1', 'l1', 'l1']);
  });

  it('free strategy lets a fast host finish before a slow one', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - name: nap
      command: sleep {{ 1 if inventory_hostname == 'l1' else 0 }}
    - name: done
      debug: msg=done
`,
      { inventory: localInventory(['l1', 'l2']) },
    );
    const order = r.events.filter((e) => e.type === 'task_result').map((e) => `${(e as { task: { name: string } }).task.name}@${(e as { host: string }).host}`);
    expect(order.indexOf('done@l2')).toBeLessThan(order.indexOf('nap@l1'));
  });

  it('an undefined variable fails the task with its name and position', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: bad
      debug:
        msg: "{{ vnc_prot }}"
`,
      // The run-time error itself: runPlaybook's pre-flight check would refuse the playbook before it runs.
      { preflight: false },
    );
    const bad = r.results('bad')[0]!;
    expect(bad.status).toBe('failed');
    expect(bad.msg).toMatch(/vnc_prot/);
    expect(bad.msg).toMatch(/play\.yml:\d+:\d+/);
  });

  it('include_tasks loads its file at run time with the loop variable', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: inc
      include_tasks: inner.yml
`,
      { files: { 'inner.yml': '- name: inner\n  copy:\n    dest: "{{ playbook_dir }}/inner.txt"\n    content: x\n' } },
    );
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(r.dir, 'inner.txt'), 'utf8')).toBe('x');
  });
});

describe('rescue sees the failure', () => {
  it('sets ansible_failed_task and ansible_failed_result, unrendered', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: boom
          shell: echo '{{ "{{" }} 7*7 {{ "}}" }}'; exit 3
      rescue:
        - name: report
          debug:
            msg: "{{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }} out={{ ansible_failed_result.stdout }}"
`);
    expect(r.results('report')[0]!.result!['msg']).toBe('boom rc=3 out={{ 7*7 }}');
  });
});

describe('host data stays data', () => {
  it('a loop over command output never renders the items', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: emit
      shell: printf '%s\\n' '{{ "{{" }} 7*7 {{ "}}" }}' plain
      register: out
      changed_when: false
    - name: each
      debug:
        msg: "item {{ item }}"
      loop: "{{ out.stdout_lines }}"
`);
    const items = r.results('each')[0]!.result!['results'] as Record<string, unknown>[];
    expect(items.map((i) => i['msg'])).toEqual(['item {{ 7*7 }}', 'item plain']);
  });

  it('changed_when sees the result keys without a stray variable', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: probe
      command: echo hi
      changed_when: value is defined or rc != 0
`);
    expect(r.results('probe')[0]!.status).toBe('ok');
  });
});

describe('rolling batches', () => {
  it('a failure in the last task of a batch still stops the next batches (max_fail_percentage 0)', async () => {
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  serial: 1
  max_fail_percentage: 0
  tasks:
    - name: first
      debug: msg=one
    - name: last
      fail: msg=bad
      when: inventory_hostname == 'l1'
`,
      { inventory: localInventory(['l1', 'l2', 'l3']) },
    );
    expect(r.results('first').map((e) => e.host)).toEqual(['l1']);
    expect(r.exitCode).toBe(2);
  });

  it('without max_fail_percentage the other batches go on unless a whole batch failed (as ansible-playbook)', async () => {
    const yaml = (serial: number) => `
- hosts: all
  gather_facts: false
  serial: ${serial}
  tasks:
    - name: last
      fail: msg=bad
      when: inventory_hostname == 'l1'
    - name: after
      debug: msg=ok
`;
    const inventory = localInventory(['l1', 'l2', 'l3']);
    const pairs = await playYaml(yaml(2), { inventory });
    expect(pairs.results('after').map((e) => e.host)).toEqual(['l2', 'l3']);
    const singles = await playYaml(yaml(1), { inventory });
    expect(singles.results('after')).toHaveLength(0);
  });
});

describe('ignore_errors and no_log with loops and register', () => {
  it('a loop item that fails under ignore_errors makes the task ignored, not ok', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: items
      command: test {{ item }} = a
      loop: [a, b]
      ignore_errors: true
`);
    expect(r.results('items')[0]!.status).toBe('ignored');
    expect(r.stats['l1']).toMatchObject({ ignored: 1, failed: 0 });
  });

  it('no_log hides the result from output but registers the real one', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: hidden
      command: echo token-42
      register: out
      no_log: true
      changed_when: false
    - name: uses it
      debug:
        msg: "{{ out.stdout }}"
`);
    expect(JSON.stringify(r.results('hidden'))).not.toContain('token-42');
    expect(r.results('uses it')[0]!.result!['msg']).toBe('token-42');
  });
});

describe('task keywords', () => {
  it('with_items flattens one level, loop does not', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  tasks:
    - name: legacy
      debug: msg="{{ item }}"
      with_items: [[a, b], c]
    - name: modern
      debug: msg="{{ item }}"
      loop: [[a, b], c]
`);
    const msgs = (name: string) => (r.results(name)[0]!.result!['results'] as Record<string, unknown>[]).map((i) => i['msg']);
    expect(msgs('legacy')).toEqual(['a', 'b', 'c']);
    expect(msgs('modern')).toEqual([['a', 'b'], 'c']);
  });

  it('environment reaches the module command, and a bad name is refused', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    greeting: "hello; rm -rf /tmp/never"
  tasks:
    - name: env
      shell: printf '%s' "$GREETING"
      environment:
        GREETING: "{{ greeting }}"
      register: out
      changed_when: false
    - name: bad
      command: "true"
      environment:
        "A B": x
      ignore_errors: true
`);
    expect(r.results('env')[0]!.result!['stdout']).toBe('hello; rm -rf /tmp/never');
    expect(r.results('bad')[0]!.msg).toMatch(/not a valid variable name/);
  });

  it('play and block environment reach a task inside the block, merged per variable as Ansible merges them', async () => {
    // ansible-playbook 2.14 prints "block task task" for this play: play < block < task, each variable on its own.
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  environment: { A: play, B: play, D: play }
  tasks:
    - block:
        - name: inner
          shell: printf '%s ' "$A" "$B" "$C" "$D"
          environment: { C: task, B: task }
          changed_when: false
        - block:
            - name: nested
              shell: printf '%s ' "$A" "$D"
              changed_when: false
          environment: "{{ nested_env }}"
      environment: { A: block }
      vars:
        nested_env: { D: nested }
    - name: outside
      shell: printf '%s ' "$A" "$B"
      changed_when: false
`);
    expect(r.exitCode).toBe(0);
    expect(r.results('inner')[0]!.result!['stdout']).toBe('block task task play ');
    expect(r.results('nested')[0]!.result!['stdout']).toBe('block nested ');
    expect(r.results('outside')[0]!.result!['stdout']).toBe('play play ');
  });

  it('with_items: a bare name loops once over its text (as ansible-playbook 2.14 does), with a warning; a single value is a one-item list', async () => {
    // ansible-playbook 2.14 prints (item=mylist) => msg "mylist" for the first task, and loops once for "{{ single }}".
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    mylist: [a, b]
    single: x
  tasks:
    - name: bare
      debug: { msg: "{{ item }}" }
      with_items: mylist
    - name: templated single value
      debug: { msg: "{{ item }}" }
      with_items: "{{ single }}"
`);
    expect(r.exitCode).toBe(0);
    const items = (name: string) => (r.results(name)[0]!.result!['results'] as Record<string, unknown>[]).map((i) => i['item']);
    expect(items('bare')).toEqual(['mylist']);
    expect(items('templated single value')).toEqual(['x']);
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.message : ''));
    expect(warnings).toEqual([expect.stringMatching(/with_items: mylist loops once over the text 'mylist'.*write with_items: "\{\{ mylist \}\}"/)]);
  });

  it('a templated max_fail_percentage is rendered', async () => {
    const yaml = `
- hosts: all
  gather_facts: false
  serial: 2
  max_fail_percentage: "{{ tolerance }}"
  tasks:
    - name: maybe fail
      fail: msg=bad
      when: inventory_hostname == 'l1'
    - name: after
      debug: msg=ok
`;
    const inventory = localInventory(['l1', 'l2', 'l3', 'l4']);
    // 1 of 2 failed is 50%: not more than a tolerance of 50, so the rollout goes on.
    const lenient = await playYaml(yaml, { inventory, extraVars: { tolerance: 50 } });
    expect(lenient.results('after').map((e) => e.host)).toEqual(['l2', 'l3', 'l4']);
    // With 0 the batch stops after the failing task, as ansible-playbook does, and no other batch starts.
    const strict = await playYaml(yaml, { inventory, extraVars: { tolerance: 0 } });
    expect(strict.results('after')).toHaveLength(0);
    expect(strict.events.filter((e) => e.type === 'play_start')).toHaveLength(1);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory, loadPlaybookVars, parseInventory, type Inventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { conditionReads, findUndefinedVariables, templateReads } from '../../src/playbook/undefined-vars.js';
import { tagsSelected } from '../../src/runner/tags.js';

describe('templateReads: root names a template reads', () => {
  it.each<[string, string[], string[], string[]]>([
    // source, unconditional, conditional, guarded
    ['{{ foo.bar[0] }}', ['foo'], [], []],
    ["{{ item.0 }} {{ hostvars[inventory_hostname]['x'] }}", ['item', 'hostvars', 'inventory_hostname'], [], []],
    ['{{ a and b }} {{ c or d }}', ['a', 'c'], ['b', 'd'], []],
    ['{{ x if cond else y }}', ['cond'], ['x', 'y'], []],
    ['{% if flag %}{{ inner }}{% else %}{{ other }}{% endif %}', ['flag'], ['inner', 'other'], []],
    ['{% for u in users %}{{ u }} {{ loop.index }} {{ z }}{% endfor %}', ['users'], ['z'], []],
    ['{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}', ['d'], [], []],
    ['{% set t = base %}{{ t }}', ['base'], [], []],
    ['{% macro m(a, b=dflt) %}{{ a }}{{ q }}{% endmacro %}{{ m(1) }}', [], ['dflt', 'q'], []],
    ['{{ x | default(y) }}', ['y'], [], ['x']],
    ['{{ x.y.z | d(1) }} {{ w | mandatory }}', [], [], ['x', 'w']],
    ['{{ x is defined and x.y }}', [], [], ['x']],
    ["{{ 'n' if b is undefined else b }}", [], [], ['b']],
    ['{{ x is none }} {{ y is string }}', [], [], []],
    ['{{ x is divisibleby(n) }} {{ s is match(pat) }}', ['x', 'n', 's', 'pat'], [], []],
    ["{{ lookup('env', 'HOME') }} {{ range(3) }}", ['lookup', 'range'], [], []],
    ["{{ d | map(attribute='k') | list }} {{ f(name=v) }}", ['d', 'f', 'v'], [], []],
    ['{{ {key: val} }}', ['key', 'val'], [], []],
    ['{{ True }} {{ none }} {{ 1 + 2 }}', ['True'], [], []],
    ['plain text {# a comment with {{ x }} #}', [], [], []],
  ])('%s', (source, unconditional, conditional, guarded) => {
    const r = templateReads(source, 'value');
    expect(r).toBeDefined();
    expect(r!.unconditional.sort()).toEqual([...unconditional].sort());
    expect(r!.conditional.sort()).toEqual([...conditional].sort());
    expect(r!.guarded.sort()).toEqual([...guarded].sort());
  });

  it('a template that does not parse gives undefined (the loader reports it)', () => {
    expect(templateReads('{{ x | }}', 'value')).toBeUndefined();
  });

  it('reads conditions: bare expressions, legacy {{ }} text, and skips boolean words', () => {
    expect(conditionReads('result.rc != 0 and other')?.unconditional).toEqual(['result']);
    expect(conditionReads('"{{ a }}" == "1"')?.unconditional).toEqual(['a']);
    expect(conditionReads('foo is defined')?.guarded).toEqual(['foo']);
    expect(conditionReads('yes')).toBeUndefined();
    expect(conditionReads(true)).toBeUndefined();
  });
});

const ok = 'test/fixtures/playbooks/undefined-ok';
const bad = 'test/fixtures/playbooks/bad';

async function inventoryFor(file: string, playbook: string): Promise<Inventory> {
  const inv = await loadInventory([file], process.cwd());
  await loadPlaybookVars(inv, path.dirname(path.resolve(playbook)));
  return inv;
}

async function undefinedNames(playbook: string, opts: { extraVars?: Record<string, unknown>; inventory?: Inventory | 'none' } = {}): Promise<string[]> {
  const pb = await loadPlaybook(playbook);
  const inventory = opts.inventory === 'none' ? undefined : (opts.inventory ?? (await loadInventory([], process.cwd())));
  const errors = await findUndefinedVariables(pb, { extraVars: opts.extraVars ?? {}, ...(inventory ? { inventory } : {}) });
  return errors.map((e) => /undefined variable '([^']+)'/.exec(e.message)?.[1] ?? e.message);
}

describe('findUndefinedVariables', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vncplay-undef-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds nothing in a playbook that uses every kind of definition and guard', async () => {
    const site = path.join(ok, 'site.yml');
    expect(await undefinedNames(site, { inventory: await inventoryFor(path.join(ok, 'inventory.yml'), site) })).toEqual([]);
  });

  it('the same playbook without its inventory and group_vars: exactly the inventory names are missing', async () => {
    // vnc_geometry twice: in site.yml and in the set_fact of the included tasks/extra.yml (listed after the playbook).
    expect(await undefinedNames(path.join(ok, 'site.yml'))).toEqual(['host_only_var', 'inline_group_var', 'vnc_geometry', 'vnc_geometry']);
  });

  it('finds nothing in the shipped playbooks with the example inventory', async () => {
    for (const f of ['restart', 'vnc-setup', 'harden', 'failover-drill']) {
      const pb = `playbooks/${f}.yml`;
      expect(await undefinedNames(pb, { inventory: await inventoryFor('inventories/prod.example.yml', pb) }), f).toEqual([]);
    }
  });

  it('-e defines names, and so does an inventory var of any host or group', async () => {
    const pb = path.join(bad, 'undefined-var-args.yml');
    expect(await undefinedNames(pb)).toEqual(['vnc_dispaly', 'geometry']);
    expect(await undefinedNames(pb, { extraVars: { geometry: '800x600', vnc_dispaly: 2 } })).toEqual([]);
    const inv = parseInventory('db:\n  hosts:\n    d1:\n      geometry: 1x1\nweb:\n  vars:\n    vnc_dispaly: 3\n', 'yaml');
    expect(await undefinedNames(pb, { inventory: inv })).toEqual([]);
  });

  it('a var overridden by -e is not followed into its value', async () => {
    expect(await undefinedNames(path.join(bad, 'undefined-var-args.yml'), { extraVars: { geometry: 'g', vnc_port: 5901 } })).toEqual([]);
  });

  it('without an inventory (syntax-check with no -i) only what -e alone must define is checked', async () => {
    expect(await undefinedNames(path.join(bad, 'undefined-var-args.yml'), { inventory: 'none' })).toEqual([]);
    expect(await undefinedNames(path.join(bad, 'undefined-play-hosts.yml'), { inventory: 'none' })).toEqual(['target_hosts']);
    expect(await undefinedNames(path.join(bad, 'undefined-play-hosts.yml'), { inventory: 'none', extraVars: { target_hosts: 'all' } })).toEqual([]);
  });

  it('async and poll are checked like the other task keywords', async () => {
    const pb = path.join(tmp, 'async.yml');
    writeFileSync(pb, '- hosts: all\n  tasks:\n    - command: sleep 1\n      async: "{{ job_limit }}"\n      poll: "{{ job_poll | default(2) }}"\n');
    expect(await undefinedNames(pb)).toEqual(['job_limit']);
  });

  it('an include_tasks with a templated path may set any fact: the playbook is not checked', async () => {
    writeFileSync(path.join(tmp, 'inc.yml'), '- debug: msg=included\n');
    const pb = path.join(tmp, 'opaque.yml');
    writeFileSync(pb, '- hosts: all\n  vars:\n    f: inc.yml\n  tasks:\n    - include_tasks: "{{ f }}"\n    - debug: msg="{{ maybe_set_there }}"\n');
    expect(await undefinedNames(pb)).toEqual([]);
    writeFileSync(pb, '- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n    - debug: msg="{{ not_set_there }}"\n');
    expect(await undefinedNames(pb)).toEqual(['not_set_there']);
  });

  it('checks an include_tasks file loaded statically, block and rescue tasks, and handlers', async () => {
    writeFileSync(path.join(tmp, 'inc2.yml'), '- debug: msg="{{ inc_missing }} {{ inc_param }}"\n');
    const pb = path.join(tmp, 'nested.yml');
    writeFileSync(
      pb,
      [
        '- hosts: all',
        '  tasks:',
        '    - include_tasks: inc2.yml',
        '      vars: {inc_param: 1}',
        '    - block:',
        '        - debug: msg="{{ in_block }}"',
        '      rescue:',
        '        - debug: msg="{{ in_rescue }}"',
        '    - block:',
        '        - debug: msg="{{ under_block_when }}"',
        '      when: false_flag | default(false)',
        '  handlers:',
        '    - name: h',
        '      debug: msg="{{ in_handler }}"',
        '',
      ].join('\n'),
    );
    expect(await undefinedNames(pb)).toEqual(['in_block', 'in_rescue', 'in_handler', 'inc_missing']);
  });

  it('tasks that do not run are not checked: tagged never, left out by --tags/--skip-tags, before --start-at-task', async () => {
    const pb = path.join(tmp, 'tags.yml');
    writeFileSync(
      pb,
      [
        '- hosts: all',
        '  tasks:',
        '    - debug: msg="{{ only_for_debugging }}"',
        '      tags: [never, debug]',
        '    - name: first',
        '      debug: msg="{{ first_missing }}"',
        '      tags: [setup]',
        '    - name: second',
        '      debug: msg="{{ second_missing }}"',
        '      tags: [restart]',
        '',
      ].join('\n'),
    );
    const names = async (o: { tags?: string[]; skip?: string[]; start?: string }): Promise<string[]> => {
      const errors = await findUndefinedVariables(await loadPlaybook(pb), {
        extraVars: {},
        inventory: await loadInventory([], process.cwd()),
        taskSelected: (tags) => tagsSelected(tags, o.tags ?? [], o.skip ?? []),
        ...(o.start ? { startAtTask: o.start } : {}),
      });
      return errors.map((e) => /'([^']+)'$/.exec(e.message)?.[1] ?? e.message);
    };
    expect(await undefinedNames(pb)).toEqual(['first_missing', 'second_missing']);
    expect(await names({})).toEqual(['first_missing', 'second_missing']);
    expect(await names({ tags: ['restart'] })).toEqual(['second_missing']);
    expect(await names({ tags: ['debug'] })).toEqual(['only_for_debugging']);
    expect(await names({ skip: ['setup'] })).toEqual(['second_missing']);
    expect(await names({ start: 'second' })).toEqual(['second_missing']);
  });

  it('a task with its own environment is still checked for the play\'s: the layers merge at run time', async () => {
    const pb = path.join(tmp, 'env-layers.yml');
    writeFileSync(pb, '- hosts: all\n  gather_facts: false\n  environment: { A: "{{ from_play }}" }\n  tasks:\n    - command: "true"\n      environment: { B: "{{ from_task }}" }\n');
    expect(await undefinedNames(pb)).toEqual(['from_play', 'from_task']);
  });

  it('errors carry the position of the template, an excerpt and a hint', async () => {
    const pb = await loadPlaybook(path.join(bad, 'undefined-register-typo.yml'));
    const [first] = await findUndefinedVariables(pb, { extraVars: {}, inventory: await loadInventory([], process.cwd()) });
    expect(first?.code).toBe('E_TEMPLATE_UNDEFINED');
    expect(first?.pos).toEqual({ file: path.join(bad, 'undefined-register-typo.yml'), line: 10, col: 14 });
    expect(first?.hint).toBe("did you mean 'unit_state'?");
    expect(first?.excerpt).toContain('^');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlaybookError, UsageError } from '../../src/errors.js';
import { OMIT, markUnsafe, render } from '../../src/playbook/template.js';
import { buildHostScope, makeHostvars, parseExtraVars, sortGroupLayers, type VarLayers } from '../../src/playbook/vars.js';

/** Every layer defines `v` as its own name; the test removes layers from the top and checks who wins next. */
const layerOrder: (keyof VarLayers)[] = [
  'roleDefaults',
  'groupVars',
  'hostVars',
  'gatheredFacts',
  'playVars',
  'varsFiles',
  'roleVars',
  'blockVars',
  'taskVars',
  'includeVars',
  'hostFacts',
  'extraVars',
];

function layerWith(name: keyof VarLayers, v: string): Partial<VarLayers> {
  switch (name) {
    case 'roleDefaults':
    case 'varsFiles':
    case 'roleVars':
    case 'blockVars':
      return { [name]: [{ v }] };
    case 'groupVars':
      return { groupVars: [{ group: 'all', depth: 0, vars: { v } }] };
    default:
      return { [name]: { v } };
  }
}

describe('buildHostScope precedence (lowest first, as Ansible)', () => {
  const all = Object.assign({}, ...layerOrder.map((n) => layerWith(n, n))) as VarLayers;

  it.each(layerOrder.map((n, i) => [n, i] as const))('%s wins over every layer below it', (name, i) => {
    const layers = Object.assign({}, ...layerOrder.slice(0, i + 1).map((n) => layerWith(n, n))) as VarLayers;
    expect(render('{{ v }}', buildHostScope(layers))).toBe(name);
  });

  it('extra vars win over everything', () => {
    expect(render('{{ v }}', buildHostScope(all))).toBe('extraVars');
  });

  it('group vars apply by depth, then ansible_group_priority, then name', () => {
    const groupVars = [
      { group: 'vnc_eu', depth: 2, vars: { a: 'vnc_eu', b: 'vnc_eu' } },
      { group: 'all', depth: 0, vars: { a: 'all', b: 'all', c: 'all' } },
      { group: 'vnc', depth: 1, vars: { a: 'vnc', b: 'vnc', c: 'vnc' } },
      { group: 'aaa', depth: 2, vars: { a: 'aaa', b: 'aaa' }, priority: 5 },
    ];
    expect(sortGroupLayers(groupVars).map((g) => g.group)).toEqual(['all', 'vnc', 'vnc_eu', 'aaa']);
    const scope = buildHostScope({ groupVars });
    expect(scope.a).toBe('aaa');
    expect(scope.c).toBe('vnc');
    const noPriority = buildHostScope({ groupVars: groupVars.map((g) => ({ ...g, priority: undefined })) });
    expect(noPriority.a).toBe('vnc_eu');
  });

  it('later items of list layers win (role order, vars_files order, inner blocks)', () => {
    const scope = buildHostScope({ varsFiles: [{ a: 1, b: 1 }, { a: 2 }], blockVars: [{ c: 'outer' }, { c: 'inner' }] });
    expect([scope.a, scope.b, scope.c]).toEqual([2, 1, 'inner']);
  });

  it('a higher layer can use a variable of a lower one lazily', () => {
    const scope = buildHostScope({
      roleDefaults: [{ vnc_display: 1 }],
      groupVars: [{ group: 'all', depth: 0, vars: { vnc_port: '{{ 5900 + vnc_display }}' } }],
      playVars: { url: 'vnc://{{ inventory_hostname }}:{{ vnc_port }}' },
      extraVars: { vnc_display: 7 },
      magic: { inventoryHostname: 'h1', groups: { all: ['h1'] } },
    });
    expect(render('{{ url }}', scope)).toBe('vnc://h1:5907');
  });

  it('set_fact / registered values and gathered facts are host data: never rendered', () => {
    const scope = buildHostScope({
      playVars: { x: 1 },
      gatheredFacts: { ansible_hostname: '{{ 7*7 }}' },
      hostFacts: { out: { stdout: "{{ lookup('pipe', 'id') }}" } },
    });
    expect(render('{{ ansible_hostname }}', scope)).toBe('{{ 7*7 }}');
    expect(render('{{ out.stdout }}', scope)).toBe("{{ lookup('pipe', 'id') }}");
  });
});

describe('-e @file with YAML aliases', () => {
  it('aliases of aliases are refused at the alias, not an internal error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-evars-'));
    writeFileSync(join(dir, 'bomb.yml'), 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n');
    const err = await parseExtraVars(['@bomb.yml'], dir).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as PlaybookError).format()).toMatch(/^bomb\.yml:3:8: error\[E_YAML_ALIAS\]: alias `\*b` repeats a value that holds aliases itself/);
  });
});

describe('`__proto__` is an ordinary variable name (as in Ansible)', () => {
  /** `{__proto__: {sneaky: 1}}` as YAML and JSON give it: an own key, not a prototype. */
  const protoVars = (): Record<string, unknown> => JSON.parse('{"__proto__": {"sneaky": 1}, "plain": 2}') as Record<string, unknown>;

  it.each(layerOrder)('in %s: its members do not become variables', (name) => {
    const vars = protoVars();
    const layer = name === 'groupVars' ? { groupVars: [{ group: 'all', depth: 0, vars }] } : ['roleDefaults', 'varsFiles', 'roleVars', 'blockVars'].includes(name) ? { [name]: [vars] } : { [name]: vars };
    const scope = buildHostScope(layer as VarLayers);
    expect(render("{{ sneaky | default('undefined') }}", scope)).toBe('undefined');
    expect(render('{{ __proto__.sneaky }} {{ plain }}', scope)).toBe('1 2');
    expect(Object.getPrototypeOf(scope)).toBe(Object.prototype);
  });

  it('in -e JSON and -e key=value', async () => {
    const vars = await parseExtraVars(['{"__proto__": {"sneaky": 1}}', '__proto__=text'], process.cwd());
    expect(Object.keys(vars)).toEqual(['__proto__']);
    expect(render("{{ __proto__ }} {{ sneaky | default('undefined') }}", buildHostScope({ extraVars: vars }))).toBe('text undefined');
  });
});

describe('magic variables', () => {
  const groups = { all: ['web1.example.com', 'web2'], ungrouped: [], vnc: ['web1.example.com'], eu: ['web1.example.com'] };
  const scope = buildHostScope({
    playVars: { inventory_hostname: 'cannot override' },
    extraVars: { groups: 'nor this' },
    magic: {
      inventoryHostname: 'web1.example.com',
      groups,
      checkMode: true,
      playHosts: ['web1.example.com', 'web2'],
      playBatch: ['web1.example.com'],
      playbookDir: '/srv/playbooks',
      rolePath: '/srv/playbooks/roles/vnc',
    },
  });

  it.each([
    ['{{ inventory_hostname }}', 'web1.example.com'],
    ['{{ inventory_hostname_short }}', 'web1'],
    ["{{ groups['vnc'] }}", ['web1.example.com']],
    ['{{ group_names }}', ['eu', 'vnc']],
    ['{{ ansible_check_mode }}', true],
    ['{{ ansible_play_hosts }}', ['web1.example.com', 'web2']],
    ['{{ ansible_play_batch }}', ['web1.example.com']],
    ['{{ playbook_dir }}', '/srv/playbooks'],
    ['{{ role_path }}', '/srv/playbooks/roles/vnc'],
    ['{{ omit }}', OMIT],
  ] as [string, unknown][])('%s', (tpl, expected) => {
    expect(render(tpl, scope)).toEqual(expected);
  });

  it('a module argument set to omit is dropped', () => {
    expect(render({ name: 'x', mode: '{{ omit }}', owner: "{{ owner | default(omit) }}" }, scope)).toEqual({ name: 'x' });
  });

  it('hostvars resolves each host lazily, in that host’s own scope', () => {
    const scopes: Record<string, Record<string, unknown>> = {};
    const hostvars = makeHostvars(
      () => Object.keys(scopes),
      (h) => scopes[h],
    );
    const mk = (host: string, display: number): Record<string, unknown> =>
      buildHostScope({
        groupVars: [{ group: 'all', depth: 0, vars: { vnc_port: '{{ 5900 + display }}' } }],
        hostVars: { display, ansible_host: `198.18.0.${10 + display}` },
        hostFacts: { probe: { stdout: '{{ 7*7 }}' } },
        magic: { inventoryHostname: host, groups: { all: ['h1', 'h2'] }, hostvars },
      });
    scopes.h1 = mk('h1', 1);
    scopes.h2 = mk('h2', 2);
    const h1 = scopes.h1;
    expect(render("{{ hostvars['h2'].vnc_port }}", h1)).toBe(5902);
    expect(render("{{ hostvars['h2']['ansible_host'] }}", h1)).toBe('198.18.0.12');
    expect(render("{{ hostvars['h2'].probe.stdout }}", h1)).toBe('{{ 7*7 }}');
    expect(render("{{ groups['all'] | map('extract', hostvars, 'vnc_port') | list }}", h1)).toEqual([5901, 5902]);
    expect(render("{{ 'h2' in hostvars }}", h1)).toBe(true);
    expect(render("{{ hostvars['h3'] is defined }}", h1)).toBe(false);
    expect(render("{{ hostvars['h2'].nope | default('d') }}", h1)).toBe('d');
    const dumped = JSON.parse(render("{{ hostvars['h2'] | to_json }}", h1) as string) as Record<string, unknown>;
    expect(dumped.vnc_port).toBe(5902);
    expect(dumped.hostvars).toBeUndefined();
  });

  it('hostvars sees facts set after its first use (the scope is asked again on each access)', () => {
    const facts: Record<string, Record<string, unknown>> = { h1: {}, h2: {} };
    const hostvars = makeHostvars(
      () => ['h1', 'h2'],
      (h) => (facts[h] ? buildHostScope({ hostFacts: facts[h], magic: { inventoryHostname: h, groups: { all: ['h1', 'h2'] } } }) : undefined),
    );
    const scope = { hostvars: markUnsafe(hostvars) };
    expect(render("{{ hostvars['h2'].token | default('none yet') }}", scope)).toBe('none yet');
    facts.h2!.token = 'abc';
    expect(render("{{ hostvars['h2'].token }}", scope)).toBe('abc');
  });
});

describe('parseExtraVars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vncplay-extra-'));
  writeFileSync(join(dir, 'vars.yml'), 'vnc_port: 5901\nusers: [alice, bob]\n');
  writeFileSync(join(dir, 'vars.json'), '{"vnc_port": 5902, "nested": {"a": true}}');
  writeFileSync(join(dir, 'list.yml'), '- a\n- b\n');
  writeFileSync(join(dir, 'bad.yml'), 'a: 1\n  b: [\n');

  it.each([
    [['a=1 b=two'], { a: '1', b: 'two' }],
    [['msg="hello world" n=1'], { msg: 'hello world', n: '1' }],
    [["msg='it''s'"], { msg: 'its' }],
    [['path=/a=b'], { path: '/a=b' }],
    [['{"k": 1, "l": [1, 2]}'], { k: 1, l: [1, 2] }],
    [['{k: yes, mode: 0755, s: "yes"}'], { k: true, mode: 0o755, s: 'yes' }],
    [['@vars.yml'], { vnc_port: 5901, users: ['alice', 'bob'] }],
    [['@vars.json'], { vnc_port: 5902, nested: { a: true } }],
    [['@vars.yml', 'vnc_port=1'], { vnc_port: '1', users: ['alice', 'bob'] }],
    [['vnc_port=1', '@vars.json'], { vnc_port: 5902, nested: { a: true } }],
  ] as [string[], Record<string, unknown>][])('%j', async (args, expected) => {
    expect(await parseExtraVars(args, dir)).toEqual(expected);
  });

  it('a missing @file is a usage error naming the file', async () => {
    const err = await parseExtraVars(['@nope.yml'], dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('E_EXTRA_VARS_FILE');
    expect((err as UsageError).message).toBe('extra vars file not found: nope.yml');
    expect((err as UsageError).hint).toBe(`looked for ${join(dir, 'nope.yml')}`);
  });

  it('a file that is not a mapping, or not YAML, is a positioned error', async () => {
    const list = await parseExtraVars(['@list.yml'], dir).catch((e: unknown) => e);
    expect(list).toBeInstanceOf(PlaybookError);
    expect((list as PlaybookError).message).toBe('extra vars file must hold a mapping of names to values, not a list');
    const bad = await parseExtraVars(['@bad.yml'], dir).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PlaybookError);
    expect((bad as PlaybookError).pos?.file).toBe('bad.yml');
    expect((bad as PlaybookError).pos?.line).toBeGreaterThanOrEqual(1);
    expect((bad as PlaybookError).message).toMatch(/^invalid YAML in extra vars file: /);
    expect((bad as PlaybookError).excerpt).toContain('a: 1');
  });

  it.each([['novalue'], ['1x=2'], ['a=1 =2'], ['msg="open'], ['[1, 2]'], ['{bad']])('rejects %s', async (arg) => {
    const err = await parseExtraVars([arg], dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('E_EXTRA_VARS');
  });

  it('extra vars given as k=v stay strings but are rendered when used (as Ansible)', async () => {
    const extra = await parseExtraVars(['greeting="hi {{ who }}" who=you'], dir);
    expect(render('{{ greeting }}', buildHostScope({ extraVars: extra }))).toBe('hi you');
    expect(render('{{ x }}', { x: markUnsafe('{{ y }}') })).toBe('{{ y }}');
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { systemd } from '../../src/modules/systemd.js';
import { actionModule } from '../../src/modules/spec/define.js';
import { specSchema } from '../../src/modules/spec/json-schema.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { defineSpec, type ArgsOf, type ModuleSpec, type Options } from '../../src/modules/spec/types.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { allModules } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlaybookSchema } from '../../src/playbook/schema.js';
import { requireProgram } from '../support/tools.js';

/**
 * The declarative argument spec (src/modules/spec/): conversion and cross-field rules against ansible-core's own
 * ArgumentSpecValidator, positions of the offending values at load time, the Args type inferred from a spec,
 * and the generated JSON Schema agreeing with the parser.
 */

const rendered = { owner: 't', rendered: true };

// ───────────────────────────── parity with ansible-core 2.14 ─────────────────────────────

/** ArgumentSpecValidator of Debian's ansible-core on each case: the validated parameters, or that it refused. */
const PY = '/usr/bin/python3';
const SCRIPT = `
import json, sys
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
out = []
for case in json.loads(sys.stdin.read()):
    v = ArgumentSpecValidator(case['spec'], **case['rules'])
    r = v.validate(case['params'])
    out.append({'errors': r.error_messages} if r.error_messages else {'ok': r.validated_parameters})
print(json.dumps(out))
`;

interface Case {
  spec: Record<string, Record<string, unknown>>;
  rules: Record<string, unknown>;
  params: Record<string, unknown>;
}

function ansible(cases: Case[]): ({ ok: Record<string, unknown> } | { errors: string[] })[] {
  requireProgram('ansible-playbook'); // the same package brings ansible.module_utils
  return JSON.parse(execFileSync(PY, ['-c', SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8' })) as ({ ok: Record<string, unknown> } | { errors: string[] })[];
}

/** Our spec in Ansible's words (the constraints vncplay adds, min/max/pattern, are left out of these cases). */
function asAnsible(options: Options): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(options).map(([name, p]) => {
      const a: Record<string, unknown> = { type: p.type };
      for (const k of ['elements', 'choices', 'default', 'aliases', 'required', 'no_log'] as const) if (p[k] !== undefined) a[k] = p[k];
      if (p.options) a['options'] = asAnsible(p.options);
      return [name, a];
    }),
  );
}

const typed = defineSpec({
  description: 'every type',
  options: {
    s: { type: 'str' },
    i: { type: 'int' },
    f: { type: 'float' },
    b: { type: 'bool' },
    l: { type: 'list' },
    li: { type: 'list', elements: 'int' },
    d: { type: 'dict' },
    p: { type: 'path' },
    c: { type: 'str', choices: ['started', 'stopped'] },
    n: { type: 'str', aliases: ['service', 'unit'] },
    dd: { type: 'str', default: 'system' },
  },
});

// [parameter, value]: Ansible converts or refuses; vncplay must do the same.
const conversions: [string, unknown][] = [
  ...['yes', 'Y', 't', 'TRUE', ' on ', '1', 1, 'off', 'n', 'F', '0', 0, 'no', 'false', '2', 2, '', 'maybe', 1.0].map((v): [string, unknown] => ['b', v]),
  ...['22', ' 22 ', '+22', '-7', '2_2', 22, '1.5', '1.0', 1.5, '0x10', '1e3', 'abc', ''].map((v): [string, unknown] => ['i', v]),
  ...['1.5', ' 1.5 ', '1e3', '.5', '5.', '22', 3, 'abc'].map((v): [string, unknown] => ['f', v]),
  ...[22, 1.5, true, false, '0644', ['a', 1, true, null], { a: 1, b: [true, null], c: "it's", d: 'say "hi"\n' }, [{ k: 'x' }]].map((v): [string, unknown] => ['s', v]),
  ...['a,b', 'a, b', 'x', '', 1, ['a'], { a: 1 }].map((v): [string, unknown] => ['l', v]),
  ...['1,2', ['1', 'x'], [3]].map((v): [string, unknown] => ['li', v]),
  ...['a=1 b=2', 'a=1, b=2', '{"a": 1}', { a: 1 }, 'nonsense', ['a']].map((v): [string, unknown] => ['d', v]),
  ...['/tmp/x', 7].map((v): [string, unknown] => ['p', v]),
  ...[['a', { b: 1 }]].map((v): [string, unknown] => ['li', v]),
  ...['started', 'bogus', true].map((v): [string, unknown] => ['c', v]),
  ...['x'].map((v): [string, unknown] => ['service', v]),
];

const rules = defineSpec({
  description: 'cross-field rules',
  options: {
    name: { type: 'str', aliases: ['unit'] },
    state: { type: 'str', choices: ['started', 'stopped', 'signalled'] },
    signal: { type: 'str' },
    port: { type: 'int' },
    path: { type: 'path' },
    user: { type: 'str' },
    password: { type: 'str', no_log: true },
    daemon_reload: { type: 'bool' },
  },
  mutually_exclusive: [['port', 'path']],
  required_one_of: [['name', 'daemon_reload']],
  required_together: [['user', 'password']],
  required_if: [['state', 'signalled', ['signal']]],
  required_by: { state: ['name'] },
});

const ruleCases: Record<string, unknown>[] = [
  { name: 'x' },
  { unit: 'x', state: 'started' },
  { daemon_reload: 'yes' },
  {},
  { name: 'x', port: 1, path: '/x' },
  { name: 'x', user: 'u' },
  { name: 'x', user: 'u', password: 'p' },
  { name: 'x', state: 'signalled' },
  { name: 'x', state: 'signalled', signal: 'HUP' },
  { state: 'started', daemon_reload: true },
  { name: 'x', bogus: 1 },
];

function spellOut(spec: ModuleSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['mutually_exclusive', 'required_one_of', 'required_together', 'required_if', 'required_by'] as const) {
    if (spec[k] !== undefined) out[k] = spec[k];
  }
  return out;
}

describe('conversion and rules: the same verdicts and values as ansible-core', () => {
  const cases: [ModuleSpec, Record<string, unknown>][] = [
    ...conversions.map(([k, v]): [ModuleSpec, Record<string, unknown>] => [typed, { [k]: v }]),
    ...ruleCases.map((p): [ModuleSpec, Record<string, unknown>] => [rules, p]),
  ];
  const theirs = ansible(cases.map(([spec, params]) => ({ spec: asAnsible(spec.options), rules: spellOut(spec), params })));

  it.each(cases.map(([spec, params], i) => [JSON.stringify(params), spec, params, i] as const))('%s', (_t, spec, params, i) => {
    const ours = parseArgs(spec, params, rendered);
    const answer = theirs[i]!;
    if ('errors' in answer) {
      expect(ours.issues.length, `ansible refused: ${answer.errors.join('; ')}`).toBeGreaterThan(0);
      return;
    }
    expect(ours.issues, 'ansible accepted').toEqual([]);
    // Ansible keeps an alias key next to the canonical one and None for what was not given; compare the rest.
    const accepted = Object.fromEntries(Object.entries(answer.ok).filter(([k, v]) => v !== null && k in spec.options));
    expect(ours.args).toEqual(accepted);
  });

  it('stricter than Ansible on purpose: a boolean is no number, a list is no path, one parameter is given once, null means not given', () => {
    expect(parseArgs(typed, { i: true }, rendered).issues[0]?.message).toBe('`i` must be an integer, got the boolean true');
    expect(parseArgs(typed, { p: ['a'] }, rendered).issues[0]?.message).toBe('`p` must be a path (string), got a list');
    expect(parseArgs(typed, { n: 'a', service: 'b' }, rendered).issues[0]).toMatchObject({ path: ['service'], onKey: true, code: 'E_EXCLUSIVE_PARAMS' });
    expect(parseArgs(typed, { dd: null }, rendered).args).toEqual({ dd: 'system' });
  });

  it('a parameter whose value is refused is still given: one error, no "missing" beside it', () => {
    expect(parseArgs(rules, { daemon_reload: 'maybe' }, rendered).issues.map((i) => i.message)).toEqual(['`daemon_reload` must be a boolean (true/false), got the string "maybe"']);
    expect(parseArgs(rules, { name: 'x', port: 'abc', path: '/x' }, rendered).issues.map((i) => i.code)).toEqual(['E_TYPE']);
  });
});

// ───────────────────────────── the Args type ─────────────────────────────

describe('the Args type is inferred from the spec', () => {
  it('required and defaulted parameters are always there, choices narrow, lists and dicts carry their items', () => {
    const spec = defineSpec({
      description: 'x',
      options: {
        name: { type: 'str', required: true },
        scope: { type: 'str', choices: ['system', 'user'], default: 'system' },
        port: { type: 'int' },
        force: { type: 'bool', default: false },
        hosts: { type: 'list', elements: 'str' },
        rules: { type: 'list', elements: 'dict', options: { proto: { type: 'str', choices: ['tcp', 'udp'], required: true }, port: { type: 'int' } } },
        extra: { type: 'raw' },
      },
    });
    expectTypeOf<ArgsOf<typeof spec.options>>().toEqualTypeOf<{
      name: string;
      scope: 'system' | 'user';
      force: boolean;
      port?: number;
      hosts?: string[];
      rules?: { proto: 'tcp' | 'udp'; port?: number }[];
      extra?: unknown;
    }>();
    expectTypeOf(systemd.plan).parameter(0).toHaveProperty('daemon_reload').toEqualTypeOf<boolean>();
    expectTypeOf(waitFor.run).parameter(0).toHaveProperty('port').toEqualTypeOf<number | undefined>();
  });
});

// ───────────────────────────── positions at load time ─────────────────────────────

function playbook(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-spec-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, text);
  return file;
}

async function loadErrors(file: string, modules = allModules()): Promise<string[]> {
  try {
    await loadPlaybook(file, { modules });
  } catch (e) {
    if (e instanceof ErrorList) return e.errors.map((x) => x.format());
    throw e;
  }
  return [];
}

/** A module with nested options, as security_group's rules will be: its errors point inside the list. */
const nested = actionModule(
  defineSpec({
    description: 'nested options',
    options: {
      rules: {
        type: 'list',
        elements: 'dict',
        required: true,
        options: { proto: { type: 'str', choices: ['tcp', 'udp'], default: 'tcp' }, port: { type: 'int', min: 1, max: 65535, required: true } },
      },
    },
  }),
  { kind: 'action', name: 'nested_test', where: 'controller', inCheckMode: 'run', run: async (args) => ({ data: { rules: args.rules } }) },
);

describe('errors point at the offending value, and say the module once', () => {
  it("a module's own checks (cross-field rules, check()) point at the parameter, not at the module key", async () => {
    const errors = await loadErrors(
      playbook(`- hosts: all
  tasks:
    - wait_for:
        path: /tmp/x
        state: stopped
    - systemd:
        name: a
        service: b
    - supervisorctl:
        name: vnc
        state: signalled
    - wait_for:
        port: 5901
        path: /tmp/x
`),
    );
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      expect.stringMatching(/play\.yml:5:16: error\[E_MODULE_ARGS\]: state=stopped should only be used for checking a port; use state=absent for a path$/),
      expect.stringMatching(/play\.yml:8:9: error\[E_EXCLUSIVE_PARAMS\]: `service` and `name` are names of the same parameter `name`$/),
      expect.stringMatching(/play\.yml:11:16: error\[E_MISSING_PARAM\]: `state` is "signalled", so `signal` is required$/),
      expect.stringMatching(/play\.yml:14:15: error\[E_EXCLUSIVE_PARAMS\]: `path` cannot be given with `port`: `port`, `path` are mutually exclusive$/),
    ]);
  });

  it("security_group's rule checks: at the rule (or the rule's key), each once, the module not repeated", async () => {
    const errors = await loadErrors(
      playbook(`- hosts: all
  tasks:
    - security_group:
        provider: aws
        region: eu-west-1
        name: vnc
        rules:
          - { proto: tcp, ports: 5901, cidr: 10.0.0.0/8 }
          - proto: tcp
            cidr: 10.0.0.0/8
            group_id: sg-1
          - { proto: tcp, ports: 5901, cidr: [10.0.0.0/8, 10.0.0.0/33] }
        rules_egress:
          - { proto: tcp, cidr: 0.0.0.0/0, policy: drop }
`),
    );
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      expect.stringMatching(/play\.yml:9:13: error\[E_MODULE_ARGS\]: rules\[1\]: give exactly one of cidr, cidr_ipv6, group_id$/),
      expect.stringMatching(/play\.yml:12:46: error\[E_MODULE_ARGS\]: rules\[2\]: '10\.0\.0\.0\/33' is not a valid CIDR$/),
      expect.stringMatching(/play\.yml:14:52: error\[E_MODULE_ARGS\]: rules_egress\[0\]: AWS security groups only allow \(policy: accept\)$/),
    ]);
  });

  it('a list item and a key inside a list item', async () => {
    const errors = await loadErrors(
      playbook(`- hosts: all
  tasks:
    - wait_for:
        port: 22
        state: drained
        active_connection_states: [ESTABLISHED, BOGUS]
    - nested_test:
        rules:
          - { proto: tcp, port: 22 }
          - { proto: tcp, port: "99999" }
          - proto: icmp
            port: 1
`),
      [...allModules(), nested],
    );
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      expect.stringMatching(/play\.yml:6:49: error\[E_ENUM\]: item 1 of `active_connection_states` must be one of .*got the string "BOGUS"$/),
      expect.stringMatching(/play\.yml:10:33: error\[E_RANGE\]: `rules\[1\]\.port` must be 1-65535, got the number 99999$/),
      expect.stringMatching(/play\.yml:11:20: error\[E_ENUM\]: `rules\[2\]\.proto` must be one of `tcp`, `udp`, got the string "icmp"$/),
    ]);
  });

  it('templates are checked after rendering; literal values are kept converted in the task', async () => {
    const pb = await loadPlaybook(
      playbook(`- hosts: all
  tasks:
    - systemd: service=vnc enabled=yes daemon_reload=on
    - wait_for: { port: "{{ p }}", timeout: "2.5", state: "{{ s }}" }
`),
    );
    expect(pb.plays[0]!.tasks.map((t) => t.args)).toEqual([
      { service: 'vnc', enabled: true, daemon_reload: true },
      { port: '{{ p }}', timeout: 2.5, state: '{{ s }}' },
    ]);
  });
});

// ───────────────────────────── the generated JSON Schema ─────────────────────────────

describe('the JSON Schema from a spec says what the parser says (literal values)', () => {
  const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
  const table: [ModuleSpec, Record<string, unknown>][] = [
    [systemd.spec, { name: 'vnc', enabled: 'yes' }],
    [systemd.spec, { name: 'vnc', enabled: 'maybe' }],
    [systemd.spec, { unit: 'vnc', 'daemon-reload': 'On', state: 'started' }],
    [systemd.spec, { state: 'started' }],
    [systemd.spec, {}],
    [systemd.spec, { name: 'vnc', state: 'strated' }],
    [systemd.spec, { name: 'vnc', bogus: 1 }],
    [waitFor.spec, { port: '5901', timeout: '2.5' }],
    [waitFor.spec, { port: 'vnc' }],
    [waitFor.spec, { port: 70000 }],
    [waitFor.spec, { port: 1, path: '/x' }],
    [waitFor.spec, { port: 1, active_connection_states: 'ESTABLISHED,TIME_WAIT' }],
    [waitFor.spec, { port: 1, active_connection_states: ['NOPE'] }],
    [typed, { c: 'started', li: [1, '2'], d: { a: 1 } }],
    [typed, { b: 'Off', i: ' 22 ', f: '1e3' }],
    [typed, { b: 2 }],
    [rules, { name: 'x', user: 'u' }],
    [rules, { name: 'x', state: 'signalled' }],
    [rules, { name: 'x', state: 'signalled', signal: 'HUP' }],
  ];
  it.each(table.map(([spec, args]) => [JSON.stringify(args), spec, args] as const))('%s', (_t, spec, args) => {
    const parsed = parseArgs(spec, args, rendered);
    // check() rules are the parser's alone (wait_for's state/path combinations): only the declared ones count here.
    const declared = parsed.issues.filter((i) => i.code !== 'E_MODULE_ARGS');
    expect(ajv.validate(specSchema(spec), args), JSON.stringify(declared)).toBe(declared.length === 0);
  });
});

describe('the editor schema (schemas/playbook.schema.json) of a module on a spec', () => {
  it('accepts a "{{ template }}" for every parameter and alias, as the loader does', () => {
    const defs = buildPlaybookSchema().$defs as Record<string, { properties: Record<string, object> }>;
    const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
    for (const m of allModules().filter((x) => x.spec !== undefined)) {
      for (const [param, schema] of Object.entries(defs[`args.${m.name}`]!.properties)) {
        expect(ajv.validate(schema, '{{ v }}'), `${m.name}.${param}`).toBe(true);
      }
    }
  });
});

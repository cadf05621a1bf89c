import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { moduleKeys } from '../../src/modules/ansible-names.js';
import { allModules } from '../../src/modules/registry.js';
import { allowTemplates, buildPlaybookSchema, playbookSchemaJson, SCHEMA_ID, taskFileSchemaJson } from '../../src/playbook/schema.js';
import { testModules } from '../fixtures/playbooks/modules.js';

function editorValidator(): (data: unknown) => boolean {
  const ajv = new Ajv2020Module.default({ allErrors: true, strict: false });
  return ajv.compile(buildPlaybookSchema(testModules));
}

const yaml11 = (file: string): unknown => parse(readFileSync(file, 'utf8'), { version: '1.1' });

describe('schemas/playbook.schema.json', () => {
  it('is up to date with the module registry (run `npm run gen:schema` after adding a module)', () => {
    expect(readFileSync('schemas/playbook.schema.json', 'utf8')).toBe(playbookSchemaJson(allModules()));
  });

  it('schemas/tasks.schema.json is current and validates task files through playbook.schema.json', () => {
    const text = readFileSync('schemas/tasks.schema.json', 'utf8');
    expect(text).toBe(taskFileSchemaJson());
    const ajv = new Ajv2020Module.default({ allErrors: true, strict: false });
    ajv.addSchema(buildPlaybookSchema(testModules));
    // Resolved relative to where the file sits beside playbook.schema.json, as an editor does.
    const validate = ajv.compile({ ...(JSON.parse(text) as Record<string, unknown>), $id: SCHEMA_ID.replace('playbook', 'tasks') });
    expect(validate(yaml11('test/fixtures/playbooks/good/tasks/locks.yml'))).toBe(true);
    expect(validate(yaml11('test/fixtures/playbooks/good/roles/vnc/tasks/main.yml'))).toBe(true);
    expect(validate(yaml11('test/fixtures/playbooks/bad/tasks/broken.yml'))).toBe(false);
    expect(validate(yaml11('test/fixtures/playbooks/good/base.yml'))).toBe(false);
  });

  it('is draft 2020-12 with an $id, and every registered module appears with its FQCNs', () => {
    const s = JSON.parse(readFileSync('schemas/playbook.schema.json', 'utf8')) as {
      $schema: string;
      $id: string;
      $defs: { task: { properties: Record<string, unknown> } };
    };
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.$id).toMatch(/^https:\/\//);
    const taskProps = s.$defs.task.properties;
    for (const m of allModules()) {
      expect(taskProps[m.name]).toBeDefined();
      const fqcns = moduleKeys(m).filter((k) => k.includes('.'));
      expect(fqcns.length, m.name).toBeGreaterThan(0);
      for (const k of fqcns) expect(taskProps[k], k).toBeDefined();
    }
    expect(taskProps['ansible.builtin.copy']).toBeDefined();
    expect(taskProps['community.general.supervisorctl']).toBeDefined();
    expect(taskProps['vncplay.firewall']).toBeDefined();
    expect(taskProps['ansible.builtin.firewall']).toBeUndefined();
  });
});

describe('the editor schema (what yaml-language-server sees)', () => {
  const validate = editorValidator();

  it('accepts the good playbooks and task files', () => {
    for (const f of ['site.yml', 'base.yml']) {
      expect(validate(yaml11(`test/fixtures/playbooks/good/${f}`)), f).toBe(true);
    }
  });

  it('rejects typos, unknown modules and wrong types that the loader also rejects', () => {
    for (const f of ['unknown-module', 'misspelled-param', 'bad-enum', 'wrong-type', 'unknown-play-key', 'missing-hosts']) {
      expect(validate(yaml11(`test/fixtures/playbooks/bad/${f}.yml`)), f).toBe(false);
    }
  });

  it('completes module names: short, alias and the FQCNs Ansible has for them, nothing else', () => {
    const play = (task: Record<string, unknown>): unknown => [{ hosts: 'all', tasks: [task] }];
    expect(validate(play({ service: { name: 'x' } }))).toBe(true);
    expect(validate(play({ 'ansible.builtin.systemd_service': { name: 'x' } }))).toBe(true);
    expect(validate(play({ 'community.general.systemd': { name: 'x' } }))).toBe(false);
    expect(validate(play({ 'community.general.servce': { name: 'x' } }))).toBe(false);
  });
});

describe('allowTemplates', () => {
  const ajv = new Ajv2020Module.default({ strict: false });
  const table: [string, Record<string, unknown>, unknown, boolean][] = [
    ['integer', { type: 'integer' }, 5, true],
    ['integer rejects word', { type: 'integer' }, 'five', false],
    ['integer takes template', { type: 'integer' }, '{{ n }}', true],
    ['integer takes block tag', { type: 'integer' }, '{% if a %}1{% endif %}', true],
    ['boolean takes template', { type: 'boolean' }, '{{ b }}', true],
    ['enum rejects other string', { enum: ['a', 'b'] }, 'c', false],
    ['enum takes template', { enum: ['a', 'b'] }, '{{ s }}', true],
    ['list takes template', { type: 'array', items: { type: 'integer' } }, '{{ l }}', true],
    ['list items take template', { type: 'array', items: { type: 'integer' } }, [1, '{{ x }}'], true],
    ['list items reject word', { type: 'array', items: { type: 'integer' } }, [1, 'x'], false],
    ['anyOf gains a template branch', { anyOf: [{ type: 'integer' }, { type: 'null' }] }, '{{ x }}', true],
    ['plain string stays plain', { type: 'string' }, 'x', true],
  ];
  for (const [name, schema, value, ok] of table) {
    it(name, () => {
      expect(ajv.validate(allowTemplates(schema), value)).toBe(ok);
    });
  }

  it('keeps descriptions on the outside for editor hovers', () => {
    expect(allowTemplates({ type: 'integer', description: 'd' })).toMatchObject({ description: 'd', anyOf: [{ type: 'integer' }, {}] });
  });
});

describe('loader fragments', () => {
  it('are the editor schema\'s $defs without annotations', async () => {
    const { loaderFragments } = await import('../../src/playbook/schema.js');
    const defs = buildPlaybookSchema(testModules).$defs as Record<string, unknown>;
    const strip = (x: unknown): unknown =>
      Array.isArray(x)
        ? x.map(strip)
        : x && typeof x === 'object'
          ? Object.fromEntries(
              Object.entries(x)
                .filter(([k]) => !['title', 'description', 'default', 'examples'].includes(k))
                .map(([k, v]) => [k, k === 'properties' && v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, strip(b)])) : strip(v)]),
            )
          : x;
    for (const [name, fragment] of Object.entries(loaderFragments())) expect(fragment, name).toEqual(strip(defs[name]));
  });
});

describe('precompiled validators (schemas/validators/*.mjs)', () => {
  it('are current: npm run gen:schema after changing a module schema', async () => {
    const { precompiledValidators } = await import('../../src/playbook/precompile.js');
    const files = await precompiledValidators();
    expect(readdirSync('schemas/validators').filter((f) => f.endsWith('.mjs')).sort()).toEqual([...files.keys()].sort());
    for (const [name, code] of files) expect(readFileSync(`schemas/validators/${name}`, 'utf8') === code, name).toBe(true);
  });

  it('answer exactly as freshly compiled ones, errors included', async () => {
    const { ajvOptions, addLenientFormats } = await import('../../src/playbook/validate.js');
    const { loaderFragments } = await import('../../src/playbook/schema.js');
    const ajv = new Ajv2020Module.default(ajvOptions);
    addLenientFormats(ajv);
    // Keywords only: modules' arguments are checked by their specs (src/modules/spec/parse.ts).
    for (const [name, fragment] of Object.entries(loaderFragments())) {
      const pre = (await import(`../../schemas/validators/${name}.mjs`)) as { validate: ((d: unknown) => boolean) & { errors?: unknown } };
      const fresh = ajv.compile(fragment);
      const props = Object.keys((fragment.properties as Record<string, unknown> | undefined) ?? {});
      const samples: unknown[] = [
        {},
        { bogus: 1 },
        Object.fromEntries(props.map((p) => [p, '{{ v }}'])),
        Object.fromEntries(props.map((p) => [p, 12345])),
        Object.fromEntries(props.map((p) => [p, 'x'])),
        Object.fromEntries(props.map((p) => [p, [true, { a: 1 }]])),
      ];
      for (const sample of samples) {
        expect(pre.validate(sample), `${name} ${JSON.stringify(sample)}`).toBe(fresh(sample));
        expect(pre.validate.errors ?? null).toEqual(fresh.errors ?? null);
      }
    }
  });
});

describe('registered modules', () => {
  it('every module accepts templates for its parameters at load time', async () => {
    const { checkModuleArgs } = await import('../../src/playbook/validate.js');
    for (const m of allModules()) {
      // Every parameter as a template: only `required` or module-level rules may complain, never a type.
      const args = Object.fromEntries(Object.keys(m.schema.properties).map((k) => [k, '{{ v }}']));
      const { issues } = checkModuleArgs(m, args);
      expect(issues.filter((i) => ['E_TYPE', 'E_ENUM', 'E_PATTERN'].includes(i.code)), m.name).toEqual([]);
    }
  });
});

describe('shipped playbooks (playbooks/*.yml)', () => {
  const files = existsSync('playbooks') ? readdirSync('playbooks').filter((f) => /\.ya?ml$/.test(f)) : [];

  it.skipIf(files.length === 0)('validate against schemas/playbook.schema.json, as an editor sees them', () => {
    const ajv = new Ajv2020Module.default({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/playbook.schema.json', 'utf8')) as Record<string, unknown>);
    for (const f of files) expect(validate(yaml11(`playbooks/${f}`)), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
  });

  it.skipIf(files.length === 0)('load without errors with the registered modules', async () => {
    const { loadPlaybook } = await import('../../src/playbook/load.js');
    for (const f of files) {
      const pb = await loadPlaybook(`playbooks/${f}`).catch((e: { format?: () => string }) => {
        throw new Error(e.format ? e.format() : String(e));
      });
      expect(pb.plays.length, f).toBeGreaterThan(0);
    }
  });
});

describe('the editor schema says what the runner says (YAML 1.2, as yaml-language-server reads by default)', () => {
  // yaml-language-server is not installed here (no new npm dependencies): ajv on the shipped schema stands in for it.
  const shipped = JSON.parse(readFileSync('schemas/playbook.schema.json', 'utf8')) as {
    $defs: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
  };
  const ajv = new Ajv2020Module.default({ allErrors: true, strict: false });
  const editor = ajv.compile(shipped);
  const play = (body: string): string => `- hosts: all\n${body}`;
  const task = (lines: string): string => play(`  tasks:\n    - ${lines.split('\n').join('\n      ')}\n`);
  const table: [string, string, boolean][] = [
    ['become: yes, gather_facts: no on a play', play('  become: yes\n  gather_facts: no\n  tasks: []\n'), true],
    ['become: yes on a task', task('ping:\nbecome: yes'), true],
    ['ignore_errors: on', task('ping:\nignore_errors: on'), true],
    ['become: maybe', task('ping:\nbecome: maybe'), false],
    ['mode: 644 (decimal)', task('file: { path: /x, mode: 644 }'), false],
    ["mode: '0644'", task("file: { path: /x, mode: '0644' }"), true],
    ['mode: u=rw,go=r', task('file: { path: /x, mode: "u=rw,go=r" }'), true],
    ['copy mode: preserve', task('copy: { src: a, dest: /x, mode: preserve }'), true],
    ['copy mode: 644 (decimal)', task('copy: { src: a, dest: /x, mode: 644 }'), false],
    ['two modules in one task', task('ping:\ndebug: { msg: x }'), false],
    ['a task with no module', task('name: nothing\nbecome: true'), false],
    ['a block', task('block:\n  - ping:'), true],
    ['include_role', task('include_role: { name: r }'), true],
    ['throttle (an Ansible keyword vncplay lacks)', task('ping:\nthrottle: 2'), false],
    ['force_handlers on a play (an Ansible keyword vncplay lacks)', play('  force_handlers: true\n  tasks: []\n'), false],
    ['async and poll on a command', task('command: sleep 1\nasync: 10\npoll: 0'), true],
    ['vars_prompt on a play', play('  vars_prompt: [{ name: who, default: me }]\n  tasks: []\n'), true],
    ['debconf (an Ansible module vncplay lacks: run from ansible-core)', task('debconf: { name: x }'), true],
    ['set_stats (an Ansible action plugin vncplay lacks)', task('set_stats: { data: { x: 1 } }'), false],
    ['community.general.copy (no such module)', task('community.general.copy: { dest: /x, content: y }'), false],
    ['ansible.builtin.firewall (no such module)', task('ansible.builtin.firewall: {}'), false],
    ['vncplay.drill_event', task('vncplay.drill_event: { phase: t0 }'), true],
  ];
  it.each(table)('%s', (_what, text, ok) => {
    expect(editor(parse(text, { version: '1.2' })), JSON.stringify(editor.errors?.slice(0, 3))).toBe(ok);
  });

  it('the loader accepts and refuses the same table (it reads YAML 1.1)', async () => {
    const { loadPlaybook } = await import('../../src/playbook/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-schema-'));
    // What the good rows point to: copy's src `a`, the role `r`.
    writeFileSync(join(dir, 'a'), 'x');
    mkdirSync(join(dir, 'roles/r/tasks'), { recursive: true });
    writeFileSync(join(dir, 'roles/r/tasks/main.yml'), '- ping:\n');
    try {
      const loaderSays = await Promise.all(
        table.map(async ([, text], i) => {
          const file = join(dir, `p${i}.yml`);
          writeFileSync(file, text);
          return loadPlaybook(file).then(() => true, () => false);
        }),
      );
      expect(Object.fromEntries(table.map(([what], i) => [what, loaderSays[i]]))).toEqual(Object.fromEntries(table.map(([what, , ok]) => [what, ok])));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names Ansible keywords and modules vncplay lacks as such, not as typos', () => {
    const taskProps = shipped.$defs['task']!.properties!;
    expect(taskProps['throttle']).toMatchObject({ errorMessage: expect.stringMatching(/^`throttle` is an Ansible task keyword that vncplay does not support: /), doNotSuggest: true });
    expect(taskProps['set_stats']).toMatchObject({ errorMessage: expect.stringMatching(/^`set_stats` is an Ansible module vncplay does not implement yet \(Ansible runs ansible.builtin.set_stats\), and it is an action plugin/), doNotSuggest: true });
    expect(taskProps['ansible.builtin.set_stats']?.['errorMessage']).toMatch(/does not implement/);
    expect(taskProps['debconf']).toEqual({ description: expect.stringMatching(/^`debconf` is an Ansible module vncplay does not implement yet \(Ansible runs ansible.builtin.debconf\): it runs from the controller's ansible-core/) });
    expect(shipped.$defs['play']!.properties!['force_handlers']?.['errorMessage']).toMatch(/^`force_handlers` is an Ansible play keyword that vncplay does not support: remove it/);
    expect(taskProps['ansible.builtin.copy']).toEqual({ $ref: '#/$defs/module.copy' });
  });

  it('gives yaml-language-server the runner\'s reasons, where it reads them (checked in yaml-language-server 1.25)', () => {
    // It shows a deprecationMessage as it is, but says only "Matches a schema that is not allowed" for `not`.
    const taskProps = shipped.$defs['task']!.properties!;
    for (const name of ['throttle', 'debconf']) expect(taskProps[name]!['deprecationMessage'], name).toBe(taskProps[name]!['errorMessage']);
    // A task with no module: each "one action" alternative carries the loader's E_NO_MODULE words (a missing
    // `required` shows its schema's errorMessage, not "Missing property add_host").
    const task = shipped.$defs['task'] as unknown as { oneOf: Array<{ required: string[]; errorMessage?: string }> };
    expect(new Set(task.oneOf.map((b) => b.errorMessage))).toEqual(new Set(['task has no module: expected one module key such as `command:` or `debug:`']));
    // `mode: 644`: the number fails the outer type check, which is where the editor reads the errorMessage.
    for (const m of ['file', 'copy']) {
      const mode = shipped.$defs[`args.${m}`]!.properties!['mode']!;
      expect(mode, m).toMatchObject({ type: 'string', errorMessage: expect.stringMatching(/^a file mode is a quoted string/) });
    }
  });

  it('every module parameter, nested ones included, has a description', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'properties' && v && typeof v === 'object') {
          for (const [name, p] of Object.entries(v as Record<string, Record<string, unknown>>)) {
            if (typeof p['description'] !== 'string' || p['description'].trim() === '') missing.push(`${at}.${name}`);
            walk(p, `${at}.${name}`);
          }
        } else if (!['allOf', 'if', 'then', 'not'].includes(k)) walk(v, at); // cross-field rules name parameters, they define none
      }
    };
    const args = Object.entries(shipped.$defs).filter(([k]) => k.startsWith('args.'));
    for (const [name, def] of args) walk(def, name);
    expect(args.length).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it('completion offers parameters only: aliases and ignored ones are not suggested', () => {
    for (const m of allModules()) {
      const props = shipped.$defs[`args.${m.name}`]!.properties!;
      const offered = Object.keys(props).filter((k) => props[k]!['doNotSuggest'] !== true).sort();
      const real = Object.entries(m.spec.options).filter(([, p]) => p.ignored !== true).map(([k]) => k).sort();
      expect(offered, m.name).toEqual(real);
    }
    expect(Object.keys(shipped.$defs['args.systemd']!.properties!)).toContain('service');
  });
});

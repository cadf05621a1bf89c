import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { loadPlaybook, loadTaskFile } from '../../src/playbook/load.js';
import type { TaskDef } from '../../src/playbook/model.js';
import { testModules } from '../fixtures/playbooks/modules.js';
import { tempTree } from '../support/temp-tree.js';

const good = 'test/fixtures/playbooks/good';
const opts = { modules: testModules };

/** A task tree reduced to what a reader checks: where it came from, module, args, nesting. */
function shape(t: TaskDef): Record<string, unknown> {
  const out: Record<string, unknown> = { at: `${path.relative(good, t.pos.file)}:${t.pos.line}` };
  if (t.module) out.module = t.module;
  if (t.includeTasks !== undefined) out.include = t.includeTasks;
  if (t.includeRole !== undefined) out.includeRole = t.includeRole.name;
  for (const k of ['block', 'rescue', 'always'] as const) if (t[k]) out[k] = t[k]!.map(shape);
  return out;
}

const tmpPlaybook = (files: Record<string, string>): string => tempTree(files, 'vncplay-pb-');

async function errorsOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ErrorList) return e.errors.map((x) => `${x.code} ${x.pos?.line}:${x.pos?.col}`);
    throw e;
  }
  return [];
}

describe('loadPlaybook: good/site.yml', async () => {
  const pb = await loadPlaybook(`${good}/site.yml`, opts);
  const [base, vnc] = pb.plays;

  it('expands import_playbook in order, applying its tags and vars', () => {
    expect(pb.plays).toHaveLength(2);
    expect(base!.pos.file).toBe(`${good}/base.yml`);
    expect(base!.tags).toEqual(['base']);
    expect(base!.vars).toEqual({ from_import: true });
    expect(base!.gatherFacts).toBe(false);
    expect(base!.tasks.map(shape)).toEqual([{ at: 'base.yml:4', module: 'ping' }]);
  });

  it('fills every play field', () => {
    expect(vnc).toMatchObject({
      pos: { file: `${good}/site.yml`, line: 8, col: 3 },
      name: 'VNC servers',
      hosts: 'vnc:&linux',
      become: true, // YAML 1.1: yes is a boolean, as in Ansible
      gatherFacts: false,
      serial: [1, '50%'],
      maxFailPercentage: 25,
      strategy: 'free',
      vars: { display: 1, env: 'prod' },
      tags: [],
    });
  });

  it('reads vars_files: plain, templated from play vars, first-found list', () => {
    expect(vnc!.varsFiles).toEqual([{ user: 'vnc' }, { geometry: '1920x1080' }, { fallback: true }]);
  });

  it('loads roles with dependencies, defaults, vars, handlers, params, tags and when', () => {
    expect(vnc!.roleDefaults).toEqual({ geometry: '1024x768', vnc_port: 5901 });
    expect(vnc!.roleVars).toEqual({ vnc_unit: 'vncserver@.service' });
    expect(vnc!.roleTasks.map(shape)).toEqual([
      { at: 'roles/common/tasks/main.yml:1', module: 'ping' },
      { at: 'roles/vnc/tasks/main.yml:1', module: 'template' },
      { at: 'roles/vnc/tasks/service.yml:1', module: 'systemd' },
    ]);
    const [common, config, enable] = vnc!.roleTasks;
    expect(common!.role).toBe('common');
    expect(config).toMatchObject({
      role: 'vnc',
      tags: ['vnc'],
      when: ['manage_vnc | default(true)'],
      vars: { geometry: '1280x800' },
      notify: ['restart vnc'],
      args: { src: 'config.j2', dest: '/etc/vnc.conf' },
    });
    expect(config!.searchDirs).toEqual([`${good}/roles/vnc`, good]);
    expect(enable).toMatchObject({ role: 'vnc', args: { name: 'vncserver@:1', enabled: true } });
    expect(vnc!.handlers.map((h) => [h.name, h.role, h.listen])).toEqual([
      ['restart vnc', 'vnc', []],
      ['reload', undefined, ['reload units']],
    ]);
  });

  it('builds blocks with rescue/always and expands import_tasks inside them with the import keywords', () => {
    expect(vnc!.preTasks.map(shape)).toEqual([{ at: 'site.yml:28', module: 'command' }]);
    expect(vnc!.preTasks[0]).toMatchObject({ args: { cmd: 'df -h /' }, changedWhen: [false] });
    const block = vnc!.tasks[0]!;
    expect(shape(block)).toEqual({
      at: 'site.yml:32',
      block: [
        { at: 'site.yml:34', module: 'systemd' },
        { at: 'tasks/locks.yml:1', module: 'file' },
        { at: 'tasks/locks.yml:5', module: 'file' },
      ],
      rescue: [{ at: 'site.yml:42', module: 'debug' }],
      always: [{ at: 'site.yml:44', module: 'meta' }],
    });
    expect(block).toMatchObject({ name: 'stop and restart', when: ['restart | bool'], becomeUser: 'root' });
    expect(block.module).toBeUndefined();
    expect(block.block![0]!.args).toEqual({ name: 'vncserver@:{{ display }}', state: 'stopped' });
    expect(block.block![1]).toMatchObject({ tags: ['locks'], when: ['clear_locks'] });
    expect(block.block![2]).toMatchObject({ tags: ['locks', 'socket'], when: ['clear_locks'] });
    expect(block.rescue![0]!.args).toEqual({ msg: 'stop failed' });
    expect(block.always![0]!.args).toEqual({ action: 'flush_handlers' });
  });

  it('keeps include_tasks for the runner, in both forms', () => {
    expect(vnc!.tasks[1]).toMatchObject({ includeTasks: 'tasks/locks.yml', loop: [1, 2], args: { file: 'tasks/locks.yml' } });
    expect(vnc!.tasks[2]).toMatchObject({ includeTasks: 'tasks/locks.yml' });
    expect(vnc!.tasks[1]!.module).toBeUndefined();
  });

  it('maps every task keyword', () => {
    const t = vnc!.tasks[3]!;
    expect(t).toEqual({
      pos: { file: `${good}/site.yml`, line: 51, col: 7 },
      name: 'loop with control',
      module: 'debug',
      action: 'debug',
      args: { msg: '{{ d }}' },
      loop: '{{ displays }}',
      loopPos: { file: `${good}/site.yml`, line: 54, col: 13 },
      loopVar: 'd',
      loopLabel: 'display {{ d }}',
      loopControl: { loop_var: 'd', label: 'display {{ d }}' },
      register: 'out',
      notify: ['restart vnc', 'reload'],
      failedWhen: ['out.rc != 0', 'not ignore'],
      retries: 3,
      delay: 2,
      until: ['out is success'],
      ignoreErrors: '{{ lenient }}',
      tags: ['a', 'b'],
      checkMode: false,
      delegateTo: 'localhost',
      delegateToPos: { file: `${good}/site.yml`, line: 69, col: 20 },
      runOnce: true,
      noLog: true,
      environment: [{ LANG: 'C' }],
      vars: { local: 1 },
      listen: [],
      searchDirs: [good],
    });
  });

  it('parses key=value strings with types from the module schema, with_items, and args:', () => {
    expect(vnc!.tasks[4]).toMatchObject({
      module: 'file',
      args: { path: '/tmp/{{ item }}', state: 'touch', mode: '0644' },
      loop: ['a', 'b'],
      loopWith: 'items',
    });
    expect(vnc!.tasks[5]).toMatchObject({ module: 'command', args: { cmd: 'ls -l', chdir: '/tmp' } });
    expect(vnc!.postTasks[0]).toMatchObject({ module: 'wait_for', args: { port: 5901, timeout: 10 } });
    expect(vnc!.handlers[1]!.args).toEqual({ daemon_reload: true });
  });
});

describe('loadPlaybook: details', () => {
  it('accepts templates wherever a number, boolean, list or enum is expected', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - wait_for: {port: "{{ p }}", timeout: "{{ t | int }}"}',
        '      retries: "{{ n }}"',
        '      loop: "{{ items }}"',
        '      become: "{{ b }}"',
        '    - systemd: {name: x, state: "{{ wanted }}", enabled: "{{ e }}"}',
        '',
      ].join('\n'),
    });
    const pb = await loadPlaybook(path.join(dir, 'p.yml'), opts);
    expect(pb.plays[0]!.tasks[1]!.args).toEqual({ name: 'x', state: '{{ wanted }}', enabled: '{{ e }}' });
  });

  it('applies when: of an import_playbook entry to every task of the imported plays', async () => {
    const dir = tmpPlaybook({
      'p.yml': '- import_playbook: q.yml\n  when: enabled\n',
      'q.yml': '- hosts: all\n  tasks:\n    - ping:\n      when: other\n',
    });
    const play = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!;
    expect(play.tasks[0]!.when).toEqual(['enabled', 'other']);
  });

  it('does not rule out a notify when a handler name is a template', async () => {
    const dir = tmpPlaybook({
      'p.yml': '- hosts: all\n  vars: {svc: vnc}\n  tasks:\n    - ping:\n      notify: restart vnc\n  handlers:\n    - name: "restart {{ svc }}"\n      ping:\n',
    });
    expect((await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!.handlers).toHaveLength(1);
  });

  it('keeps a templated max_fail_percentage for the runner', async () => {
    const dir = tmpPlaybook({ 'p.yml': '- hosts: all\n  max_fail_percentage: "{{ mfp | default(0) }}"\n  tasks: []\n' });
    const play = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!;
    expect(play.maxFailPercentage).toBeUndefined();
    expect(play.maxFailPercentageTemplate).toBe('{{ mfp | default(0) }}');
  });

  it('resolves vars_files templates from extra vars before play vars', async () => {
    const dir = tmpPlaybook({
      'p.yml': '- hosts: all\n  vars: {env: dev}\n  vars_files: ["{{ env }}.yml"]\n  tasks: []\n',
      'dev.yml': 'which: dev\n',
      'prod.yml': 'which: prod\n',
    });
    expect((await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!.varsFiles).toEqual([{ which: 'dev' }]);
    const pb = await loadPlaybook(path.join(dir, 'p.yml'), { ...opts, extraVars: { env: 'prod' } });
    expect(pb.plays[0]!.varsFiles).toEqual([{ which: 'prod' }]);
  });

  it('treats `command:` free-form text verbatim unless it holds the module\'s own key=value options', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        `    - shell: echo "a  b" | grep -c 'a  b' > /tmp/x=1`,
        '    - command: creates=/tmp/done chdir=/srv make install PREFIX=/usr',
        '    - debug: msg="hello {{ name | default(\'you\') }}" verbosity=1',
        '    - shell: |',
        '        cd /srv',
        '        make  install   chdir=/tmp',
        '        echo done',
        '',
      ].join('\n'),
    });
    const [a, b, c, d] = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!.tasks;
    expect(a!.args).toEqual({ cmd: `echo "a  b" | grep -c 'a  b' > /tmp/x=1` });
    expect(b!.args).toEqual({ creates: '/tmp/done', chdir: '/srv', cmd: 'make install PREFIX=/usr' });
    expect(c!.args).toEqual({ msg: "hello {{ name | default('you') }}", verbosity: 1 });
    expect(d!.args).toEqual({ chdir: '/tmp', cmd: 'cd /srv\nmake  install   \necho done' });
  });

  it('reports an import cycle instead of looping', async () => {
    const dir = tmpPlaybook({
      'p.yml': '- hosts: all\n  tasks:\n    - import_tasks: a.yml\n',
      'a.yml': '- import_tasks: b.yml\n',
      'b.yml': '- import_tasks: a.yml\n',
      'q.yml': '- import_playbook: q.yml\n',
    });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual(['E_IMPORT_CYCLE 1:17']);
    expect(await errorsOf(loadPlaybook(path.join(dir, 'q.yml'), opts))).toEqual(['E_IMPORT_CYCLE 1:20']);
  });

  it('refuses a templated import_tasks, rescue without block, listen outside handlers, loop with with_items', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - import_tasks: "{{ f }}.yml"',
        '    - ping:',
        '      rescue: []',
        '      listen: x',
        '    - ping:',
        '      loop: [1]',
        '      with_items: [2]',
        '',
      ].join('\n'),
    });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual([
      'E_STATIC_TEMPLATE 3:21',
      'E_UNKNOWN_KEY 5:7',
      'E_UNKNOWN_KEY 6:7',
      'E_LOOP_TWICE 9:7',
    ]);
  });

  it('takes with_<lookup> for every lookup vncplay has; an unknown one is named at its key, with the nearest', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - ping:',
        '      with_subelement: [[], k]',
        '    - ping:',
        '      with_nosuchlookup: [1]',
        '    - ping:',
        '      with_dict: {a: 1}',
        '      with_items: [2]',
        '    - ping:',
        '      with_sequence: "start=1 end={{ n }"',
        '    - ping:',
        '      with_community.general.flattened: [[1]]',
        '    - ping:',
        '      with_ansible.builtin.together: [[1], [2]]',
        '    - debug:',
        '        msg: "{{ query(\'nosuch\', 1) }}"',
        '    - block: [{ ping: }]',
        '      with_items: [1]',
        '',
      ].join('\n'),
    });
    const err = await loadPlaybook(path.join(dir, 'p.yml'), opts).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorList);
    const all = (err as ErrorList).errors;
    expect(all.map((e) => `${e.code} ${e.pos?.line}:${e.pos?.col}`)).toEqual(['E_UNKNOWN_LOOKUP 4:7', 'E_UNKNOWN_LOOKUP 6:7', 'E_LOOP_TWICE 9:7', 'E_TEMPLATE_SYNTAX 11:22', 'E_TEMPLATE_LOOKUP 17:14', 'E_BLOCK_LOOP 19:7']);
    expect(all[0]!.message).toBe('`with_subelement`: vncplay has no lookup named `subelement`');
    expect(all[0]!.hint).toBe('did you mean `with_subelements`?');
    expect(all[1]!.hint).toMatch(/known lookups: .*first_found.*subelements/);
    expect(all[4]!.message).toMatch(/no lookup named 'nosuch'/);
  });

  it('keeps loading after a duplicate key so later errors show too', async () => {
    const dir = tmpPlaybook({ 'p.yml': '- hosts: all\n  hosts: web\n  tasks:\n    - pnig:\n' });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual(['E_DUPLICATE_KEY 2:3', 'E_UNKNOWN_MODULE 4:7']);
  });

  it('accepts the FQCNs Ansible has for a module, following its redirects', async () => {
    const dir = tmpPlaybook({
      'p.yml': '- hosts: all\n  tasks:\n    - ansible.builtin.command: ls\n    - ansible.builtin.systemd_service: {name: x}\n',
    });
    const t = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!.tasks;
    expect(t.map((x) => x.module)).toEqual(['command', 'systemd']);
  });
});

describe('loadTaskFile (include_tasks at run time)', () => {
  it('loads relative to the including file, then the playbook folder, with the same validation', async () => {
    const tasks = await loadTaskFile('tasks/locks.yml', { playbookDir: good, fromFile: `${good}/site.yml`, modules: testModules });
    expect(tasks.map((t) => [t.module, t.args.state])).toEqual([['file', 'absent'], ['file', 'absent']]);
    expect(tasks[1]!.tags).toEqual(['socket']);
  });

  it('passes the role and searchDirs of the including task on', async () => {
    const pb = await loadPlaybook(`${good}/site.yml`, opts);
    const from = pb.plays[1]!.roleTasks[1]!;
    const tasks = await loadTaskFile('service.yml', { playbookDir: good, includedFrom: from, modules: testModules });
    expect(tasks[0]).toMatchObject({ role: 'vnc', searchDirs: from.searchDirs, module: 'systemd' });
  });

  it('fails with positioned errors', async () => {
    const bad = 'test/fixtures/playbooks/bad';
    expect(await errorsOf(loadTaskFile('tasks/broken.yml', { playbookDir: bad, modules: testModules }))).toEqual(['E_TYPE 6:14']);
    expect(await errorsOf(loadTaskFile('nope.yml', { playbookDir: bad, modules: testModules }))).toEqual(['E_MISSING_FILE undefined:undefined']);
  });
});

describe('roles: import_role, include_role, dedupe', () => {
  it('runs a role once per play, expands import_role with its keywords, keeps include_role a task of its own', async () => {
    const pb = await loadPlaybook(`${good}/role-imports.yml`, opts);
    const play = pb.plays[0]!;
    // common (listed), then vnc's dependency common again is deduplicated, vnc, and the second vnc skipped.
    expect(play.roleTasks.map(shape)).toEqual([
      { at: 'roles/common/tasks/main.yml:1', module: 'ping' },
      { at: 'roles/vnc/tasks/main.yml:1', module: 'template' },
      { at: 'roles/vnc/tasks/service.yml:1', module: 'systemd' },
    ]);
    expect(play.tasks.map(shape)).toEqual([
      { at: 'roles/vnc/tasks/restart.yml:1', module: 'systemd' },
      { at: 'role-imports.yml:14', includeRole: 'common' },
    ]);
    expect(play.tasks[0]).toMatchObject({ role: 'vnc', tags: ['restart'], when: ['do_restart'], args: { state: 'restarted' } });
    expect(play.tasks[1]).toMatchObject({ action: 'ansible.builtin.include_role', vars: { x: 1 } });
    expect(play.handlers.map((h) => h.name)).toEqual(['restart vnc', 'restart vnc']);
    expect(play.roleDefaults).toEqual({ geometry: '1024x768', vnc_port: 5901 });
  });

  it('refuses a templated import_role name, a looped import_role, a missing role and tasks_from', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - import_role: {name: "{{ r }}"}',
        '    - import_role: {name: x}',
        '      loop: [1]',
        '    - import_role: {name: nope, tasks_form: x}',
        '',
      ].join('\n'),
    });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual([
      'E_STATIC_TEMPLATE 3:27',
      'E_IMPORT_LOOP 4:7',
      'E_ROLE_NOT_FOUND 4:27',
      'E_ROLE_NOT_FOUND 6:27',
      'E_UNKNOWN_KEY 6:33',
    ]);
  });
});

describe('unreadable playbooks', () => {
  it('a missing or unreadable playbook is a PlaybookError, not a raw ENOENT', async () => {
    expect(await errorsOf(loadPlaybook('test/fixtures/playbooks/nope.yml', opts))).toEqual(['E_MISSING_FILE undefined:undefined']);
    expect(await errorsOf(loadPlaybook('test/fixtures/playbooks/good', opts))).toEqual(['E_READ undefined:undefined']);
  });
});

describe('older task forms', () => {
  it('action: and local_action: select the module, as string or mapping', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  tasks:',
        '    - action: command ls -l chdir=/tmp',
        '    - local_action: {module: file, path: /tmp/x, state: touch}',
        '    - local_action: ping',
        '    - action: servce name=x',
        '',
      ].join('\n'),
    });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual(['E_UNKNOWN_MODULE 6:15']);
    writeFileSync(path.join(dir, 'q.yml'), '- hosts: all\n  tasks:\n    - action: command ls -l chdir=/tmp\n    - local_action: {module: file, path: /tmp/x, state: touch}\n    - local_action: ping\n');
    const [a, b, c] = (await loadPlaybook(path.join(dir, 'q.yml'), opts)).plays[0]!.tasks;
    expect(a).toMatchObject({ module: 'command', args: { cmd: 'ls -l', chdir: '/tmp' } });
    expect(a!.delegateTo).toBeUndefined();
    expect(b).toMatchObject({ module: 'file', args: { path: '/tmp/x', state: 'touch' }, delegateTo: 'localhost' });
    expect(c).toMatchObject({ module: 'ping', args: {}, delegateTo: 'localhost' });
  });
});

describe('play-level task keywords', () => {
  it('environment, no_log, check_mode and ignore_errors on the play reach every task that does not set its own', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  environment: {LANG: C}',
        '  no_log: true',
        '  check_mode: "{{ dry }}"',
        '  pre_tasks: [{ping: }]',
        '  tasks:',
        '    - ping:',
        '      no_log: false',
        '      environment: {A: "1"}',
        '  handlers:',
        '    - name: h',
        '      ping:',
        '',
      ].join('\n'),
    });
    const play = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!;
    expect(play.preTasks[0]).toMatchObject({ environment: [{ LANG: 'C' }], noLog: true, checkMode: '{{ dry }}' });
    // Ansible merges environment layers (the task's own wins per variable) rather than replacing the play's.
    expect(play.tasks[0]).toMatchObject({ environment: [{ LANG: 'C' }, { A: '1' }], noLog: false, checkMode: '{{ dry }}' });
    expect(play.handlers[0]).toMatchObject({ noLog: true });
    expect(play.tasks[0]!.ignoreErrors).toBeUndefined();
  });
});

describe('loadTaskFile from a role file without the including task', () => {
  it('infers the role and its searchDirs from roles/NAME/tasks/', async () => {
    const tasks = await loadTaskFile('service.yml', { playbookDir: good, fromFile: `${good}/roles/vnc/tasks/main.yml`, modules: testModules });
    expect(tasks[0]).toMatchObject({ role: 'vnc', searchDirs: [`${good}/roles/vnc`, good], module: 'systemd' });
  });
});

describe('connection keywords and order', () => {
  it('remote_user, connection and become_method on the play reach its tasks and fact gathering; a task or block sets its own', async () => {
    const dir = tmpPlaybook({
      'p.yml': [
        '- hosts: all',
        '  order: reverse_sorted',
        '  remote_user: deploy',
        '  connection: ssh',
        '  become_method: sudo',
        '  tasks:',
        '    - ping:',
        '    - block:',
        '        - ping:',
        '      remote_user: "{{ admin }}"',
        '      connection: local',
        '',
      ].join('\n'),
    });
    const play = (await loadPlaybook(path.join(dir, 'p.yml'), opts)).plays[0]!;
    expect(play.order).toBe('reverse_sorted');
    expect(play.taskKeywords).toMatchObject({ remoteUser: 'deploy', connection: 'ssh', becomeMethod: 'sudo' });
    expect(play.tasks[0]).toMatchObject({ remoteUser: 'deploy', connection: 'ssh', becomeMethod: 'sudo' });
    // The block keeps its own; the runner hands them to the block's tasks (runner/play.ts inherit).
    expect(play.tasks[1]).toMatchObject({ remoteUser: '{{ admin }}', connection: 'local', becomeMethod: 'sudo' });
  });

  it('become_method other than sudo or su, an unknown connection and an unknown order are refused at load, positioned', async () => {
    const dir = tmpPlaybook({
      'p.yml': ['- hosts: all', '  order: random', '  tasks:', '    - ping:', '      become_method: doas', '    - ping:', '      connection: paramiko', '    - ping:', '      become_method: su', ''].join('\n'),
    });
    expect(await errorsOf(loadPlaybook(path.join(dir, 'p.yml'), opts))).toEqual(['E_ENUM 2:10', 'E_ENUM 5:22', 'E_ENUM 7:19']);
  });
});

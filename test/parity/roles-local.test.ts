import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../support/temp-tree.js';
import type { RunEvent } from '../../src/runner/events.js';
import { ansiblePlaybook, vncplay, type CliRun } from '../support/cli-helpers.js';

type TaskResult = Extract<RunEvent, { type: 'task_result' }>;

/**
 * Issue 16, roles and includes, side by side with ansible-playbook (Debian's 2.14) on a local play: where roles are
 * found (sub-paths, roles_path, collections), which files a role's includes reach, and what --list-tasks and the
 * recap show. The role trees are small copies of the geerlingguy.* layout: tasks/main.yml including
 * setup-{{ ansible_os_family }}.yml, handlers, defaults, vars, meta.
 */

const inventory = 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';

/**
 * The controller's collections hidden from vncplay (an empty collections path, Python's sys.path not scanned): pacman,
 * which vncplay does not implement, then cannot run from community.general either.
 */
const withoutCollections = { ANSIBLE_COLLECTIONS_PATH: '/nonexistent/vncplay-collections', ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'false' };

/** A web role as public roles write it: OS-specific setup files, some for platforms vncplay has no modules for. */
const webRole: Record<string, string> = {
  'roles/web/tasks/main.yml': [
    '- name: Include OS-specific setup',
    '  include_tasks: "setup-{{ ansible_os_family }}.yml"',
    '- include_tasks: setup-RedHat.yml',
    "  when: ansible_os_family == 'RedHat'",
    '- name: configure',
    '  debug: msg="port {{ web_port }} user {{ web_user }}"',
    '  changed_when: true',
    '  notify: restart web',
    '- debug: msg=unnamed',
    '',
  ].join('\n'),
  'roles/web/tasks/setup-Debian.yml': '- name: debian setup\n  debug: msg=debian\n',
  'roles/web/tasks/setup-Archlinux.yml': '- name: arch setup\n  pacman: name=nginx state=present\n',
  'roles/web/tasks/setup-RedHat.yml': '- name: redhat setup\n  yum: name=nginx state=present\n',
  'roles/web/tasks/restart.yml': '- name: restarting web\n  debug: msg=restarting\n',
  // Ansible looks for a role handler's include in the role's tasks/.
  'roles/web/handlers/main.yml': '- name: restart web\n  include_tasks: restart.yml\n',
  'roles/web/defaults/main.yml': 'web_port: 80\n',
  'roles/web/vars/main.yml': 'web_user: www\n',
  'roles/web/meta/main.yml': 'galaxy_info: {author: test}\ndependencies: []\n',
};

function project(files: Record<string, string>): string {
  return tempTree({ inv: inventory, ...files }, 'vncplay-roles-');
}

/** The task lines of --list-tasks (the header names the playbook file, which is the same for both). */
function listed(run: CliRun): string[] {
  return run.stdout.split('\n').filter((l) => /^ {6}\S/.test(l));
}

async function bothListTasks(dir: string, playbook: string, env: NodeJS.ProcessEnv = {}): Promise<{ ours: CliRun; theirs: CliRun }> {
  const ours = await vncplay(['-i', 'inv', playbook, '--list-tasks'], { cwd: dir, env });
  const theirs = await ansiblePlaybook(['-i', 'inv', playbook, '--list-tasks'], { cwd: dir, env });
  expect(theirs.code, theirs.stderr).toBe(0);
  expect(ours.code, ours.stderr).toBe(0);
  return { ours, theirs };
}

describe('where roles are found, as ansible-playbook finds them', () => {
  it('a sub-path (dns/bind), roles_path from ansible.cfg, a meta dependency beside its role, collection roles: the same --list-tasks', async () => {
    const dir = project({
      'roles/dns/config-dns-server-bind/tasks/main.yml': '- name: bind\n  debug: msg=bind\n',
      'roles/dns/config-dns-server-bind/meta/main.yml': 'dependencies: [dns-common]\n',
      // Found beside the depending role (Ansible's role_basedir), not under roles/.
      'roles/dns/dns-common/tasks/main.yml': '- name: common\n  debug: msg=common\n',
      'ansible.cfg': '[defaults]\nroles_path = ./shared-roles\n',
      'shared-roles/team/base/tasks/main.yml': '- name: base\n  debug: msg=base\n',
      'collections/ansible_collections/acme/tools/roles/hello/tasks/main.yml': '- name: hello from a collection\n  debug: msg=coll\n',
      'elsewhere/ansible_collections/acme/extra/roles/short/tasks/main.yml': '- name: short name through collections\n  debug: msg=short\n',
      'pb.yml': [
        '- hosts: localhost',
        '  collections: [acme.extra]',
        '  roles:',
        '    - role: dns/config-dns-server-bind',
        '    - team/base',
        '    - acme.tools.hello',
        '    - short',
        '  tasks:',
        '    - import_role: {name: acme.tools.hello}',
        '      vars: {again: true}',
        '',
      ].join('\n'),
    });
    const env = { ANSIBLE_COLLECTIONS_PATH: path.join(dir, 'elsewhere') };
    const { ours, theirs } = await bothListTasks(dir, 'pb.yml', env);
    expect(listed(ours)).toEqual(listed(theirs));
    expect(listed(ours)).toEqual([
      '      dns-common : common\tTAGS: []',
      '      dns/config-dns-server-bind : bind\tTAGS: []',
      '      team/base : base\tTAGS: []',
      '      acme.tools.hello : hello from a collection\tTAGS: []',
      '      acme.extra.short : short name through collections\tTAGS: []',
      '      acme.tools.hello : hello from a collection\tTAGS: []',
    ]);
  });

  it('roles_path also reaches roles named in a file include_tasks loads when it runs', async () => {
    const dir = project({
      'ansible.cfg': '[defaults]\nroles_path = ./shared-roles\n',
      'shared-roles/team/base/tasks/main.yml': '- name: base\n  debug: msg="base {{ level }}"\n',
      'shared-roles/team/base/defaults/main.yml': 'level: default\n',
      'more.yml': '- include_role: {name: team/base}\n- import_role: {name: team/base}\n',
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: more.yml\n',
    });
    const ours = await vncplay(['-i', 'inv', 'pb.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(ours.code, ours.stderr + ours.stdout).toBe(0);
    expect(msgs(ours.stdout)).toEqual(msgs(theirs.stdout));
    expect(msgs(ours.stdout)).toEqual(['"base default"', '"base default"']);
    expect(ours.recap).toEqual(theirs.recap);
  });

  it('a role that is nowhere: positioned, the places looked in, and the nearest sub-path role', async () => {
    const dir = project({
      'roles/dns/config-dns-server-bind/tasks/main.yml': '- name: bind\n  debug: msg=bind\n',
      'pb.yml': '- hosts: localhost\n  roles:\n    - role: dns/config-dns-server-bnd\n',
    });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^pb\.yml:3:13: error\[E_ROLE_NOT_FOUND\]: role `dns\/config-dns-server-bnd` not found/m);
    expect(run.stderr).toMatch(/hint: did you mean `dns\/config-dns-server-bind`\? \(looked in roles\/dns\/config-dns-server-bnd, /);
  });
});

describe('a role that includes files for other platforms (geerlingguy layout)', () => {
  it("loads with a warning for setup-Archlinux.yml (setup-RedHat.yml's yum is a module vncplay has), runs on this host with the same recap as Ansible", async () => {
    // A playbook beside it that the templated name also matches is not one of the role's files: not checked.
    const dir = project({ ...webRole, 'pb.yml': '- hosts: localhost\n  roles:\n    - web\n', 'setup-site.yml': '- hosts: all\n  tasks: []\n' });
    const ours = await vncplay(['-i', 'inv', 'pb.yml'], { cwd: dir, env: withoutCollections });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(ours.code, ours.stderr + ours.stdout).toBe(0);
    expect(ours.recap['localhost']).toEqual(theirs.recap['localhost']);
    expect(ours.recap['localhost']).toMatchObject({ ok: 7, changed: 1, skipped: 1 });
    const warnings = ours.stderr.split('\n').filter((l) => l.startsWith('[WARNING]'));
    expect(warnings).toEqual([
      expect.stringMatching(/^\[WARNING\]: roles\/web\/tasks\/setup-Archlinux\.yml:2:3: `pacman` is an Ansible module vncplay does not implement yet.*a host that runs it fails there\)$/),
    ]);
    // The handler's include_tasks found restart.yml in the role's tasks/ and ran it as a handler.
    expect(ours.stdout).toMatch(/RUNNING HANDLER \[web : restarting web\]/);
  });

  it('--list-tasks lists the includes, not their files, as Ansible does', async () => {
    const dir = project({ ...webRole, 'pb.yml': '- hosts: localhost\n  roles:\n    - web\n' });
    const { ours, theirs } = await bothListTasks(dir, 'pb.yml');
    expect(listed(ours)).toEqual(listed(theirs));
    expect(listed(ours)).toEqual([
      '      web : Include OS-specific setup\tTAGS: []',
      '      include_tasks\tTAGS: []',
      '      web : configure\tTAGS: []',
      '      debug\tTAGS: []',
    ]);
  });

  it('a host whose facts pick the broken file fails at the include, positioned in that file (exit 2)', async () => {
    const dir = project({
      ...webRole,
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  vars: {ansible_os_family: Archlinux}\n  roles:\n    - web\n',
    });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--json'], { cwd: dir, env: withoutCollections });
    expect(run.code).toBe(2);
    const failed = run.events.filter((e): e is TaskResult => e.type === 'task_result' && e.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.task).toMatchObject({ name: 'web : Include OS-specific setup' });
    expect(failed[0]!.msg).toMatch(/^roles\/web\/tasks\/setup-Archlinux\.yml:2:3: error\[E_MODULE_NOT_IMPLEMENTED\]: `pacman` is an Ansible module vncplay does not implement yet/);
  });

  it('an unconditional literal include of a broken file is still an error before the run', async () => {
    const dir = project({
      ...webRole,
      'pb.yml': '- hosts: localhost\n  tasks:\n    - include_tasks: roles/web/tasks/setup-Archlinux.yml\n',
    });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir, env: withoutCollections });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^roles\/web\/tasks\/setup-Archlinux\.yml:2:3: error\[E_MODULE_NOT_IMPLEMENTED\]/m);
  });
});

/**
 * The task headers a run shows (ansible-playbook's TASK/RUNNING HANDLER lines; ours look the same), in order. A
 * header repeated right after itself is kept once: ansible-playbook repeats it for each item of a looped include_role,
 * vncplay shows one task once.
 */
function headers(stdout: string): string[] {
  const all = [...stdout.matchAll(/^(?:TASK|RUNNING HANDLER) \[(.*)\] \*+$/gm)].map((m) => m[0].replace(/ \*+$/, ''));
  return all.filter((h, i) => h !== all[i - 1]);
}

/** The `"msg": …` lines of a text run, in order. */
function msgs(stdout: string): string[] {
  return [...stdout.matchAll(/^ {4}"msg": (.*)$/gm)].map((m) => m[1]!);
}

describe('include_role is dynamic, as in ansible-playbook', () => {
  const files = {
    ...webRole,
    'roles/web/tasks/extra.yml': '- name: extra task\n  debug: msg="extra {{ web_port }}"\n  changed_when: true\n  notify: restart web\n',
    'roles/dns/config-dns-server-bind/tasks/main.yml': '- name: bind\n  debug: msg="bind {{ bind_zone }}"\n',
    'roles/dns/config-dns-server-bind/defaults/main.yml': 'bind_zone: example.org\n',
    'pb.yml': [
      '- hosts: localhost',
      '  gather_facts: false',
      '  vars:',
      '    which: extra',
      '    public_role: true',
      '  tasks:',
      '    - name: templated name, tasks_from and public',
      '      include_role:',
      '        name: "{{ \'web\' }}"',
      '        tasks_from: "{{ which }}"',
      '        public: "{{ public_role }}"',
      '    - name: public role vars are visible after it',
      '      debug: msg="{{ web_port }} {{ web_user }}"',
      '    - include_role: {name: web, tasks_from: extra}',
      '      when: false',
      '    - name: private',
      '      include_role: {name: dns/config-dns-server-bind}',
      '      tags: [t1]',
      '    - name: private role vars are not',
      '      debug: msg="{{ bind_zone | default(\'unset\') }}"',
      '    - name: looped',
      '      include_role: {name: dns/config-dns-server-bind}',
      '      vars: {bind_zone: "{{ item }}"}',
      '      loop: [a.example, b.example]',
      '',
    ].join('\n'),
  };

  it('--list-tasks lists each include_role itself, not its tasks, as Ansible does', async () => {
    const dir = project(files);
    const { ours, theirs } = await bothListTasks(dir, 'pb.yml');
    expect(listed(ours)).toEqual(listed(theirs));
    expect(listed(ours)).toContain('      include_role\tTAGS: []');
  });

  it('a named include_role inside a role is listed and shown by its name alone, as Ansible does (IncludeRole.get_name)', async () => {
    const dir = project({
      'roles/outer/tasks/main.yml': '- name: outer work\n  debug: msg=outer\n- name: bring in the inner role\n  include_role: {name: inner}\n',
      'roles/inner/tasks/main.yml': '- name: inner work\n  debug: msg=inner\n',
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  roles: [outer]\n',
      inv: inventory,
    });
    const { ours, theirs } = await bothListTasks(dir, 'pb.yml');
    expect(listed(ours)).toEqual(listed(theirs));
    expect(listed(ours)).toContain('      bring in the inner role\tTAGS: []');
    const ran = await vncplay(['-i', 'inv', 'pb.yml', '--no-color'], { cwd: dir });
    const theirsRan = await ansiblePlaybook(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(headers(ran.stdout)).toEqual(headers(theirsRan.stdout));
    expect(headers(ran.stdout)).toContain('TASK [bring in the inner role]');
  });

  it('runs with the same tasks, messages and recap: templated arguments, public and private variables, handlers, a loop', async () => {
    const dir = project(files);
    const ours = await vncplay(['-i', 'inv', 'pb.yml', '--no-color'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stderr + ours.stdout).toBe(0);
    expect(headers(ours.stdout)).toEqual(headers(theirs.stdout));
    expect(msgs(ours.stdout)).toEqual(msgs(theirs.stdout));
    expect(msgs(ours.stdout)).toEqual(['"extra 80"', '"80 www"', '"bind example.org"', '"unset"', '"bind a.example"', '"bind b.example"', '"restarting"']);
    expect(ours.recap).toEqual(theirs.recap);
  });

  it('a handler may not be an include_role, as ansible-playbook refuses it', async () => {
    const dir = project({
      ...files,
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - name: change',
        '      debug: msg=changing',
        '      changed_when: true',
        '      notify: reconfigure dns',
        '  handlers:',
        '    - name: reconfigure dns',
        '      include_role: {name: dns/config-dns-server-bind}',
        '',
      ].join('\n'),
    });
    const ours = await vncplay(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir });
    expect(theirs.stderr).toMatch(/Using 'include_role' as a handler is not supported/);
    expect(ours.code).toBe(4);
    expect(ours.stderr).toMatch(/^pb\.yml:10:7: error\[E_HANDLER_INCLUDE_ROLE\]: using 'include_role' as a handler is not supported/m);
  });

  it('a role that a host names but that is nowhere fails that host at the include_role, positioned (exit 2)', async () => {
    const dir = project({ ...files, 'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_role: {name: "{{ \'nothere\' }}"}\n' });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--json'], { cwd: dir });
    expect(run.code).toBe(2);
    const failed = run.events.filter((e): e is TaskResult => e.type === 'task_result' && e.status === 'failed');
    expect(failed.map((e) => e.msg)).toEqual([expect.stringMatching(/^pb\.yml:4:7: error\[E_ROLE_NOT_FOUND\]: role `nothere` not found/)]);
  });

  it('an undefined variable in the tasks of a role named literally is still found before the run (exit 4); its defaults count', async () => {
    const dir = project({
      ...files,
      'roles/dns/config-dns-server-bind/tasks/main.yml': '- name: bind\n  debug: msg="bind {{ bind_zone }} {{ bind_typo }}"\n',
      'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_role: {name: dns/config-dns-server-bind}\n',
    });
    const run = await vncplay(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(run.code).toBe(4);
    expect([...run.stderr.matchAll(/error\[(\w+)\]: (.*)/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([expect.stringMatching(/^E_TEMPLATE_UNDEFINED .*'bind_typo'/)]);
    expect(run.stderr).toMatch(/^roles\/dns\/config-dns-server-bind\/tasks\/main\.yml:2:\d+: error\[E_TEMPLATE_UNDEFINED\]/m);
  });

  it('import_role stays static: a templated name is refused at load with a hint to include_role', async () => {
    const dir = project({ ...files, 'pb.yml': '- hosts: localhost\n  tasks:\n    - import_role: {name: "{{ r }}"}\n' });
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^pb\.yml:3:27: error\[E_STATIC_TEMPLATE\]: .*\nhint: use include_role/ms);
  });
});

describe('the old `include:`, as Ansible 2.14 does it', () => {
  const files = {
    'inc.yml': '- name: inc task\n  debug: msg="inc {{ x | default(0) }}"\n',
    'pb.yml': [
      '- hosts: localhost',
      '  gather_facts: false',
      '  tasks:',
      '    - include: inc.yml',
      '    - include: "{{ f }}"',
      '      vars: {f: inc.yml}',
      '    - include: inc.yml x=1',
      '    - include: inc.yml',
      '      loop: [1, 2]',
      '',
    ].join('\n'),
  };

  it('static when literal (expanded), dynamic when templated or looped: the same --list-tasks, messages and recap', async () => {
    const dir = project(files);
    const { ours, theirs } = await bothListTasks(dir, 'pb.yml');
    expect(listed(ours)).toEqual(listed(theirs));
    expect(listed(ours)).toEqual(['      inc task\tTAGS: []', '      include\tTAGS: []', '      inc task\tTAGS: []', '      include\tTAGS: []']);
    const run = await vncplay(['-i', 'inv', 'pb.yml'], { cwd: dir });
    const ansible = await ansiblePlaybook(['-i', 'inv', 'pb.yml'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(msgs(run.stdout)).toEqual(msgs(ansible.stdout));
    expect(run.recap).toEqual(ansible.recap);
  });

  it('each one warns that it is deprecated, saying which it works as', async () => {
    const dir = project(files);
    const run = await vncplay(['-i', 'inv', 'pb.yml', '--syntax-check'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      '[WARNING]: pb.yml:4:7: "include" is deprecated, use include_tasks/import_tasks instead (this one works as import_tasks, as in Ansible 2.14)',
      '[WARNING]: pb.yml:5:7: "include" is deprecated, use include_tasks/import_tasks instead (this one works as include_tasks, as in Ansible 2.14)',
      '[WARNING]: pb.yml:7:7: "include" is deprecated, use include_tasks/import_tasks instead (this one works as import_tasks, as in Ansible 2.14)',
      '[WARNING]: pb.yml:8:7: "include" is deprecated, use include_tasks/import_tasks instead (this one works as include_tasks, as in Ansible 2.14)',
    ]);
  });

  it('a playbook-level `- include: other.yml` is refused, as ansible-playbook 2.14 refuses it, with a hint to import_playbook', async () => {
    const dir = project({ ...files, 'site.yml': '- include: pb.yml\n' });
    const ours = await vncplay(['-i', 'inv', 'site.yml', '--syntax-check'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'site.yml', '--syntax-check'], { cwd: dir });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toMatch(/'include' is not a valid attribute for a Play/);
    expect(ours.code).toBe(4);
    expect(ours.stderr).toMatch(/^site\.yml:1:3: error\[E_PLAY_INCLUDE\]: .*\n.*\n.*\nhint: write `- import_playbook: pb\.yml`$/m);
  });
});

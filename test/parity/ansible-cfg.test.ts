import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import { effectiveSettings } from '../../src/cli/settings.js';
import { loadAnsibleConfig, type AnsibleConfig } from '../../src/config/ansible-cfg.js';
import { parseIni } from '../../src/config/ini.js';
import { ErrorList, VncplayError } from '../../src/errors.js';
import { tempTree } from '../support/temp-tree.js';
import { requireProgram } from '../support/tools.js';


/** A folder that is not world-writable (mkdtemp's is 0700), so its ansible.cfg is read as Ansible would. */
function project(files: Record<string, string>): string {
  const dir = tempTree(files, 'vncplay-cfg-');
  chmodSync(dir, 0o755);
  return dir;
}

function thrown(f: () => unknown): VncplayError[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ErrorList) return e.errors;
    if (e instanceof VncplayError) return [e];
    throw e;
  }
  return [];
}

describe('ansible.cfg as configparser reads it', () => {
  it('sections, = and : delimiters, comments, continuation lines, lower-cased keys, [DEFAULT]', () => {
    const ini = parseIni(
      'a.cfg',
      [
        '# a comment',
        '; another',
        '[DEFAULT]',
        'timeout = 30',
        '[defaults]',
        'Forks: 7 ; inline comment',
        'inventory=hosts.ini#not a comment',
        'roles_path = a',
        '  b',
        '',
        '  c',
        'empty =',
        '[privilege_escalation]',
        'become_user = admin',
      ].join('\n'),
    );
    const defaults = ini.sections.get('defaults')!;
    expect(defaults.get('forks')).toMatchObject({ value: '7', pos: { line: 6, col: 1 } });
    expect(defaults.get('inventory')!.value).toBe('hosts.ini#not a comment');
    expect(defaults.get('roles_path')!.value).toBe('a\nb\n\nc');
    expect(defaults.get('empty')!.value).toBe('');
    expect(ini.sections.get('privilege_escalation')!.get('become_user')!.value).toBe('admin');
    expect(ini.sections.get('DEFAULT')!.get('timeout')!.value).toBe('30');
  });

  it('a repeated key or section, a setting before any section and a line without a delimiter are positioned errors', () => {
    const errors = thrown(() => parseIni('a.cfg', 'stray = 1\n[defaults]\nforks = 1\nFORKS = 2\njunk\n[defaults]\n'));
    expect(errors.map((e) => [e.code, e.pos?.line])).toEqual([
      ['E_CONFIG_SYNTAX', 1],
      ['E_CONFIG_SYNTAX', 4],
      ['E_CONFIG_SYNTAX', 5],
      ['E_CONFIG_SYNTAX', 6],
    ]);
    expect(errors[1]!.format()).toMatch(/a\.cfg:4:1: error\[E_CONFIG_SYNTAX\]: `forks` is set twice in this section\n.*\n4 \| FORKS = 2/);
  });
});

describe('finding and reading ansible.cfg', () => {
  it('first found wins: $ANSIBLE_CONFIG (file or folder), ./ansible.cfg, ~/.ansible.cfg', async () => {
    const dir = project({
      'env/ansible.cfg': '[defaults]\nforks = 1\n',
      'cwd/ansible.cfg': '[defaults]\nforks = 2\n',
      'home/.ansible.cfg': '[defaults]\nforks = 3\n',
      'nocfg/x': '',
    });
    const load = (cwd: string, env: NodeJS.ProcessEnv): Promise<AnsibleConfig> => loadAnsibleConfig({ cwd: path.join(dir, cwd), env, home: path.join(dir, 'home') });
    expect((await load('cwd', { ANSIBLE_CONFIG: path.join(dir, 'env/ansible.cfg') })).forks).toBe(1);
    expect((await load('cwd', { ANSIBLE_CONFIG: '../env' })).forks).toBe(1);
    expect((await load('cwd', { ANSIBLE_CONFIG: path.join(dir, 'missing.cfg') })).forks).toBe(2);
    expect((await load('cwd', {})).forks).toBe(2);
    const fromHome = await load('nocfg', {});
    expect(fromHome).toMatchObject({ forks: 3, file: path.join(dir, 'home/.ansible.cfg') });
  });

  it('an ansible.cfg in a world-writable current folder is skipped with a warning, as Ansible does', async () => {
    const dir = project({ 'ww/ansible.cfg': '[defaults]\nforks = 2\n' });
    chmodSync(path.join(dir, 'ww'), 0o777);
    const cfg = await loadAnsibleConfig({ cwd: path.join(dir, 'ww'), env: {}, home: dir });
    expect(cfg.forks).toBeUndefined();
    expect(cfg.warnings[0]).toMatch(/world writable directory .*ignoring it as an ansible\.cfg source/);
  });

  it('ANSIBLE_* variables beat the file; paths from the file are relative to its folder, from a variable to the current folder', async () => {
    const dir = project({
      'conf/ansible.cfg': '[defaults]\ninventory = hosts.ini, ../other.ini\nroles_path = roles:/abs/roles\nforks = 4\nremote_user = "deploy"\n',
      'work/x': '',
    });
    mkdirSync(path.join(dir, 'home'));
    const base = { cwd: path.join(dir, 'work'), home: path.join(dir, 'home') };
    const fromFile = await loadAnsibleConfig({ ...base, env: { ANSIBLE_CONFIG: path.join(dir, 'conf/ansible.cfg') } });
    expect(fromFile).toMatchObject({
      inventory: [path.join(dir, 'conf/hosts.ini'), path.join(dir, 'other.ini')],
      rolesPath: [path.join(dir, 'conf/roles'), '/abs/roles'],
      forks: 4,
      remoteUser: 'deploy',
    });
    const fromEnv = await loadAnsibleConfig({
      ...base,
      env: { ANSIBLE_CONFIG: path.join(dir, 'conf/ansible.cfg'), ANSIBLE_FORKS: '9', ANSIBLE_ROLES_PATH: 'r:~/r2', ANSIBLE_REMOTE_USER: 'ops' },
    });
    expect(fromEnv).toMatchObject({ forks: 9, rolesPath: [path.join(dir, 'work/r'), path.join(dir, 'home/r2')], remoteUser: 'ops' });
  });

  it('a setting of the wrong type is a positioned error (E_CONFIG_VALUE); unknown settings are ignored', async () => {
    const bad = project({ 'ansible.cfg': '[defaults]\nnot_a_setting = 1\nforks = many\n' });
    const err = await loadAnsibleConfig({ cwd: bad, env: {}, home: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VncplayError);
    expect((err as VncplayError).format()).toMatch(/ansible\.cfg:3:1: error\[E_CONFIG_VALUE\]: \[defaults\] forks: expected a whole number, got 'many'/);
    const zero = await loadAnsibleConfig({ cwd: bad, env: { ANSIBLE_FORKS: '0' }, home: bad }).catch((e: unknown) => e);
    expect((zero as VncplayError).message).toMatch(/environment variable ANSIBLE_FORKS: expected a whole number of at least 1, got '0'/);
    const ok = project({ 'ansible.cfg': '[defaults]\nunknown = 1\nforks = 3\n[whatever]\nx = y\n' });
    expect((await loadAnsibleConfig({ cwd: ok, env: {}, home: ok })).forks).toBe(3);
  });
});

describe('precedence: command line > ANSIBLE_* > ansible.cfg > default', () => {
  const cfg: AnsibleConfig = {
    warnings: [],
    inventory: ['/cfg/hosts'],
    forks: 7,
    remoteUser: 'cfguser',
    privateKeyFile: '/cfg/key',
    become: true,
    becomeAskPass: true,
    hostKeyChecking: false,
    timeout: 3,
    vaultPasswordFile: '/cfg/vault',
    gathering: 'smart',
    rolesPath: ['/cfg/roles'],
  };

  it('the configuration fills what the command line leaves out', () => {
    const s = effectiveSettings(parseCli(['pb.yml']), cfg);
    expect(s).toMatchObject({
      inventory: ['/cfg/hosts'],
      forks: 7,
      become: true,
      askBecomePass: true,
      vaultPasswordFiles: ['/cfg/vault'],
      gathering: 'smart',
      rolesPath: ['/cfg/roles'],
      connectionDefaults: { user: 'cfguser', privateKeyFile: '/cfg/key', hostKeyChecking: 'off', connectTimeoutMs: 3000 },
    });
    expect(s.hostKeyChecking).toBeUndefined();
  });

  it('flags win', () => {
    const s = effectiveSettings(parseCli(['pb.yml', '-i', 'cli', '-f', '2', '-u', 'me', '--private-key', 'k', '--vault-password-file', 'v', '--host-key-checking', 'strict']), cfg);
    expect(s).toMatchObject({ inventory: ['cli'], forks: 2, vaultPasswordFiles: ['v', '/cfg/vault'], hostKeyChecking: 'strict' });
    expect(s.connectionDefaults).toMatchObject({ user: 'me', privateKeyFile: 'k' });
  });

  it('persistent connections: on by default; off by --no-persist, [vncplay] persist = false or VNCPLAY_PERSIST=off', async () => {
    expect(effectiveSettings(parseCli(['pb.yml']), { warnings: [] }).persist).toBe(true);
    expect(effectiveSettings(parseCli(['pb.yml', '--no-persist']), { warnings: [] }).persist).toBe(false);
    const dir = project({ 'ansible.cfg': '[vncplay]\npersist = false\n' });
    const fromFile = await loadAnsibleConfig({ cwd: dir, env: {}, home: dir });
    expect(effectiveSettings(parseCli(['pb.yml']), fromFile).persist).toBe(false);
    const fromEnv = await loadAnsibleConfig({ cwd: dir, env: { VNCPLAY_PERSIST: 'on' }, home: dir });
    expect(effectiveSettings(parseCli(['pb.yml']), fromEnv).persist).toBe(true);
    const offByEnv = await loadAnsibleConfig({ cwd: project({}), env: { VNCPLAY_PERSIST: 'off' }, home: dir });
    expect(effectiveSettings(parseCli(['pb.yml']), offByEnv).persist).toBe(false);
  });

  it('without a configuration: vncplay\'s defaults (forks 50, implicit gathering, Ansible\'s default roles path)', () => {
    const s = effectiveSettings(parseCli(['pb.yml']), { warnings: [] });
    expect(s).toMatchObject({ inventory: [], forks: 50, become: false, gathering: 'implicit', connectionDefaults: {} });
    expect(s.rolesPath).toContain('/etc/ansible/roles');
  });
});

describe('the same values as ansible-config dump', () => {
  /** ansible-config's name for each setting vncplay reads from the [defaults]/[privilege_escalation] sections. */
  const ANSIBLE_NAMES: Partial<Record<keyof AnsibleConfig, string>> = {
    inventory: 'DEFAULT_HOST_LIST',
    rolesPath: 'DEFAULT_ROLES_PATH',
    collectionsPath: 'COLLECTIONS_PATHS',
    collectionsScanSysPath: 'COLLECTIONS_SCAN_SYS_PATH',
    remoteUser: 'DEFAULT_REMOTE_USER',
    privateKeyFile: 'DEFAULT_PRIVATE_KEY_FILE',
    forks: 'DEFAULT_FORKS',
    become: 'DEFAULT_BECOME',
    becomeUser: 'DEFAULT_BECOME_USER',
    becomeMethod: 'DEFAULT_BECOME_METHOD',
    becomeAskPass: 'DEFAULT_BECOME_ASK_PASS',
    hostKeyChecking: 'HOST_KEY_CHECKING',
    timeout: 'DEFAULT_TIMEOUT',
    vaultPasswordFile: 'DEFAULT_VAULT_PASSWORD_FILE',
    retryFilesEnabled: 'RETRY_FILES_ENABLED',
    gathering: 'DEFAULT_GATHERING',
  };
  const CFG = [
    '# every setting vncplay reads, in the forms configparser allows',
    '[defaults]',
    'inventory = hosts.ini, ../other.ini',
    'roles_path = roles:~/r2:$HOME/r3',
    'Forks: 7 ; inline comment',
    "remote_user = 'deploy'",
    'private_key_file = keys/id',
    'host_key_checking = no',
    'timeout = 1_5',
    'vault_password_file = ../vp.txt',
    'retry_files_enabled = yes',
    'gathering = explicit',
    'collections_path = col',
    'collections_scan_sys_path = no',
    'unknown_thing = whatever',
    '[privilege_escalation]',
    'become = True',
    'become_user = admin',
    '  continued',
    'become_method = su',
    'become_ask_pass = on',
    '',
  ].join('\n');

  async function compare(env: NodeJS.ProcessEnv): Promise<void> {
    const dir = project({ 'sub/ansible.cfg': CFG, 'work/x': '' });
    const cwd = path.join(dir, 'work');
    const fullEnv = { PATH: process.env['PATH'], HOME: dir, ANSIBLE_CONFIG: '../sub/ansible.cfg', ...env };
    const dump = spawnSync(requireProgram('ansible-config'), ['dump', '--only-changed', '--format', 'json'], { cwd, env: fullEnv, encoding: 'utf8' });
    expect(dump.status, dump.stderr).toBe(0);
    const theirs = new Map((JSON.parse(dump.stdout) as { name: string; value: unknown }[]).map((e) => [e.name, e.value]));
    const ours = await loadAnsibleConfig({ cwd, env: fullEnv, home: dir });
    for (const [field, name] of Object.entries(ANSIBLE_NAMES)) {
      expect([name, ours[field as keyof AnsibleConfig]]).toEqual([name, theirs.get(name!)]);
    }
  }

  it('from the file', async () => {
    await compare({});
  });

  it('with ANSIBLE_* variables over the file', async () => {
    await compare({
      ANSIBLE_INVENTORY: 'inv/a.yml,/abs/b.ini',
      ANSIBLE_ROLES_PATH: 'r1:~/r2',
      ANSIBLE_FORKS: '11',
      ANSIBLE_REMOTE_USER: 'ops',
      ANSIBLE_BECOME: 'false',
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_GATHERING: 'smart',
      ANSIBLE_COLLECTIONS_PATHS: 'c1',
      ANSIBLE_COLLECTIONS_PATH: 'c2',
      ANSIBLE_PRIVATE_KEY_FILE: 'k',
    });
  });
});

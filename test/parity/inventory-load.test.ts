import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorList, InventoryError, VncplayError } from '../../src/errors.js';
import {
  connectionSpec,
  deprecatedConnectionVarWarnings,
  hostVarLayers,
  inventoryVars,
  loadInventory,
  loadPlaybookVars,
  magicVars,
  parseInventory,
  selectHosts,
  type Inventory,
} from '../../src/inventory/index.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/inventories');

async function loadErrors(spec: string | string[], cwd = FIXTURES, opts = {}): Promise<VncplayError[]> {
  try {
    await loadInventory(spec, cwd, opts);
  } catch (e) {
    if (e instanceof ErrorList) return e.errors;
    if (e instanceof VncplayError) return [e];
    throw e;
  }
  throw new Error('expected loadInventory to fail');
}

describe('a realistic YAML inventory with group_vars/ and host_vars/', () => {
  let inv: Inventory;
  it('loads', async () => {
    inv = await loadInventory('realistic/hosts.yml', FIXTURES);
    expect([...inv.hosts.keys()]).toEqual([
      'vnc01.prod.example.com',
      'vnc02.prod.example.com',
      'vnc03.prod.example.com',
      'vnc-legacy.prod.example.com',
      'vnc-a.prod.example.com',
      'vnc-b.prod.example.com',
      'vnc01.staging.example.com',
      'jump.example.com',
    ]);
    expect(inv.sources).toEqual([path.join(FIXTURES, 'realistic/hosts.yml')]);
  });

  it('orders group var layers as Ansible: inventory-file vars, then group_vars files, each all → deeper', () => {
    const layers = hostVarLayers(inv, 'vnc-a.prod.example.com');
    expect(layers.groupVars.map((l) => `${l.source}:${l.group}`)).toEqual([
      'inventory:all',
      'inventory:prod',
      'inventory:vnc_failover',
      'group_vars:all',
      'group_vars:prod',
      'group_vars:vnc_primary',
    ]);
    expect(layers.groupVars[4]!.vars).toEqual({
      ansible_ssh_private_key_file: '~/.ssh/prod_ed25519',
      ansible_host_key_checking: 'strict',
      vnc_security_types: 'X509Vnc,TLSVnc',
      tier: 'prod-file',
    });
    // host_vars/NAME/ (a folder of files) overrides the inline host var.
    expect(layers.hostVars).toEqual({ ansible_host: '192.0.2.10', vrrp_priority: 200, ansible_become_password: 's3cret' });
  });

  it.each<[string, string, unknown]>([
    ['vnc-a.prod.example.com', 'tier', 'prod-file'],
    ['vnc-a.prod.example.com', 'vnc_displays', [1]],
    ['vnc-a.prod.example.com', 'vrrp_vip', '192.0.2.100'],
    ['vnc01.prod.example.com', 'vnc_displays', [1, 2, 3]],
    ['vnc02.prod.example.com', 'vnc_displays', [1, 2]],
    ['vnc02.prod.example.com', 'vnc_geometry', '2560x1440'],
    ['vnc02.prod.example.com', 'vnc_depth', 24],
    ['vnc01.staging.example.com', 'tier', 'all-file'],
    ['vnc01.staging.example.com', 'env', 'staging'],
    // The surprising Ansible rule: group_vars/all.yml beats a var written inline on a child group.
    ['vnc01.staging.example.com', 'dns_servers', ['192.0.2.53', '192.0.2.54']],
    ['jump.example.com', 'ntp_server', 'ntp.example.com'],
    ['jump.example.com', 'ansible_user', 'vncplay'],
  ])('%s: %s', (host, name, value) => {
    expect(inventoryVars(inv, host)[name]).toEqual(value);
  });

  it('warns about a group_vars file whose name is a near miss of a group; other strays and hidden files are quiet', () => {
    expect(inv.warnings).toEqual(["realistic/group_vars/vnc_server.yml matches no group: did you mean 'vnc_servers'?"]);
  });

  it('gives connection specs from the merged variables', () => {
    const a = connectionSpec(inv, 'vnc-a.prod.example.com', inventoryVars(inv, 'vnc-a.prod.example.com'));
    expect(a).toEqual({
      hostName: 'vnc-a.prod.example.com',
      connection: 'ssh',
      address: '192.0.2.10',
      port: 22,
      user: 'vncplay',
      privateKeyFile: path.join(os.homedir(), '.ssh/prod_ed25519'),
      become: false,
      becomeUser: 'root',
      becomePassword: 's3cret',
      hostKeyChecking: 'strict',
      knownHostsFiles: [path.join(os.homedir(), '.ssh/known_hosts')],
      connectTimeoutMs: 10_000,
    });
    expect(connectionSpec(inv, 'vnc-legacy.prod.example.com', inventoryVars(inv, 'vnc-legacy.prod.example.com'))).toMatchObject({
      address: '192.0.2.50',
      port: 2222,
    });
    expect(connectionSpec(inv, 'vnc01.prod.example.com', inventoryVars(inv, 'vnc01.prod.example.com')).port).toBe(2201);
    expect(connectionSpec(inv, 'jump.example.com', inventoryVars(inv, 'jump.example.com')).address).toBe('jump.example.com');
  });

  it('gives the magic variables', () => {
    const m = magicVars(inv, 'vnc-a.prod.example.com');
    expect(m['group_names']).toEqual(['prod', 'vnc_failover', 'vnc_primary']);
    expect(m['inventory_hostname_short']).toBe('vnc-a');
    expect(m['inventory_file']).toBe(path.join(FIXTURES, 'realistic/hosts.yml'));
    expect((m['groups'] as Record<string, string[]>)['vnc_failover']).toEqual(['vnc-a.prod.example.com', 'vnc-b.prod.example.com']);
    expect(selectHosts(inv, 'prod:!vnc_failover:&vnc0*')).toEqual([
      'vnc01.prod.example.com',
      'vnc02.prod.example.com',
      'vnc03.prod.example.com',
    ]);
  });
});

describe('an INI inventory file without extension, with group_vars/ and host_vars/', () => {
  it('loads hosts, quoting, group_vars files without extension and host_vars', async () => {
    const inv = await loadInventory(path.join(FIXTURES, 'ini/hosts'), '/nonexistent-cwd');
    expect(inventoryVars(inv, 'bastion.example.com')).toEqual({ ansible_user: 'admin' });
    expect(inventoryVars(inv, 'vnc-lab.example.com')).toEqual({
      ansible_user: 'vncplay',
      vnc_geometry: '1280x1024',
      vnc_depth: 24,
      vnc_localhost: true,
      greeting: 'hello, world',
      dc_name: 'fra1',
      ansible_port: 2222,
      ansible_host: '198.51.100.7',
      vnc_password_file: '/home/vnc user/.vnc/passwd',
      vnc_display: 1,
    });
    expect(inventoryVars(inv, 'vnc-a.example.com')['vrrp_state']).toBe('MASTER');
    expect(inventoryVars(inv, 'vnc-b.example.com')['vrrp_state']).toBe('BACKUP');
    expect(selectHosts(inv, 'datacenter')).toEqual([
      'vnc01.example.com',
      'vnc02.example.com',
      'vnc-lab.example.com',
      'vnc-a.example.com',
      'vnc-b.example.com',
    ]);
    // Outside cwd, positions keep the absolute path.
    expect(inv.hosts.get('vnc-lab.example.com')!.pos).toEqual({ file: path.join(FIXTURES, 'ini/hosts'), line: 6, col: 1 });
  });
});

describe('a directory of inventory files', () => {
  it('reads every file (sorted, subfolders too), skips .md, .ini and vars folders as Ansible, and merges groups', async () => {
    const inv = await loadInventory('dir-inventory', FIXTURES);
    expect(inv.warnings).toEqual([
      'dir-inventory/99-old.ini is skipped: inside an inventory directory Ansible ignores .ini files; drop the extension to include it',
    ]);
    expect([...inv.hosts.keys()]).toEqual(['web1', 'web2', 'db1']);
    expect(inv.groups.get('prod')!.children).toEqual(['db', 'web']);
    expect(inv.groups.get('web')!.parents).toEqual(['prod']);
    expect(inventoryVars(inv, 'web1')).toEqual({ env: 'prod' });
  });
});

describe('group_vars/ and host_vars/ beside the playbook', () => {
  it('slot in above the same layer beside the inventory, as in Ansible', async () => {
    const inv = await loadInventory('playbook-dir/inventory/hosts.yml', FIXTURES);
    expect(inventoryVars(inv, 'web1')['layer_all']).toBe('inventory');
    await loadPlaybookVars(inv, path.join(FIXTURES, 'playbook-dir'));
    expect(hostVarLayers(inv, 'web1').groupVars.map((l) => `${l.source}:${l.group}`)).toEqual([
      'inventory:all',
      'inventory:prod',
      'group_vars:all',
      'playbook_group_vars:all',
      'group_vars:prod',
      'playbook_group_vars:prod',
    ]);
    expect(inventoryVars(inv, 'web1')).toEqual({
      who: 'inventory-group_vars-all',
      inline_prod_vs_playbook_all: 'from-playbook-group_vars-all',
      layer_all: 'playbook',
      layer_prod: 'playbook',
      who_host: 'inventory-host_vars',
      layer_host: 'playbook',
    });
  });

  it('replaces the vars of a previous playbook folder', async () => {
    const inv = await loadInventory('playbook-dir/inventory/hosts.yml', FIXTURES);
    await loadPlaybookVars(inv, path.join(FIXTURES, 'playbook-dir'));
    await loadPlaybookVars(inv, path.join(FIXTURES, 'realistic'));
    expect(inventoryVars(inv, 'web1')['layer_all']).toBe('inventory');
    // realistic/group_vars/{all.yml,prod/} apply now instead.
    expect(inventoryVars(inv, 'web1')['dns_servers']).toEqual(['192.0.2.53', '192.0.2.54']);
    expect(inventoryVars(inv, 'web1')['tier']).toBe('prod-file');
  });
});

describe('-i NAME and other sources', () => {
  const cwd = path.join(FIXTURES, 'inventories');
  it.each<[string, string[]]>([
    ['staging', ['s1']],
    ['demo', ['d1']],
    ['lab', ['lab1']],
  ])('-i %s finds inventories/NAME.*', async (name, hosts) => {
    const inv = await loadInventory(name, cwd);
    expect([...inv.hosts.keys()]).toEqual(hosts);
  });

  it('applies group_vars/ beside inventories/NAME.ini', async () => {
    const inv = await loadInventory('staging', cwd);
    expect(inventoryVars(inv, 's1')).toEqual({ from_group_vars: true });
  });

  it('merges several sources', async () => {
    const inv = await loadInventory(['staging', 'demo', 'x1,x2:2200,'], cwd);
    expect([...inv.hosts.keys()]).toEqual(['s1', 'd1', 'x1', 'x2']);
    expect(inv.hosts.get('x2')!.vars).toEqual({ ansible_port: 2200 });
    expect(inv.hosts.get('x1')!.groups).toEqual(['all', 'ungrouped']);
  });

  it("takes a comma-separated host list like Ansible ('host,')", async () => {
    const inv = await loadInventory('localhost,', '/nonexistent');
    expect([...inv.hosts.keys()]).toEqual(['localhost']);
    // A declared localhost is an ordinary (ssh) host unless it says otherwise, as in Ansible.
    expect(connectionSpec(inv, 'localhost', inventoryVars(inv, 'localhost')).connection).toBe('ssh');
  });

  it('says what it looked for and suggests the nearest name', async () => {
    const [e] = await loadErrors('stagin', cwd);
    expect(e!.code).toBe('E_INV_NOT_FOUND');
    expect(e!.message).toBe(
      "inventory 'stagin' not found (looked for stagin, inventories/stagin.yml, inventories/stagin.yaml, inventories/stagin.ini, inventories/stagin.json, inventories/stagin)",
    );
    expect(e!.hint).toBe("did you mean 'staging'?; inventories/ has: demo, lab, staging; a single host is written 'host,' (with the comma)");
  });
});

describe('load errors', () => {
  it('reports a group_vars file that is not a mapping with its position', async () => {
    const errs = await loadErrors('broken/hosts.yml');
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe('E_INV_VARS_FILE');
    expect(errs[0]!.message).toBe('broken/group_vars/web.yml must hold a mapping of variable names to values');
    expect(errs[0]!.pos).toEqual({ file: 'broken/group_vars/web.yml', line: 1, col: 1 });
  });

  it('refuses a vault-encrypted vars file without a password, and decrypts it with one', async () => {
    const errs = await loadErrors('vault/hosts.ini');
    expect(errs.map((e) => e.code)).toEqual(['E_INV_VAULT']);
    const inv = await loadInventory('vault/hosts.ini', FIXTURES, {
      decrypt: async (text: string) => (text.startsWith('$ANSIBLE_VAULT;1.1;AES256') ? 'secret_var: opened\n' : ''),
    });
    expect(inventoryVars(inv, 'w1')).toEqual({ secret_var: 'opened' });
  });

  it('collects errors from several sources at once', async () => {
    const errs = await loadErrors(['broken/hosts.yml', 'nope-not-here', 'vault/hosts.ini']);
    expect(errs.map((e) => e.code)).toEqual(['E_INV_NOT_FOUND', 'E_INV_VARS_FILE', 'E_INV_VAULT']);
    expect(errs.every((e) => e instanceof InventoryError)).toBe(true);
  });
});

describe('connectionSpec', () => {
  const inv = parseInventory('h\nlocalhost\n', 'ini');
  const spec = (vars: Record<string, unknown>): ReturnType<typeof connectionSpec> => connectionSpec(inv, 'h', vars);

  it('uses defaults: the host name, port 22, the current user, strict keys, 10 s', () => {
    expect(spec({})).toEqual({
      hostName: 'h',
      connection: 'ssh',
      address: 'h',
      port: 22,
      user: os.userInfo().username,
      become: false,
      becomeUser: 'root',
      hostKeyChecking: 'strict',
      knownHostsFiles: [path.join(os.homedir(), '.ssh/known_hosts')],
      connectTimeoutMs: 10_000,
    });
  });

  it.each<[string, Record<string, unknown>, Partial<ReturnType<typeof connectionSpec>>]>([
    ['ansible_ names', { ansible_host: '192.0.2.9', ansible_port: 2200, ansible_user: 'ops' }, { address: '192.0.2.9', port: 2200, user: 'ops' }],
    ['old ansible_ssh_ aliases', { ansible_ssh_host: 'a', ansible_ssh_port: '2201', ansible_ssh_user: 'u' }, { address: 'a', port: 2201, user: 'u' }],
    ['ansible_ names beside bare ones', { ansible_host: 'x', host: 'y', ansible_user: 'a', user: 'b' }, { address: 'x', user: 'a' }],
    ['become as a string', { ansible_become: 'yes', ansible_become_user: 'vnc', ansible_become_method: 'sudo' }, { become: true, becomeUser: 'vnc' }],
    ['become through su', { ansible_become_method: 'ansible.builtin.su' }, { becomeMethod: 'su' }],
    ['become password alias', { ansible_become_pass: 'pw' }, { becomePassword: 'pw' }],
    ['ssh password', { ansible_password: 'pw', ansible_ssh_private_key_file: '/k' }, { password: 'pw', privateKeyFile: '/k' }],
    ['host key checking true', { ansible_host_key_checking: true }, { hostKeyChecking: 'strict' }],
    ['host key checking false', { ansible_ssh_host_key_checking: 'False' }, { hostKeyChecking: 'off' }],
    ['host key checking accept-new', { ansible_host_key_checking: 'accept-new' }, { hostKeyChecking: 'accept-new' }],
    ['known hosts files', { vncplay_known_hosts_file: '/a/kh /b/kh' }, { knownHostsFiles: ['/a/kh', '/b/kh'] }],
    ['known hosts list', { vncplay_known_hosts_file: ['~/kh'] }, { knownHostsFiles: [path.join(os.homedir(), 'kh')] }],
    ['known hosts, old name', { ansible_ssh_known_hosts_file: '/a/kh' }, { knownHostsFiles: ['/a/kh'] }],
    ['known hosts, the new name wins', { ansible_ssh_known_hosts_file: '/old', vncplay_known_hosts_file: '/new' }, { knownHostsFiles: ['/new'] }],
    ['known hosts from ssh args', { ansible_ssh_common_args: '-o UserKnownHostsFile=/ssh/kh -o StrictHostKeyChecking=accept-new' }, { knownHostsFiles: ['/ssh/kh'], hostKeyChecking: 'accept-new' }],
    ['timeout', { ansible_ssh_timeout: 3 }, { connectTimeoutMs: 3000 }],
    ['smart is ssh', { ansible_connection: 'smart' }, { connection: 'ssh' }],
  ])('%s', (_n, vars, want) => {
    expect(spec(vars)).toMatchObject(want);
  });

  it.each<[string, Record<string, unknown>, Partial<ReturnType<typeof connectionSpec>>]>([
    [
      'the fleet inventory form',
      { ansible_ssh_common_args: '-o UserKnownHostsFile=/f/known_hosts -o StrictHostKeyChecking=yes' },
      { knownHostsFiles: ['/f/known_hosts'], hostKeyChecking: 'strict' },
    ],
    ['-o "Key Value", -p, -l, -i', { ansible_ssh_extra_args: '-o "StrictHostKeyChecking accept-new" -p 2022 -l ops -i ~/k' }, { hostKeyChecking: 'accept-new', port: 2022, user: 'ops', privateKeyFile: path.join(os.homedir(), 'k') }],
    ['-oKey=value, case-insensitive names', { ansible_ssh_common_args: '-oPort=2200 -ostricthostkeychecking=no -oConnectTimeout=4' }, { port: 2200, hostKeyChecking: 'off', connectTimeoutMs: 4000 }],
    ['several files in UserKnownHostsFile', { ansible_ssh_common_args: "-o 'UserKnownHostsFile=/a /b'" }, { knownHostsFiles: ['/a', '/b'] }],
    ['the first value of an option wins, as in OpenSSH', { ansible_ssh_common_args: '-o Port=1111', ansible_ssh_extra_args: '-o Port=2222' }, { port: 1111 }],
    ['explicit variables beat ssh args', { ansible_port: 22, ansible_host_key_checking: false, ansible_ssh_common_args: '-o Port=2200 -o StrictHostKeyChecking=yes' }, { port: 22, hostKeyChecking: 'off' }],
    ['ProxyJump none is fine', { ansible_ssh_common_args: '-o ProxyJump=none -o ServerAliveInterval=5' }, { port: 22 }],
  ])('OpenSSH options in ansible_ssh_*_args: %s', (_n, vars, want) => {
    expect(spec(vars)).toMatchObject(want);
  });

  it('refuses a jump host it cannot follow rather than connecting directly', () => {
    expect(() => spec({ ansible_ssh_common_args: '-o ProxyJump=bastion.example.com' })).toThrow(
      "host 'h': ansible_ssh_*_args asks for 'ProxyJump bastion.example.com', which vncplay does not support",
    );
    expect(() => spec({ ansible_ssh_common_args: '-J bastion' })).toThrow(/ProxyJump bastion/);
    expect(spec({ ansible_ssh_common_args: '-J bastion', ansible_connection: 'local' }).connection).toBe('local');
  });

  it('ignores a bare `password` (a VNC password must never become the SSH password)', () => {
    expect(spec({ password: 'vncpass' }).password).toBeUndefined();
  });

  it('ignores every bare connection name, as Ansible does (a VNC `port` must never redirect SSH)', () => {
    const bare = {
      host: 'elsewhere', port: 5902, user: 'nobody', remote_user: 'nobody', connection: 'local', private_key_file: '/k',
      ssh_private_key_file: '/k', become: true, become_user: 'vnc', become_method: 'su', become_password: 'pw', become_pass: 'pw',
      host_key_checking: false, known_hosts_file: '/kh',
    };
    expect(spec(bare)).toEqual(spec({}));
  });

  it('takes CLI defaults when no variable says otherwise', () => {
    expect(connectionSpec(inv, 'h', {}, { user: 'cli', port: 2222, hostKeyChecking: 'off' })).toMatchObject({ user: 'cli', port: 2222, hostKeyChecking: 'off' });
    expect(connectionSpec(inv, 'h', { ansible_user: 'inv' }, { user: 'cli' }).user).toBe('inv');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an empty address', { ansible_host: '' }, "host 'h': ansible_host is empty"],
    ['a bad port', { ansible_port: 'ssh' }, "host 'h': ansible_port 'ssh' is not a TCP port"],
    ['a port out of range', { ansible_ssh_port: 70000 }, "host 'h': ansible_ssh_port '70000' is not a TCP port"],
    ['an unknown connection', { ansible_connection: 'winrm' }, "host 'h': ansible_connection 'winrm' is not a supported connection"],
    ['a bad become', { ansible_become: 'maybe' }, "host 'h': ansible_become 'maybe' is not a boolean"],
    ['an empty key policy (a template that rendered empty must not turn checking off)', { ansible_host_key_checking: ' ' }, "host 'h': ansible_host_key_checking is empty"],
    ['a bad key policy', { ansible_host_key_checking: 'sometimes' }, "host 'h': ansible_host_key_checking 'sometimes' is not a host key policy"],
    ['a bad timeout', { ansible_timeout: 'soon' }, "host 'h': ansible_timeout 'soon' is not a number of seconds"],
    ['a become method other than sudo or su', { ansible_become_method: 'doas' }, "host 'h': ansible_become_method 'doas' is not supported"],
  ])('refuses %s', (_n, vars, message) => {
    let err: unknown;
    try {
      spec(vars);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).code).toBe('E_INV_CONNECTION_VAR');
    expect((err as InventoryError).message).toBe(message);
    expect((err as InventoryError).hint).toBeTruthy();
  });

  it('makes the implicit localhost local, with `all` vars applying to it', () => {
    const i = parseInventory('[all:vars]\nntp=x\n[web]\nw1\n', 'ini');
    expect(selectHosts(i, 'localhost')).toEqual(['localhost']);
    expect(connectionSpec(i, 'localhost', inventoryVars(i, 'localhost')).connection).toBe('local');
    expect(inventoryVars(i, 'localhost')).toEqual({ ntp: 'x', ansible_connection: 'local', ansible_host: '127.0.0.1' });
  });
});

describe('the shipped example inventories/prod.example.yml', () => {
  const repo = path.resolve(FIXTURES, '../../..');
  it('loads with -i prod.example, cleanly, with its group_vars folder and host_vars', async () => {
    const inv = await loadInventory('prod.example', repo);
    expect(inv.warnings).toEqual([]);
    expect(selectHosts(inv, 'vnc')).toEqual([
      'vnc01.prod.example.com',
      'vnc02.prod.example.com',
      'vnc03.prod.example.com',
      'vnc04.prod.example.com',
      'vnc-legacy.prod.example.com',
      'vnc-a.prod.example.com',
      'vnc-b.prod.example.com',
    ]);
    expect(inventoryVars(inv, 'vnc-a.prod.example.com')).toMatchObject({ vrrp_priority: 150, vrrp_vip: '192.0.2.100', vnc_user: 'vnc' });
    expect(inventoryVars(inv, 'vnc-b.prod.example.com')['vrrp_priority']).toBe(100);
    const legacy = connectionSpec(inv, 'vnc-legacy.prod.example.com', inventoryVars(inv, 'vnc-legacy.prod.example.com'));
    expect(legacy).toMatchObject({ address: '192.0.2.50', port: 2222, user: 'vncplay', become: true, hostKeyChecking: 'strict' });
  });
});

describe('inventories both tools read (issue 16)', () => {
  const repo = path.resolve(FIXTURES, '../../..');

  it('the shipped demo inventory names its known_hosts file the way ansible-playbook reads it', async () => {
    const inv = await loadInventory('demo', repo);
    const vars = inventoryVars(inv, 'h1');
    expect(Object.keys(vars).filter((k) => k.startsWith('ansible_') && !/^ansible_(host|user|become|ssh_private_key_file|ssh_common_args|python_interpreter)$/.test(k))).toEqual([]);
    expect(connectionSpec(inv, 'h1', vars)).toMatchObject({ knownHostsFiles: ['.fleet/known_hosts'], hostKeyChecking: 'strict', address: '198.18.0.11' });
  });

  it('warns once per deprecated vncplay-only name, naming who sets it', () => {
    const hosts: [string, Record<string, unknown>][] = ['h1', 'h2', 'h3', 'h4', 'h5'].map((h) => [h, { ansible_ssh_known_hosts_file: '/kh' }]);
    expect(deprecatedConnectionVarWarnings([...hosts, ['h6', { vncplay_known_hosts_file: '/kh' }]], { ansible_known_hosts_file: '/x' })).toEqual([
      'ansible_known_hosts_file (set for -e) is a vncplay-only setting that ansible-playbook ignores; rename it vncplay_known_hosts_file, or write ansible_ssh_common_args: -o UserKnownHostsFile=FILE, which both tools read',
      'ansible_ssh_known_hosts_file (set for h1, h2, h3 and 2 more) is a vncplay-only setting that ansible-playbook ignores; rename it vncplay_known_hosts_file, or write ansible_ssh_common_args: -o UserKnownHostsFile=FILE, which both tools read',
    ]);
    expect(deprecatedConnectionVarWarnings([['h6', { vncplay_known_hosts_file: '/kh' }]], {})).toEqual([]);
  });
});

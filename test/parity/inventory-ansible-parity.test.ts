import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inventoryVars, loadInventory, loadPlaybookVars, selectHosts, type Inventory } from '../../src/inventory/index.js';
import { requireProgram } from '../support/tools.js';

/**
 * Parity with real Ansible, when ansible-core is installed (Debian's ansible-core 2.14 here): the same hosts,
 * the same merged inventory variables per host (group_vars/host_vars precedence included), and the same host
 * lists, in the same order, for play patterns.
 */

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/inventories');
const REPO = path.resolve(FIXTURES, '../../..');

const TMP = mkdtempSync(path.join(os.tmpdir(), 'vncplay-parity-'));
const ENV = {
  ...process.env,
  ANSIBLE_CONFIG: path.join(TMP, 'none.cfg'),
  ANSIBLE_LOCALHOST_WARNING: 'False',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
  ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore',
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_DEPRECATION_WARNINGS: 'False',
};

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList['_meta'];
}

/** Every host with its vars from `ansible-inventory --list` (hosts without vars are only listed in groups). */
function ansibleHostVars(source: string, playbookDir?: string): Record<string, Record<string, unknown>> {
  const args = ['-i', source, '--list', ...(playbookDir ? ['--playbook-dir', playbookDir] : [])];
  const out = execFileSync(requireProgram('ansible-inventory'), args, { env: ENV, encoding: 'utf8', cwd: TMP });
  const list = JSON.parse(out) as AnsibleList;
  const result: Record<string, Record<string, unknown>> = {};
  for (const [name, g] of Object.entries(list)) {
    if (name === '_meta') continue;
    for (const h of (g as { hosts?: string[] }).hosts ?? []) result[h] = {};
  }
  for (const [h, vars] of Object.entries(list._meta.hostvars)) {
    const { inventory_file: _f, inventory_dir: _d, ...rest } = vars;
    result[h] = rest;
  }
  return result;
}

/**
 * The hosts of each play in Ansible's order: one play per pattern whose single run_once debug task prints
 * ansible_play_hosts_all (debug runs on the controller, so the made-up hosts are never contacted).
 * (`ansible-playbook --list-hosts` cannot be used: it prints a Python set, in hash order.)
 */
function ansiblePlayHosts(source: string, patterns: string[], limit?: string): string[][] {
  const book = path.join(TMP, `plays-${Math.random().toString(36).slice(2)}.yml`);
  const play = (p: string): string =>
    `- hosts: ${JSON.stringify(p)}\n  gather_facts: false\n  tasks:\n    - debug: {msg: "{{ ansible_play_hosts_all }}"}\n      run_once: true\n`;
  writeFileSync(book, patterns.map(play).join(''));
  const args = ['-i', source, book, ...(limit ? ['--limit', limit] : [])];
  const out = execFileSync(requireProgram('ansible-playbook'), args, { env: { ...ENV, ANSIBLE_STDOUT_CALLBACK: 'json' }, encoding: 'utf8', cwd: TMP });
  const run = JSON.parse(out) as { plays: { tasks: { hosts: Record<string, { msg: string[] }> }[] }[] };
  return run.plays.map((p) => {
    const first = p.tasks[0];
    return first ? (Object.values(first.hosts)[0]?.msg ?? []) : [];
  });
}

function sorted(o: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
}

interface Case {
  name: string;
  source: string;
  patterns: string[];
  limit?: string;
  /** group_vars/ and host_vars/ beside this playbook folder apply too. */
  playbookDir?: string;
}

const PATTERN_INI = `bastion
[web]
web1
web2
web3
[db]
db1
db2
[h]
[lab]
h1
h2
h10
[prod:children]
web
db
[staging]
web3
stage1
`;

const CASES: Case[] = [
  {
    name: 'realistic YAML + group_vars/host_vars',
    source: path.join(FIXTURES, 'realistic/hosts.yml'),
    patterns: ['all', 'prod', 'prod:!vnc_failover', 'vnc*', '~vnc0[12]', 'vnc_servers[1:2]', 'prod:&vnc_primary', 'staging,vnc_failover', 'vnc_failover[-1]'],
  },
  { name: 'INI without extension', source: path.join(FIXTURES, 'ini/hosts'), patterns: ['all', 'datacenter', 'vnc_servers:failover', 'vnc*:!vnc-a*', 'vnc_servers[0]', 'ungrouped'] },
  { name: 'directory inventory', source: path.join(FIXTURES, 'dir-inventory'), patterns: ['all', 'prod', 'web:db'] },
  { name: 'shipped prod example', source: path.join(REPO, 'inventories/prod.example.yml'), patterns: ['all', 'vnc', 'vnc[0:1]', 'vnc[5]', 'prod:!vnc-legacy*:!vnc_failover'] },
  {
    name: 'edge cases: nested YAML, priorities, letter/step ranges, host:port, IPv6',
    source: path.join(FIXTURES, 'edge/nested.yml'),
    patterns: ['all', 'b', 'a', 'c', 'c[1:3]', '~n\\d', 'h1:&a', 'all:!c', 'db-*', '10.0.0.1', '2001:db8::1'],
  },
  { name: 'edge cases: YAML 1.1 scalars as PyYAML reads them', source: path.join(FIXTURES, 'edge/scalars.yml'), patterns: ['all'] },
  { name: 'edge cases: INI values and quoting', source: path.join(FIXTURES, 'edge/values.ini'), patterns: ['all', 'g2', 'g2[0]', 'g1:!h1'] },
  {
    name: 'group_vars/host_vars beside the playbook',
    source: path.join(FIXTURES, 'playbook-dir/inventory/hosts.yml'),
    playbookDir: path.join(FIXTURES, 'playbook-dir'),
    patterns: ['all'],
  },
  {
    name: 'pattern table',
    source: path.join(TMP, 'patterns.ini'),
    patterns: ['all', '*', 'db:web', 'prod:&staging', '&staging:prod', '!prod', 'web*', '*1', 'db?', 'web[!1]', 'd[a-c]?', '~h\\d+', 'web[-1]', 'prod[3:4]', 'web[1:]', 'h[12]', 'all:&*1', 'nosuch:web2'],
    limit: '!db1',
  },
];
writeFileSync(path.join(TMP, 'patterns.ini'), PATTERN_INI);

// Each case spawns Ansible 2–3 times (1–2 s each, mostly Python start-up): about 40 s in all on a 2-core machine.
describe('parity with ansible-core', () => {
  const loaded = new Map<string, Inventory>();
  const load = async (c: Case): Promise<Inventory> => {
    let inv = loaded.get(c.source);
    if (!inv) {
      loaded.set(c.source, (inv = await loadInventory(c.source, TMP)));
      if (c.playbookDir) await loadPlaybookVars(inv, c.playbookDir);
    }
    return inv;
  };

  it.each(CASES)('$name: same hosts and merged inventory vars', async (c) => {
    const inv = await load(c);
    const theirs = ansibleHostVars(c.source, c.playbookDir);
    expect([...inv.hosts.keys()].sort()).toEqual(Object.keys(theirs).sort());
    for (const [host, vars] of Object.entries(theirs)) {
      expect(sorted(inventoryVars(inv, host)), host).toBe(sorted(vars));
    }
  });

  it.each(CASES)('$name: same play hosts, in the same order', async (c) => {
    const inv = await load(c);
    const theirs = ansiblePlayHosts(c.source, c.patterns);
    expect(c.patterns.map((p) => selectHosts(inv, p))).toEqual(theirs);
    if (c.limit) {
      const limited = ansiblePlayHosts(c.source, c.patterns, c.limit);
      expect(c.patterns.map((p) => selectHosts(inv, p, { limit: c.limit! }))).toEqual(limited);
    }
  });
});

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, vncplay, type CliRun } from '../support/cli-helpers.js';

/**
 * Issue 7, bad input: every case of the bad corpus, run through the real CLI, exits 4 with its file:line:col and
 * contacts no host. The inventory's host points at a TCP listener of this test that counts accepted connections;
 * a good playbook with the same inventory does connect (and is unreachable: the listener is no sshd), which
 * proves the counter would have seen a contact.
 */

const badDir = 'test/fixtures/playbooks/bad';
const cases = readdirSync(path.join(repoRoot, badDir))
  .filter((f) => f.endsWith('.yml'))
  .sort();

/** `file:line:col` of each error in a golden text (the lines that start an error). */
function goldenPositions(name: string): string[] {
  const golden = path.join(repoRoot, badDir, name.replace(/\.yml$/, '.expected.txt'));
  if (!existsSync(golden)) return [];
  return [...readFileSync(golden, 'utf8').matchAll(/^(\S+:\d+:\d+): error\[/gm)].map((m) => m[1]!);
}

/** A case refused by the checks run once the playbook loaded (src/runner/preflight.ts): all its golden codes are theirs. */
function isPreflightCase(name: string): boolean {
  const golden = path.join(repoRoot, badDir, name.replace(/\.yml$/, '.expected.txt'));
  if (!existsSync(golden)) return false;
  const codes = [...readFileSync(golden, 'utf8').matchAll(/^\S+:\d+:\d+: error\[(E_[A-Z_]+)\]/gm)].map((m) => m[1]!);
  return codes.length > 0 && codes.every((c) => c === 'E_TEMPLATE_UNDEFINED' || c === 'E_UNKNOWN_PATTERN');
}

/** Runs `jobs` with at most `width` at a time (each spawns a CLI process; the machine has 2 cores). */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

let server: net.Server;
let port = 0;
let contacts = 0;
const sockets = new Set<net.Socket>();
let tmp: string;
let inventory: string;

beforeAll(async () => {
  server = net.createServer((socket) => {
    contacts++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Not an SSH server: the socket is held open without a banner, so the client times out (ansible_ssh_timeout
    // below) and reports the host unreachable. A close would be retried for a minute as sshd's MaxStartups drop.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  tmp = mkdtempSync(path.join(tmpdir(), 'vncplay-bad-cli-'));
  inventory = path.join(tmp, 'inventory.yml');
  writeFileSync(inventory, hostInventory());
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

/** One host in `all` and in `vnc` (the groups the corpus targets), at the listener. */
function hostInventory(): string {
  return [
    'all:',
    '  vars:',
    '    ansible_user: vncplay',
    '    vncplay_known_hosts_file: /dev/null',
    '    ansible_ssh_timeout: 2',
    '  children:',
    '    vnc:',
    '      hosts:',
    '        target:',
    '          ansible_host: 127.0.0.1',
    `          ansible_port: ${port}`,
    '',
  ].join('\n');
}

function expectRefused(r: CliRun, positions: readonly string[], label: string): void {
  expect(r.code, `${label}\n${r.stderr}`).toBe(4);
  for (const p of positions) expect(r.stderr, label).toContain(`${p}: error[`);
  // Every error names where it is: no bare message without a position, no stack trace.
  expect(r.stderr, label).toMatch(/^\S+:\d+:\d+: error\[E_[A-Z_]+\]/m);
  expect(r.stderr, label).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
  expect(r.stdout, label).not.toContain('PLAY RECAP');
}

describe('bad input through the CLI: exit 4, file:line:col, no host contacted', () => {
  it('has a corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
  });

  it('every bad playbook, run with an inventory (one process per case)', async () => {
    const before = contacts;
    const runs = await pool(
      cases.map((c) => () => vncplay([path.join(badDir, c), '-i', inventory], { timeoutMs: 30_000 })),
      3,
    );
    runs.forEach((r, i) => {
      const c = cases[i]!;
      const positions = goldenPositions(c);
      expect(positions.length, `${c} has a golden text with positions`).toBeGreaterThan(0);
      expectRefused(r, positions, c);
    });
    expect(contacts - before).toBe(0);
  }, 60_000);

  it('every bad playbook under --syntax-check -i (one process for the corpus): every golden position, exit 4', async () => {
    const before = contacts;
    // Load errors stop a run before the pre-flight checks (unknown hosts names, undefined variables), so the two
    // kinds run as two batches.
    const preflightCases = cases.filter(isPreflightCase);
    const loadCases = cases.filter((c) => !isPreflightCase(c));
    for (const batch of [loadCases, preflightCases]) {
      const r = await vncplay(['--syntax-check', '-i', inventory, ...batch.map((c) => path.join(badDir, c))], { timeoutMs: 30_000 });
      expectRefused(r, batch.flatMap(goldenPositions), batch.join(' '));
    }
    expect(contacts - before).toBe(0);
  });

  it('--syntax-check without -i: a play hosts pattern that -e alone must define is still refused', async () => {
    const r = await vncplay(['--syntax-check', path.join(badDir, 'undefined-play-hosts.yml')]);
    expectRefused(r, goldenPositions('undefined-play-hosts.yml'), 'undefined-play-hosts');
    // Other undefined names may come from the inventory a real run uses: not flagged without one.
    const ok = await vncplay(['--syntax-check', path.join(badDir, 'undefined-var-args.yml')]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a play that matches no host (its pattern, or --limit) renders nothing: its names are not checked', async () => {
    const pb = path.join(tmp, 'elsewhere.yml');
    // Known names that select no host (target is in vnc): an unknown name would be refused on its own (E_UNKNOWN_PATTERN).
    writeFileSync(pb, '- hosts: all:!vnc\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ db_only_var }}"\n');
    const none = await vncplay(['--syntax-check', '-i', inventory, pb]);
    expect(none.code, none.stderr).toBe(0);
    writeFileSync(pb, '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ db_only_var }}"\n');
    const limited = await vncplay(['--syntax-check', '-i', inventory, '-l', 'nomatch', pb]);
    expect(limited.code, limited.stderr).toBe(0);
    const all = await vncplay(['--syntax-check', '-i', inventory, pb]);
    expect(all.code).toBe(4);
    expect(all.stderr).toContain("elsewhere.yml:4:14: error[E_TEMPLATE_UNDEFINED]: `msg`: undefined variable 'db_only_var'");
  });

  it('a run whose --limit matches no host is refused, as ansible-playbook does (exit 5), with a did-you-mean', async () => {
    const before = contacts;
    const pb = path.join(tmp, 'limited.yml');
    writeFileSync(pb, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n');
    const r = await vncplay([pb, '-i', inventory, '-l', 'targte']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain("--limit 'targte' matches no host of the inventory");
    expect(r.stderr).toContain("did you mean 'target'?");
    expect(contacts - before).toBe(0);
  });

  it('-e defines what the playbook lacks: the same case then runs (and reaches the host)', async () => {
    const before = contacts;
    const r = await vncplay([path.join(badDir, 'undefined-var-args.yml'), '-i', inventory, '-e', 'geometry=800x600 vnc_dispaly=1'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(contacts - before).toBeGreaterThanOrEqual(1);
  }, 70_000);

  it('positive control: a good playbook with the same inventory does contact the listener (exit 3, unreachable)', async () => {
    const good = path.join(tmp, 'good.yml');
    writeFileSync(good, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n');
    const before = contacts;
    const r = await vncplay([good, '-i', inventory], { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.recap['target']?.unreachable).toBe(1);
    expect(contacts - before).toBeGreaterThanOrEqual(1);
  }, 70_000);
});

/**
 * Bad inventories: the inventory itself is the bad file (its hosts still point at the listener).
 * [name, file name, content, expected file:line:col (relative to the temp folder), error code]
 */
const badInventories = (p: number): [string, string, string, string, string][] => [
  ['YAML syntax error', 'syntax.yml', `vnc:\n  hosts: [target\n`, 'syntax.yml:3:1', 'E_INV_YAML_SYNTAX'],
  ['duplicate key', 'dup.yml', `vnc:\n  hosts:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n    target: {ansible_host: 127.0.0.1}\n`, 'dup.yml:4:5', 'E_INV_DUPLICATE_KEY'],
  ['tab indentation', 'tab.yml', `vnc:\n\thosts:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n`, 'tab.yml:2:1', 'E_INV_YAML_SYNTAX'],
  ['misspelled section', 'typo.yml', `vnc:\n  host:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n`, 'typo.yml:2:3', 'E_INV_UNKNOWN_KEY'],
  ['circular group children', 'cycle.yml', `a:\n  hosts:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n  children:\n    b:\n      children:\n        a:\n`, 'cycle.yml:5:5', 'E_INV_CYCLE'],
  ['host with an empty address', 'empty.yml', `vnc:\n  hosts:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n    blank: {ansible_host: ""}\n`, 'empty.yml:4:5', 'E_INV_EMPTY_ADDRESS'],
  ['INI: circular children', 'cycle.ini', `target ansible_host=127.0.0.1 ansible_port=${p}\n[a:children]\nb\n[b:children]\na\n`, 'cycle.ini:5:1', 'E_INV_CYCLE'],
  ['INI: children naming an undefined group', 'unknown.ini', `[vnc]\ntarget ansible_host=127.0.0.1 ansible_port=${p}\n[web:children]\nnosuch\n`, 'unknown.ini:4:1', 'E_INV_UNDEFINED_GROUP'],
  ['INI: a line that is no host', 'bad.ini', `[vnc]\ntarget ansible_host=127.0.0.1 ansible_port=${p}\n[vnc:vars]\nnot a var line\n`, 'bad.ini:4:1', 'E_INV_INI_LINE'],
  ['group_vars that are not a mapping', 'gv/hosts.yml', `vnc:\n  hosts:\n    target: {ansible_host: 127.0.0.1, ansible_port: ${p}}\n`, 'gv/group_vars/vnc.yml:1:1', 'E_INV_VARS_FILE'],
];

describe('bad inventories through the CLI: exit 4, file:line:col, no host contacted', () => {
  it('each bad inventory with a good playbook', async () => {
    const dir = path.join(tmp, 'inv');
    mkdirSync(path.join(dir, 'gv', 'group_vars'), { recursive: true });
    writeFileSync(path.join(dir, 'gv', 'group_vars', 'vnc.yml'), '- not\n- a mapping\n');
    const good = path.join(dir, 'good.yml');
    writeFileSync(good, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n');
    const table = badInventories(port);
    for (const [, file, content] of table) writeFileSync(path.join(dir, file), content);
    const before = contacts;
    const runs = await pool(
      table.map(([, file]) => () => vncplay(['good.yml', '-i', file], { cwd: dir, timeoutMs: 30_000 })),
      3,
    );
    runs.forEach((r, i) => {
      const [name, , , where, code] = table[i]!;
      expect(r.code, `${name}\n${r.stderr}`).toBe(4);
      expect(r.stderr, name).toContain(`${where}: error[${code}]`);
      expect(r.stdout, name).not.toContain('PLAY RECAP');
    });
    expect(contacts - before).toBe(0);
  }, 60_000);
});

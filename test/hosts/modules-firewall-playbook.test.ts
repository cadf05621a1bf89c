// firewall, systemd and wait_for through the whole tool: a playbook run by the CLI on h1 (real SSH, real nft).
// First run changes, second run reports changed=0, --check of the removal reports it and leaves the rules alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAddress, fleetAvailable, fleetInventory, hostExec, hostExecOk } from '../fleet/fleet.js';

const repo = resolve(import.meta.dirname, '../..');
// h2's address on this worker's fleet: the rule lets h2 in.
const H2 = fleetAddress(12);
const PLAYBOOK = `
- name: VNC on h1 only from h2
  hosts: h1
  become: true
  gather_facts: false
  vars:
    fw_state: present
  tasks:
    - name: sshd runs
      service: name=ssh state=started
    - name: allow h2
      firewall: { port: 5901, source: ${H2}, action: accept, comment: from h2, state: "{{ fw_state }}", backend: nftables }
    - name: reject everyone else
      vncplay.firewall: { port: "5901", action: reject, state: "{{ fw_state }}", backend: nftables }
    - name: sshd still answers
      wait_for: port=22 search_regex=^SSH-2 timeout=10
`;

interface Run {
  code: number;
  out: string;
  recap: { ok: number; changed: number; failed: number } | undefined;
}

/** The CLI from source (no build step needed): main(argv) through tsx. */
function vncplay(args: string[]): Promise<Run> {
  return new Promise((res, rej) => {
    const code = `import('${join(repo, 'src/cli/main.ts')}').then(async (m) => { process.exitCode = await m.main(JSON.parse(process.env.VP_ARGS)); })`;
    const child = spawn('node', ['--import', 'tsx', '-e', code], { cwd: repo, env: { ...process.env, VP_ARGS: JSON.stringify(args), NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', rej);
    child.on('close', (c) => {
      const m = /^h1\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/m.exec(out);
      res({ code: c ?? -1, out, recap: m ? { ok: +m[1]!, changed: +m[2]!, failed: +m[3]! } : undefined });
    });
  });
}

describe.skipIf(!fleetAvailable())('firewall/systemd/wait_for playbook via the CLI on h1', () => {
  let book = '';
  const rules = async (): Promise<string> => (await hostExec(1, ['nft', 'list', 'table', 'inet', 'vncplay'])).stdout.replace(/# handle \d+/g, '');

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-fwbook-'));
    book = join(dir, 'vnc-firewall.yml');
    writeFileSync(book, PLAYBOOK);
    await hostExecOk(1, ['sh', '-c', 'nft delete table inet vncplay 2>/dev/null; systemctl stop "vncplay-fw-rollback-*.timer" 2>/dev/null; rm -rf /run/vncplay; true']);
  });
  afterAll(async () => {
    await hostExec(1, ['sh', '-c', 'nft delete table inet vncplay']);
  });

  it('first run: both rules added (changed=2), exit 0', async () => {
    const r = await vncplay([book, '-i', fleetInventory()]);
    expect([r.code, r.recap], r.out).toEqual([0, { ok: 4, changed: 2, failed: 0 }]);
    const t = await rules();
    expect(t).toContain(`ip saddr ${H2} tcp dport 5901 accept comment "vncplay/1 tcp 5901 ${H2}/32 accept # from h2"`);
    expect(t).toContain('tcp dport 5901 reject with tcp reset comment "vncplay/1 tcp 5901 any reject"');
    expect(t.indexOf('accept comment')).toBeLessThan(t.indexOf('reject with'));
  });

  it('second run: changed=0', async () => {
    const r = await vncplay([book, '-i', fleetInventory()]);
    expect([r.code, r.recap], r.out).toEqual([0, { ok: 4, changed: 0, failed: 0 }]);
  });

  it('--check --diff of the removal reports two changes and leaves the rules', async () => {
    const before = await rules();
    const r = await vncplay([book, '-i', fleetInventory(), '--check', '--diff', '-e', 'fw_state=absent']);
    expect([r.code, r.recap], r.out).toEqual([0, { ok: 4, changed: 2, failed: 0 }]);
    expect(r.out).toContain('-vncplay/1 tcp 5901 any reject');
    expect(await rules()).toBe(before);
  });

  it('removal run: changed=2, then the chain is empty', async () => {
    const r = await vncplay([book, '-i', fleetInventory(), '-e', 'fw_state=absent']);
    expect([r.code, r.recap], r.out).toEqual([0, { ok: 4, changed: 2, failed: 0 }]);
    expect(await rules()).not.toContain('vncplay/1');
  });
});

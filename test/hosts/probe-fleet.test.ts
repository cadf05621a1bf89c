// `vncplay probe` against a real Xtigervnc on a fleet host: one display up, one with nothing listening, and an
// inventory host at an address where nothing answers; metrics as a textfile and served on /metrics.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAddress, fleetAvailable, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { repoRoot, vncplay } from '../support/cli-helpers.js';

const HOST = 1;
const UP_DISPLAY = 7;
const DOWN_DISPLAY = 8;
// In the fleet's own range, where no host is: connects time out (nothing sends a refusal).
const SILENT_ADDRESS = fleetAddress(99);

describe.skipIf(!fleetAvailable())('vncplay probe on the fleet (real Xtigervnc)', () => {
  const host = fleetAvailable() ? fleetHosts()[HOST - 1]! : { name: 'h1', address: '' };
  let dir: string;
  let inventory: string;

  beforeAll(async () => {
    await hostExec(HOST, ['systemctl', 'stop', 'vncplay-probe-test']);
    await hostExecOk(HOST, ['systemd-run', '--unit', 'vncplay-probe-test', '--uid', 'vncplay', 'Xtigervnc', `:${UP_DISPLAY}`,
      '-rfbport', String(5900 + UP_DISPLAY), '-SecurityTypes', 'None', '-localhost', 'no', '-geometry', '640x480']);
    await hostExecOk(HOST, ['sh', '-c', `for i in $(seq 50); do nc -z ${host.address} ${5900 + UP_DISPLAY} && exit 0; sleep 0.1; done; exit 1`]);
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-probe-'));
    inventory = path.join(dir, 'inventory.yml');
    await writeFile(inventory, [
      'all:',
      '  children:',
      '    vnc:',
      '      hosts:',
      `        ${host.name}:`,
      `          ansible_host: "{{ '${host.address}' }}"`,
      `          vnc_displays: [${UP_DISPLAY}, ${DOWN_DISPLAY}]`,
      '        gone:',
      `          ansible_host: ${SILENT_ADDRESS}`,
      '    other:',
      '      hosts:',
      '        not-probed:',
      `          ansible_host: ${fleetAddress(98)}`,
      '',
    ].join('\n'));
  });
  afterAll(async () => {
    await hostExec(HOST, ['systemctl', 'stop', 'vncplay-probe-test']);
  });

  it('probes the vnc group: up, refused and silent displays; exit 2; the textfile has one series per display', async () => {
    const textfile = path.join(dir, 'rfb.prom');
    const r = await vncplay(['probe', '-i', inventory, '--timeout', '1', '--textfile', textfile]);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith(`${host.name} :${UP_DISPLAY} `))).toMatch(/ up +RFB 003\.008 in \d+ ms$/);
    expect(lines.find((l) => l.startsWith(`${host.name} :${DOWN_DISPLAY} `))).toMatch(/DOWN +connection refused/);
    expect(lines.find((l) => l.startsWith('gone :1 '))).toMatch(/DOWN +connect timed out after \d+ ms/);
    expect(r.stdout).not.toContain('not-probed');
    const prom = await readFile(textfile, 'utf8');
    expect(prom).toContain(`rfbserver_up{host="${host.name}",display=":${UP_DISPLAY}",instance="${host.address}:${5900 + UP_DISPLAY}"} 1\n`);
    expect(prom).toContain(`rfbserver_up{host="${host.name}",display=":${DOWN_DISPLAY}",instance="${host.address}:${5900 + DOWN_DISPLAY}"} 0\n`);
    expect(prom).toContain(`rfbserver_up{host="gone",display=":1",instance="${SILENT_ADDRESS}:5901"} 0\n`);
    const seconds = [...prom.matchAll(/^rfbserver_probe_seconds\{host="gone"[^}]*\} ([\d.]+)$/gm)].map((m) => Number(m[1]));
    expect(seconds).toHaveLength(1);
    expect(seconds[0]).toBeGreaterThanOrEqual(0.9);
    expect(seconds[0]).toBeLessThan(3);
  });

  it('exits 0 when every selected display answers (-l and --displays narrow it)', async () => {
    const r = await vncplay(['probe', '-i', inventory, '-l', host.name, '--displays', String(UP_DISPLAY)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--listen serves /metrics, probing at each scrape, until SIGTERM', async () => {
    const child = spawn('node', [path.join(repoRoot, 'bin/vncplay.js'), 'probe', '-i', inventory, '-l', host.name, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /on (http:\/\/[\d.:]+\/metrics)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('close', (code) => reject(new Error(`probe exited ${code}: ${out}`)));
    });
    const first = await (await fetch(url)).text();
    await hostExecOk(HOST, ['systemctl', 'stop', 'vncplay-probe-test']);
    const second = await (await fetch(url)).text();
    expect(first).toContain(`rfbserver_up{host="${host.name}",display=":${UP_DISPLAY}",instance="${host.address}:${5900 + UP_DISPLAY}"} 1`);
    expect(second).toContain(`rfbserver_up{host="${host.name}",display=":${UP_DISPLAY}",instance="${host.address}:${5900 + UP_DISPLAY}"} 0`);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('bad input: a display that is not a number, vnc_displays of the wrong type, no -i', async () => {
    const bad = await vncplay(['probe', '-i', inventory, '--displays', '1,x']);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/--displays must be display numbers/);
    const inv2 = path.join(dir, 'bad.yml');
    await writeFile(inv2, 'all:\n  hosts:\n    h9:\n      vnc_displays: "one"\n');
    const wrong = await vncplay(['probe', '-i', inv2]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/h9: vnc_displays must be a list of display numbers/);
    const none = await vncplay(['probe']);
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/needs -i INVENTORY/);
  });
});

// `vncplay schedule playbook|probe`: the units systemd-analyze accepts, and the cron line's command run for real
// against a local play (the log and metrics a scheduled run leaves).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scheduleCommand } from '../../src/cli/schedule.js';
import { requireProgram } from '../support/tools.js';

describe('`vncplay schedule playbook` and `vncplay schedule probe`', () => {
  const verify = async (dir: string, name: string): Promise<void> => {
    const r = await promisify(execFile)(requireProgram('systemd-analyze'), ['verify', path.join(dir, `${name}.timer`), path.join(dir, `${name}.service`)], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } })
      .then(({ stderr }) => ({ code: 0, stderr }))
      .catch((e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(r.stderr.split('\n').filter((l) => l.includes(name)), r.stderr).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
  };

  it('playbook: the service runs the playbook with --json appended to LOG_DIR/NAME.ndjson, metrics to --metrics-file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-schedule-'));
    const code = await scheduleCommand([
      'playbook', '--on-calendar', 'Mon..Fri 04:30', '--playbook', 'playbooks/restart.yml', '-i', 'inventories/demo.yml', '-e', 'vnc_displays=[1,2]',
      '--unit-dir', dir, '--log-dir', path.join(dir, 'log'), '--metrics-file', path.join(dir, 'restart.prom'),
    ]);
    expect(code).toBe(0);
    const svc = await readFile(path.join(dir, 'vncplay-restart.service'), 'utf8');
    expect(svc).toMatch(/\nExecStart=\S+node\S* \S+\/bin\/vncplay\.js \S+\/playbooks\/restart\.yml -i \S+\/inventories\/demo\.yml -e "vnc_displays=\[1,2\]" --json --metrics-file \S+\/restart\.prom\n/);
    expect(svc).toContain(`\nStandardOutput=append:${path.join(dir, 'log', 'vncplay-restart.ndjson')}\n`);
    expect(await readFile(path.join(dir, 'vncplay-restart.timer'), 'utf8')).toContain('OnCalendar=Mon..Fri 04:30');
    await verify(dir, 'vncplay-restart');
  });

  it('probe: the service writes the textfile; the timer fires to the second', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-schedule-'));
    const code = await scheduleCommand(['probe', '--on-calendar', '*:*:0/30', '-i', 'inventories/demo.yml', '--displays', '1,2', '--textfile', path.join(dir, 'rfb.prom'), '--unit-dir', dir, '--log-dir', path.join(dir, 'log')]);
    expect(code).toBe(0);
    const svc = await readFile(path.join(dir, 'vncplay-probe.service'), 'utf8');
    expect(svc).toMatch(/\nExecStart=\S+node\S* \S+\/bin\/vncplay\.js probe -i \S+\/inventories\/demo\.yml --displays 1,2 --textfile \S+\/rfb\.prom\n/);
    const timer = await readFile(path.join(dir, 'vncplay-probe.timer'), 'utf8');
    expect(timer).toContain('OnCalendar=*:*:0/30');
    expect(timer).toContain('AccuracySec=1s');
    await verify(dir, 'vncplay-probe');
    await expect(scheduleCommand(['probe', '--on-calendar', 'daily', '-i', 'inventories/demo.yml', '--unit-dir', dir])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--textfile/) });
    await expect(scheduleCommand(['probe', '--on-calendar', 'daily', '-i', 'x', '--textfile', 'y', '--rto-budget', '5'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/unknown option --rto-budget/) });
  });

  it("the cron line of a playbook schedule runs it: the log gets the run's events, the metrics file its recap", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-schedule-'));
    const playbook = path.join(dir, 'touch.yml');
    await writeFile(playbook, `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - name: mark\n      copy:\n        dest: ${dir}/marker\n        content: "ran\\n"\n`);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      expect(await scheduleCommand(['playbook', '--on-calendar', 'daily', '--playbook', playbook, '-i', 'localhost,', '--unit-dir', dir, '--log-dir', path.join(dir, 'log'), '--metrics-file', path.join(dir, 'touch.prom')])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const cron = out.join('').split('\n').find((l) => l.startsWith('0 0 * * * root '));
    expect(cron).toBeDefined();
    const command = cron!.slice('0 0 * * * root '.length);
    for (let run = 0; run < 2; run++) await promisify(execFile)(requireProgram('sh'), ['-c', command]);
    expect(await readFile(path.join(dir, 'marker'), 'utf8')).toBe('ran\n');
    const events = (await readFile(path.join(dir, 'log', 'vncplay-touch.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'run_start')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'run_end')).toHaveLength(2);
    expect(await readFile(path.join(dir, 'touch.prom'), 'utf8')).toMatch(/vncplay_/);
  });
});

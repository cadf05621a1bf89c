import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { calendarToCron, cronLine, renderService, renderTimer, systemdWord, type Schedule } from '../../src/drill/schedule.js';
import { scheduleCommand } from '../../src/cli/schedule.js';
import { requireProgram } from '../support/tools.js';


describe('systemdWord (systemd Exec grammar, not a shell)', () => {
  const rows: [string, string][] = [
    ['/usr/bin/node', '/usr/bin/node'],
    ['-e', '-e'],
    ['50%', '50%%'],
    ['$HOME', '$$HOME'],
    ['Sun 03:00', '"Sun 03:00"'],
    ['{"rto_budget_s": 5}', '"{\\"rto_budget_s\\": 5}"'],
    ['a\\b c', '"a\\\\b c"'],
    ["it's", '"it\'s"'],
  ];
  for (const [input, want] of rows) it(JSON.stringify(input), () => expect(systemdWord(input)).toBe(want));
  it('refuses a newline', () => expect(() => systemdWord('a\nb')).toThrow(/newline/));
});

describe('calendarToCron', () => {
  const rows: [string, string | undefined][] = [
    ['Sun 03:00', '0 3 * * 0'],
    ['sun 3:05', '5 3 * * 0'],
    ['Mon..Fri 02:30', '30 2 * * 1-5'],
    ['Mon,Wed,Fri *-*-* 23:59:00', '59 23 * * 1,3,5'],
    ['*-*-* 04:15', '15 4 * * *'],
    ['daily', '0 0 * * *'],
    ['weekly', '0 0 * * 1'],
    ['Sun 03:00:30', undefined],
    ['*-*-01 03:00', undefined],
    ['Sun 25:00', undefined],
    ['Funday 03:00', undefined],
  ];
  for (const [spec, want] of rows) it(spec, () => expect(calendarToCron(spec)).toBe(want));
});

const sched: Schedule = {
  name: 'vncplay-drill',
  onCalendar: 'Sun 03:00',
  command: ['/usr/bin/node', '/opt/vncplay/bin/vncplay.js', 'drill', 'run', '--log-dir', '/var/log/vncplay', '--', '/opt/pb/failover-drill.yml', '-i', '/opt/inv.yml', '-e', 'drill_fault=stop_vnc rto_budget_s=5'],
  workingDirectory: '/opt/pb',
  description: 'vncplay failover drill (failover-drill.yml)',
};

describe('unit files and cron line', () => {
  it('service is a oneshot running the drill; timer is persistent on the calendar', () => {
    const svc = renderService(sched);
    expect(svc).toContain('Type=oneshot');
    expect(svc).toContain('ExecStart=/usr/bin/node /opt/vncplay/bin/vncplay.js drill run --log-dir /var/log/vncplay -- /opt/pb/failover-drill.yml -i /opt/inv.yml -e "drill_fault=stop_vnc rto_budget_s=5"');
    const timer = renderTimer(sched);
    expect(timer).toContain('OnCalendar=Sun 03:00');
    expect(timer).toContain('Persistent=true');
    expect(timer).toContain('Unit=vncplay-drill.service');
    expect(timer).toContain('WantedBy=timers.target');
  });

  it('cron line runs the same command through sh, quoted', () => {
    expect(cronLine(sched)).toBe(
      "0 3 * * 0 root cd /opt/pb && /usr/bin/node /opt/vncplay/bin/vncplay.js drill run --log-dir /var/log/vncplay -- /opt/pb/failover-drill.yml -i /opt/inv.yml -e 'drill_fault=stop_vnc rto_budget_s=5'",
    );
    expect(cronLine({ ...sched, command: ['/bin/echo', '50%'] })).toContain('/bin/echo 50\\%');
    expect(cronLine({ ...sched, onCalendar: '*-*-01 03:00' })).toBeUndefined();
  });

  it('`vncplay schedule drill` writes units that systemd-analyze verify accepts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-schedule-'));
    const code = await scheduleCommand([
      'drill', '--on-calendar', 'Sun 03:00', '--playbook', 'playbooks/failover-drill.yml', '-i', 'test/fixtures/inventories/ini/hosts.ini',
      '-e', 'drill_fault=stop_vnc', '--unit-dir', dir, '--name', 'vp-drill-test', '--rto-budget', '5', '--log-dir', path.join(dir, 'log'),
      '--report-dir', path.join(dir, 'reports'), '--metrics-file', path.join(dir, 'drill.prom'),
    ]);
    expect(code).toBe(0);
    const svc = await readFile(path.join(dir, 'vp-drill-test.service'), 'utf8');
    expect(svc).toMatch(/ExecStart=\S+node\S* \S+\/bin\/vncplay\.js drill run --log-dir \S+\/log --out \S+\/reports --rto-budget 5 -- \S+\/playbooks\/failover-drill\.yml -i \S+\/test\/fixtures\/inventories\/ini\/hosts\.ini -e drill_fault=stop_vnc --metrics-file \S+\/drill\.prom\n/);
    // verify checks syntax, that ExecStart's binary exists and is executable, and the timer's Unit=.
    const r = await promisify(execFile)('systemd-analyze', ['verify', path.join(dir, 'vp-drill-test.timer'), path.join(dir, 'vp-drill-test.service')], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } })
      .then(({ stderr }) => ({ code: 0, stderr }))
      .catch((e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(r.stderr.split('\n').filter((l) => l.includes('vp-drill-test')), r.stderr).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a calendar systemd rejects is a usage error, and nothing is written', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-schedule-'));
    const p = scheduleCommand(['drill', '--on-calendar', 'every sunday-ish', '--playbook', 'x.yml', '-i', 'inv', '--unit-dir', dir]);
    requireProgram('systemd-analyze');
    await expect(p).rejects.toMatchObject({ code: 'E_SCHEDULE_CALENDAR' });
    await expect(scheduleCommand(['drill', '--playbook', 'x.yml', '-i', 'inv'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--on-calendar/) });
    await expect(scheduleCommand(['drill', '--on-calendar', 'daily', '--playbook', 'x.yml', '-i', 'i', '--name', 'a/b'])).rejects.toMatchObject({ code: 'E_SCHEDULE_NAME' });
  });
});

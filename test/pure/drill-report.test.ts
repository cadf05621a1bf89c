import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunLog, renderJunit, renderMarkdown, summarizeDrill, writeDrillReport } from '../../src/drill/report.js';
import type { RunEvent } from '../../src/runner/events.js';

const T0 = Date.parse('2026-11-25T03:00:10.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function drill(phase: string, dtMs: number, data: Record<string, unknown> = {}): RunEvent {
  return { type: 'drill', time: iso(T0 + dtMs), host: 'h3', phase, data: { ...data, t_ms: T0 + dtMs } };
}

/** A whole drill run's events; `over` replaces or drops (undefined) phases by name. */
function run(opts: { rto?: number | null; budget?: number; exit?: number; failback?: boolean; refused?: boolean } = {}): RunEvent[] {
  const ev: RunEvent[] = [
    { type: 'run_start', time: iso(T0 - 5000), playbook: 'playbooks/failover-drill.yml', check: false, diff: false, forks: 50 },
    drill('health', -2000, { host: '198.18.0.12' }),
  ];
  if (opts.refused) {
    ev.push(drill('refused', -500, { healthy: ['h2'], masters: ['h2', 'h3'], fault: 'stop_vnc' }));
    ev.push({ type: 'task_result', time: iso(T0), host: 'h2', task: { id: '1', name: 'Pre-check | refuse', path: 'x:1:1', handler: false }, status: 'failed', changed: false, failed: true, msg: 'drill refused', durationMs: 1 });
  } else {
    ev.push(drill('t0', 0, { fault: 'stop_vnc', primary: 'h2', standby: 'h3', vip: '198.18.0.100', port: 5901, rto_budget_s: opts.budget ?? 10 }));
    ev.push(drill('fault_injected', 400, { fault: 'stop_vnc' }));
    if (opts.rto !== null) {
      const rto = opts.rto ?? 1.5;
      ev.push(drill('standby_answered', rto * 1000, { host: '198.18.0.100', rto_s: rto, attempts: 12, failures: 5 }));
      ev.push(drill('standby_master', rto * 1000 + 100, { host: 'h3' }));
    } else {
      ev.push(drill('standby_answered_timeout', 60_000, { last: 'connection refused' }));
    }
    ev.push(drill('restored', 4000, { fault: 'stop_vnc' }));
    if (opts.failback !== false) ev.push(drill('failback', 7000, { masters: ['h2'] }));
  }
  ev.push({ type: 'recap', time: iso(T0 + 8000), hosts: {} });
  ev.push({ type: 'run_end', time: iso(T0 + 8000), exitCode: opts.exit ?? 0, durationMs: 13_000, interrupted: false });
  return ev;
}

describe('summarizeDrill', () => {
  const cases: { name: string; events: RunEvent[]; budget?: number; passed: boolean; reasons: RegExp[] }[] = [
    { name: 'a good drill', events: run(), passed: true, reasons: [] },
    { name: 'RTO over the recorded budget', events: run({ rto: 12.5 }), passed: false, reasons: [/RTO 12\.5 s exceeds the budget of 10 s/] },
    { name: 'RTO over a budget given on the command line', events: run({ rto: 1.5 }), budget: 1, passed: false, reasons: [/budget of 1 s/] },
    { name: 'a larger command-line budget wins over the run', events: run({ rto: 12.5 }), budget: 20, passed: true, reasons: [] },
    { name: 'the standby never answered', events: run({ rto: null, exit: 2 }), passed: false, reasons: [/never answered/, /exited 2/] },
    { name: 'no failback', events: run({ failback: false, exit: 2 }), passed: false, reasons: [/failback/, /exited 2/] },
    { name: 'refused by the pre-checks', events: run({ refused: true, exit: 2 }), passed: false, reasons: [/refused/, /exited 2/] },
    {
      name: 'a host unreachable during the pre-checks',
      events: [
        ...run({ exit: 3 }).filter((e) => e.type === 'run_start'),
        { type: 'task_result', time: iso(T0), host: 'h3', task: { id: '2', name: 'Pre-check | units', path: 'x:2:1', handler: false }, status: 'unreachable', changed: false, failed: true, msg: 'lost the connection to h3', durationMs: 1 },
        ...run({ exit: 3 }).filter((e) => e.type === 'run_end'),
      ],
      passed: false,
      reasons: [/never reached t0: unreachable h3/, /exited 3/],
    },
    { name: 'truncated log (no run_end)', events: run().filter((e) => e.type !== 'run_end'), passed: false, reasons: [/no run_end/] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = summarizeDrill(c.events, c.budget !== undefined ? { rtoBudgetS: c.budget } : {});
      expect(s.passed).toBe(c.passed);
      expect(s.reasons).toHaveLength(c.reasons.length);
      for (const r of c.reasons) expect(s.reasons.join('\n')).toMatch(r);
    });
  }

  it('phases carry seconds since t0 from the modules own clock stamps; health probes are left out', () => {
    const s = summarizeDrill(run({ rto: 1.25 }));
    expect(s.phases.map((p) => p.phase)).toEqual(['t0', 'fault_injected', 'standby_answered', 'standby_master', 'restored', 'failback']);
    expect(s.phases.find((p) => p.phase === 'standby_answered')!.sinceT0S).toBe(1.25);
    expect(s).toMatchObject({ fault: 'stop_vnc', primary: 'h2', standby: 'h3', vip: '198.18.0.100:5901', rtoS: 1.25, budgetS: 10, runExitCode: 0 });
  });

  it('the budget defaults to 10 s when neither the run nor the caller gives one', () => {
    const ev = run().map((e) => (e.type === 'drill' && e.phase === 't0' ? { ...e, data: { ...e.data, rto_budget_s: undefined } } : e));
    expect(summarizeDrill(ev).budgetS).toBe(10);
  });
});

describe('report files', () => {
  it('markdown names the verdict, the RTO against the budget, the phases and why it failed', () => {
    const down = summarizeDrill([run()[0]!, { type: 'task_result', time: iso(T0), host: 'h3', task: { id: '2', name: 'Pre-check | units', path: 'x:2:1', handler: false }, status: 'unreachable', changed: false, failed: true, msg: 'lost the connection', durationMs: 1 }]);
    expect(renderMarkdown(down)).toContain('## Failed tasks\n\n- h3: Pre-check \\| units: UNREACHABLE: lost the connection');
    const md = renderMarkdown(summarizeDrill(run({ rto: 12.5, exit: 2 })));
    expect(md).toMatch(/^# Failover drill: FAILED/);
    expect(md).toContain('- **RTO:** 12.500 s');
    expect(md).toContain('- **RTO budget:** 10 s');
    expect(md).toMatch(/## Why it failed\n\n- RTO 12\.5 s exceeds the budget of 10 s\n- the run exited 2/);
    expect(md).toMatch(/\| standby_answered \| 2026-11-25T03:00:22\.500Z \| 12\.500 \| .*12 probes, 5 failed/);
    expect(md).toMatch(/\| t0 \| .* \| 0\.000 \| .*stop_vnc on h2/);
  });

  it('junit has one case per check, failures only where the drill failed, and escapes XML', () => {
    const passed = renderJunit(summarizeDrill(run()));
    expect(passed).toMatch(/<testsuites name="vncplay failover drill" tests="4" failures="0"/);
    expect(passed).toContain('<property name="rto_s" value="1.5"/>');
    expect(passed).not.toContain('<failure');
    const slow = renderJunit(summarizeDrill(run({ rto: 12.5 })));
    expect(slow).toMatch(/tests="4" failures="1"/);
    expect(slow).toMatch(/name="failover \(stop_vnc\): standby answers on the VIP within 10 s" time="12\.500">\n\s+<failure message="RTO 12\.5 s exceeds the budget of 10 s"/);
    const refused = renderJunit(summarizeDrill(run({ refused: true, exit: 2 })));
    expect(refused).toMatch(/failures="4"/);
    const weird = summarizeDrill(run());
    weird.fault = 'a<b & "c"';
    expect(renderJunit(weird)).toContain('failover-drill.a&lt;b &amp; &quot;c&quot;');
  });

  it('writeDrillReport reads NDJSON and writes report.md + junit.xml; bad input is a positioned error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-drill-report-'));
    const log = path.join(dir, 'run.ndjson');
    await writeFile(log, run().map((e) => JSON.stringify(e)).join('\n') + '\n\n');
    const r = await writeDrillReport(log, path.join(dir, 'out'));
    expect(r.summary.passed).toBe(true);
    expect(await readFile(path.join(dir, 'out', 'report.md'), 'utf8')).toMatch(/^# Failover drill: PASSED/);
    expect(await readFile(path.join(dir, 'out', 'junit.xml'), 'utf8')).toMatch(/^<\?xml/);
    expect(() => parseRunLog('{"type":"run_start"}\nnot json\n', 'x.ndjson')).toThrow(expect.objectContaining({ code: 'E_DRILL_LOG', pos: { file: 'x.ndjson', line: 2, col: 1 } }));
    await writeFile(log, '\n');
    await expect(writeDrillReport(log, dir)).rejects.toMatchObject({ code: 'E_DRILL_EMPTY' });
    await expect(writeDrillReport(path.join(dir, 'missing.ndjson'), dir)).rejects.toMatchObject({ code: 'E_DRILL_LOG' });
  });
});

describe('vncplay drill (exit codes through main)', () => {
  it('0 passed, 1 failed/over budget, 4 unreadable log, 5 bad command line', async () => {
    const { main } = await import('../../src/cli/main.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-drill-cli-'));
    const log = path.join(dir, 'run.ndjson');
    await writeFile(log, run({ rto: 2 }).map((e) => JSON.stringify(e)).join('\n') + '\n');
    const quiet = <T>(fn: () => Promise<T>): Promise<T> => {
      const out = process.stdout.write.bind(process.stdout);
      const err = process.stderr.write.bind(process.stderr);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      return fn().finally(() => {
        process.stdout.write = out;
        process.stderr.write = err;
      });
    };
    expect(await quiet(() => main(['drill', 'report', log]))).toBe(0);
    expect(await readFile(path.join(dir, 'report.md'), 'utf8')).toMatch(/PASSED/);
    expect(await quiet(() => main(['drill', 'report', log, '--out', path.join(dir, 'strict'), '--rto-budget', '1.5']))).toBe(1);
    expect(await quiet(() => main(['drill', 'report', path.join(dir, 'missing.ndjson')]))).toBe(4);
    expect(await quiet(() => main(['drill', 'report']))).toBe(5);
    expect(await quiet(() => main(['drill', 'report', log, '--rto-budget', 'soon']))).toBe(5);
    expect(await quiet(() => main(['drill', 'explode']))).toBe(5);
    expect(await quiet(() => main(['schedule', 'drill', '--playbook', 'x.yml']))).toBe(5);
  });
});

// The shipped Prometheus rules (monitoring/rfbserver.rules.yml) checked and unit-tested by Prometheus's own
// promtool, and `vncplay probe`'s exposition format linted by it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusText, type DisplayProbe } from '../../src/cli/probe.js';
import { requireProgram } from '../support/tools.js';
import { repoRoot } from '../support/cli-helpers.js';

const RULES = path.join(repoRoot, 'monitoring/rfbserver.rules.yml');

function promtool(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(requireProgram('promtool'), args, { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout + r.stderr };
}

const annotations = (host: string, summary: string): Record<string, string> => ({ summary, runbook: `vncplay playbooks/restart.yml -i INVENTORY -l ${host}` });

describe('monitoring/rfbserver.rules.yml', () => {
  it('is valid for promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 4 rules found');
  });

  it('fires for a display that stops answering, not for one that answers, nor for a short blip (promtool test rules)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-rules-'));
    const now = 0;
    const tests = {
      rule_files: [RULES],
      evaluation_interval: '30s',
      tests: [
        {
          interval: '30s',
          input_series: [
            { series: 'rfbserver_up{host="h1",display=":1"}', values: '1x40' },
            // down from minute 5 on
            { series: 'rfbserver_up{host="h2",display=":1"}', values: '1x10 0x30' },
            // one failed probe (30 s) at minute 5: 10 of the 11 samples in a 5-minute window answered (91 %), below 95 % for
            // less than the alert's 5 minutes, and never 2 minutes down: no alert
            { series: 'rfbserver_up{host="h3",display=":2"}', values: '1x10 0 1x29' },
            { series: 'rfbserver_probe_timestamp_seconds', values: `${now}+30x40` },
          ],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'RfbServerDown', exp_alerts: [] },
            { eval_time: '4m', alertname: 'RfbServerAvailabilityLow', exp_alerts: [] },
            {
              eval_time: '12m',
              alertname: 'RfbServerDown',
              exp_alerts: [{ exp_labels: { host: 'h2', display: ':1', severity: 'critical' }, exp_annotations: annotations('h2', 'VNC display :1 on h2 has not answered for 3 minutes') }],
            },
            {
              eval_time: '12m',
              alertname: 'RfbServerAvailabilityLow',
              exp_alerts: [{ exp_labels: { host: 'h2', display: ':1', severity: 'warning' }, exp_annotations: annotations('h2', 'VNC display :1 on h2 answered 0% of probes in 5 minutes') }],
            },
            { eval_time: '12m', alertname: 'RfbProbeStale', exp_alerts: [] },
          ],
          promql_expr_test: [
            { expr: 'rfbserver:availability:avg5m{host="h3"}', eval_time: '6m', exp_samples: [{ labels: 'rfbserver:availability:avg5m{host="h3",display=":2"}', value: 10 / 11 }] },
          ],
        },
      ],
    };
    const file = path.join(dir, 'rules.test.yml');
    writeFileSync(file, JSON.stringify(tests));
    const r = promtool(['test', 'rules', file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it("vncplay probe's metrics pass promtool check metrics", () => {
    const attempt = (ok: boolean): DisplayProbe['attempt'] => (ok ? { ok, banner: 'RFB 003.008', startedMs: 1000, endedMs: 1004 } : { ok, error: 'connection refused', startedMs: 1000, endedMs: 1001 });
    const text = prometheusText([
      { host: 'h1', display: 1, address: '198.18.0.11', port: 5901, attempt: attempt(true) },
      { host: 'odd "name"\\', display: 2, address: '198.18.0.12', port: 5902, attempt: attempt(false) },
    ], 1_700_000_000_000);
    const r = promtool(['check', 'metrics'], text);
    expect(r.code, r.out + text).toBe(0);
    expect(text).toContain('rfbserver_up{host="odd \\"name\\"\\\\",display=":2",instance="198.18.0.12:5902"} 0');
  });
});

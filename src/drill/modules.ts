import { actionModule } from '../modules/spec/define.js';
import { defineSpec } from '../modules/spec/types.js';
import { probeUntilAnswer, RFB_BANNER } from './rfb-probe.js';

/**
 * Controller-side modules of the failover drill (playbooks/failover-drill.yml). They run on the controller on
 * purpose: the RTO is what a VNC client outside the pair sees, so the clock and the probe are the controller's.
 * Both emit `drill` RunEvents (phase, data) that `vncplay drill report` turns into report.md and junit.xml.
 */

const NON_EMPTY = { pattern: '\\S', patternText: 'a non-empty name' } as const;

/** drill_event: stamp a drill phase (t0, fault_injected, restored …) with the controller's clock. */
export const drillEventModule = actionModule(
  defineSpec({
    description: 'Stamp a failover-drill phase with the controller clock: a `drill` event in the --json stream, t_ms in the result.',
    options: {
      phase: { type: 'str', required: true, ...NON_EMPTY, description: 'Name of the drill phase (t0, fault_injected, failback …).' },
      data: { type: 'dict', default: {}, description: 'Extra facts recorded with the phase (fault kind, hosts …).' },
    },
  }),
  {
    kind: 'action',
    name: 'drill_event',
    where: 'controller',
    inCheckMode: 'run',
    async run(args, ctx) {
      const tMs = Date.now();
      ctx.emit?.({ type: 'drill', phase: args.phase, data: { ...args.data, t_ms: tMs } });
      return { changed: false, data: { phase: args.phase, t: new Date(tMs).toISOString(), t_ms: tMs, ...args.data } };
    },
  },
);

const probeSpec = defineSpec({
  description: "Probe host:port's RFB banner from the controller every `interval` s until it answers; with `since`, the result's rto_s is the answer time minus since.",
  options: {
    host: { type: 'str', required: true, ...NON_EMPTY, description: 'Address to probe from the controller (the VIP).' },
    port: { type: 'int', min: 1, max: 65535, default: 5901, description: 'TCP port (5900 + display).' },
    interval: { type: 'float', min: 0.01, default: 0.1, description: 'Seconds between attempt starts; attempts overlap, so a hung connect does not slow the cadence.' },
    timeout: { type: 'float', min: 0, default: 60, description: 'Seconds to wait for an answer before the task fails.' },
    connect_timeout: { type: 'float', min: 0.01, default: 1, description: "One attempt's connect + banner deadline, seconds." },
    search_regex: { type: 'str', description: 'The first line must match this (default: an RFB version banner).' },
    since: { type: 'float', min: 0, description: 'Epoch milliseconds of t0 (a drill_event result t_ms); adds rto_s to the result.' },
    phase: { type: 'str', default: 'answered', ...NON_EMPTY, description: "Phase name of the emitted drill event ('_timeout' appended when nothing answered)." },
    rto_budget: { type: 'float', min: 0, description: 'Seconds rto_s may take; a slower answer fails the task.' },
  },
  check(args) {
    if (args.search_regex === undefined) return undefined;
    try {
      new RegExp(args.search_regex);
      return undefined;
    } catch (err) {
      return { param: 'search_regex', message: `search_regex is not a valid regular expression: ${(err as Error).message}` };
    }
  },
});

/** drill_probe: connect to host:port every `interval` s until the RFB banner answers; report when, and the RTO. */
export const drillProbeModule = actionModule(probeSpec, {
  kind: 'action',
  name: 'drill_probe',
  aliases: ['vnc_probe'],
  where: 'controller',
  inCheckMode: 'run',
  async run(args, ctx) {
    const { port, phase, since, rto_budget: budget } = args;
    const started = Date.now();
    const out = await probeUntilAnswer({
      host: args.host,
      port,
      intervalMs: args.interval * 1000,
      timeoutMs: args.timeout * 1000,
      connectTimeoutMs: args.connect_timeout * 1000,
      bannerRegex: args.search_regex !== undefined ? new RegExp(args.search_regex) : RFB_BANNER,
      signal: ctx.signal,
    });
    const data: Record<string, unknown> = {
      host: args.host,
      port,
      attempts: out.attempts,
      failures: out.failures,
      elapsed_s: round3((Date.now() - started) / 1000),
      last: out.last,
    };
    if (out.firstFailureMs !== undefined) data['first_failure_ms'] = out.firstFailureMs;
    if (out.answer) {
      data['answered_ms'] = out.answer.endedMs;
      data['answered_at'] = new Date(out.answer.endedMs).toISOString();
      data['banner'] = out.answer.banner;
    }
    if (since !== undefined && out.answer) data['rto_s'] = round3((out.answer.endedMs - since) / 1000);
    if (budget !== undefined) data['rto_budget_s'] = budget;
    ctx.emit?.({ type: 'drill', phase: out.ok ? phase : `${phase}_timeout`, data: { ...data, ok: out.ok, ...(out.answer ? { t_ms: out.answer.endedMs } : {}) } });
    if (!out.ok) {
      return { failed: true, msg: `no RFB banner from ${args.host}:${port} within ${args.timeout} s (last: ${out.last})`, data };
    }
    const rto = data['rto_s'];
    if (budget !== undefined && typeof rto === 'number' && rto > budget) {
      return { failed: true, msg: `RTO ${rto} s exceeds the budget of ${budget} s`, data };
    }
    return { changed: false, msg: typeof rto === 'number' ? `answered after ${rto} s` : `answered: ${out.last}`, data };
  },
});

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

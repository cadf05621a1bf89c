import type { ActionModule, ArgSchema, ModuleContext, ModuleReturn } from '../modules/types.js';
import { probeUntilAnswer, RFB_BANNER } from './rfb-probe.js';

/**
 * Controller-side modules of the failover drill (playbooks/failover-drill.yml). They run on the controller on
 * purpose: the RTO is what a VNC client outside the pair sees, so the clock and the probe are the controller's.
 * Both emit `drill` RunEvents (phase, data) that `vncplay drill report` turns into report.md and junit.xml.
 */

export interface DrillEventArgs {
  phase: string;
  data?: Record<string, unknown>;
}

/** drill_event: stamp a drill phase (t0, fault_injected, restored …) with the controller's clock. */
export const drillEventModule: ActionModule<DrillEventArgs> = {
  kind: 'action',
  name: 'drill_event',
  where: 'controller',
  inCheckMode: 'run',
  schema: {
    type: 'object',
    description: 'Stamp a failover-drill phase with the controller clock: a `drill` event in the --json stream, t_ms in the result.',
    additionalProperties: false,
    required: ['phase'],
    properties: {
      phase: { type: 'string', minLength: 1, description: 'Name of the drill phase (t0, fault_injected, failback …).' },
      data: { type: 'object', description: 'Extra facts recorded with the phase (fault kind, hosts …).' },
    },
  } satisfies ArgSchema,
  async run(args: DrillEventArgs, ctx: ModuleContext): Promise<ModuleReturn> {
    const tMs = Date.now();
    const data = { ...(args.data ?? {}), t_ms: tMs };
    ctx.drill?.(args.phase, data);
    return { changed: false, data: { phase: args.phase, t: new Date(tMs).toISOString(), t_ms: tMs, ...(args.data ?? {}) } };
  },
};

export interface DrillProbeArgs {
  host: string;
  port?: number | string;
  /** Seconds between attempts. */
  interval?: number | string;
  /** Seconds to wait for an answer overall. */
  timeout?: number | string;
  connect_timeout?: number | string;
  search_regex?: string;
  /** Epoch ms of t0: when given, the result carries rto_s = answer time − since. */
  since?: number | string;
  /** Phase name of the emitted drill event. */
  phase?: string;
  /** Seconds the RTO may take; with since, a slower answer fails the task. */
  rto_budget?: number | string;
}

const loose = (num: Record<string, unknown>): Record<string, unknown> => ({
  anyOf: [num, { type: 'string', pattern: '^\\s*[0-9]+(\\.[0-9]+)?\\s*$' }],
});

/** A number or a numeric string (templates render to strings) → number; undefined stays undefined. */
export function num(v: number | string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  return typeof v === 'number' ? v : Number(v);
}

/** drill_probe: connect to host:port every `interval` s until the RFB banner answers; report when, and the RTO. */
export const drillProbeModule: ActionModule<DrillProbeArgs> = {
  kind: 'action',
  name: 'drill_probe',
  aliases: ['vnc_probe'],
  where: 'controller',
  inCheckMode: 'run',
  schema: {
    type: 'object',
    description: "Probe host:port's RFB banner from the controller every `interval` s until it answers; with `since`, the result's rto_s is the answer time minus since.",
    additionalProperties: false,
    required: ['host'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'Address to probe from the controller (the VIP).' },
      port: { ...loose({ type: 'integer', minimum: 1, maximum: 65535 }), default: 5901, description: 'TCP port (5900 + display).' },
      interval: { ...loose({ type: 'number', minimum: 0.01 }), default: 0.1, description: 'Seconds between attempt starts; attempts overlap, so a hung connect does not slow the cadence.' },
      timeout: { ...loose({ type: 'number', minimum: 0 }), default: 60, description: 'Seconds to wait for an answer before the task fails.' },
      connect_timeout: { ...loose({ type: 'number', minimum: 0.01 }), default: 1, description: "One attempt's connect + banner deadline, seconds." },
      search_regex: { type: 'string', description: 'The first line must match this (default: an RFB version banner).' },
      since: { ...loose({ type: 'number', minimum: 0 }), description: 'Epoch milliseconds of t0 (a drill_event result t_ms); adds rto_s to the result.' },
      phase: { type: 'string', minLength: 1, default: 'answered', description: "Phase name of the emitted drill event ('_timeout' appended when nothing answered)." },
      rto_budget: { ...loose({ type: 'number', minimum: 0 }), description: 'Seconds rto_s may take; a slower answer fails the task.' },
    },
  } satisfies ArgSchema,
  validate(args: DrillProbeArgs): string | undefined {
    if (args.search_regex !== undefined) {
      try {
        new RegExp(args.search_regex);
      } catch (err) {
        return `drill_probe: search_regex is not a valid regular expression: ${(err as Error).message}`;
      }
    }
    return undefined;
  },
  async run(args: DrillProbeArgs, ctx: ModuleContext): Promise<ModuleReturn> {
    const port = num(args.port, 5901);
    const phase = args.phase ?? 'answered';
    const since = args.since === undefined ? undefined : num(args.since, 0);
    const started = Date.now();
    const out = await probeUntilAnswer({
      host: args.host,
      port,
      intervalMs: num(args.interval, 0.1) * 1000,
      timeoutMs: num(args.timeout, 60) * 1000,
      connectTimeoutMs: num(args.connect_timeout, 1) * 1000,
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
    const budget = args.rto_budget === undefined ? undefined : num(args.rto_budget, 0);
    if (budget !== undefined) data['rto_budget_s'] = budget;
    ctx.drill?.(out.ok ? phase : `${phase}_timeout`, { ...data, ok: out.ok, ...(out.answer ? { t_ms: out.answer.endedMs } : {}) });
    if (!out.ok) {
      return { failed: true, msg: `no RFB banner from ${args.host}:${port} within ${num(args.timeout, 60)} s (last: ${out.last})`, data };
    }
    const rto = data['rto_s'];
    if (budget !== undefined && typeof rto === 'number' && rto > budget) {
      return { failed: true, msg: `RTO ${rto} s exceeds the budget of ${budget} s`, data };
    }
    return { changed: false, msg: typeof rto === 'number' ? `answered after ${rto} s` : `answered: ${out.last}`, data };
  },
};

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

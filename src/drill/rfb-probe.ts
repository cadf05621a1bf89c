import net from 'node:net';

/** What one connection attempt to a VNC server saw. */
export interface RfbAttempt {
  ok: boolean;
  /** The first line the server sent ("RFB 003.008"), when it sent one. */
  banner?: string;
  /** Why it failed: 'connection refused', 'connect timed out', 'banner did not match: …'. */
  error?: string;
  /** Epoch milliseconds when the attempt started and ended. */
  startedMs: number;
  endedMs: number;
}

export interface ProbeOptions {
  host: string;
  port: number;
  /** Milliseconds between attempt starts (the probe cadence). */
  intervalMs: number;
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** One attempt's connect + banner deadline. */
  connectTimeoutMs: number;
  /** The banner must match this (RFB's "RFB xxx.yyy"). */
  bannerRegex: RegExp;
  signal?: AbortSignal;
  /** Called after each finished attempt (used to count failures and note the first outage). */
  onAttempt?(a: RfbAttempt): void;
}

export interface ProbeOutcome {
  ok: boolean;
  /** The first attempt that read a matching banner. */
  answer?: RfbAttempt;
  attempts: number;
  failures: number;
  /** The first failed attempt's end, epoch ms: when the outage was first seen from the controller. */
  firstFailureMs?: number;
  last: string;
}

export const RFB_BANNER = /^RFB \d{3}\.\d{3}/;

/** One TCP connect to host:port that reads the server's first line. Never rejects. */
export function probeRfbOnce(host: string, port: number, connectTimeoutMs: number, bannerRegex: RegExp = RFB_BANNER): Promise<RfbAttempt> {
  const startedMs = Date.now();
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const sock = net.connect({ host, port });
    const finish = (r: Omit<RfbAttempt, 'startedMs' | 'endedMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, startedMs, endedMs: Date.now() });
    };
    const timer = setTimeout(() => finish({ ok: false, error: buf ? 'banner timed out' : 'connect timed out' }), connectTimeoutMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length < 12) return;
      const line = (nl < 0 ? buf : buf.slice(0, nl)).trim();
      finish(bannerRegex.test(line) ? { ok: true, banner: line } : { ok: false, error: `banner did not match: ${JSON.stringify(line)}` });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: errorText(err) }));
    sock.on('close', () => finish({ ok: false, error: buf ? `closed after ${JSON.stringify(buf)}` : 'closed before a banner' }));
  });
}

function errorText(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    default:
      return err.message;
  }
}

/**
 * Starts an attempt every `intervalMs` until one reads a matching banner. Attempts overlap on purpose: while the
 * VIP moves, a SYN can vanish and its connect hangs until connectTimeoutMs, and a hung attempt must not hide the
 * standby answering 100 ms later. The answer time is when the banner arrived, not when the attempt began.
 */
export async function probeUntilAnswer(opts: ProbeOptions): Promise<ProbeOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  const outcome: ProbeOutcome = { ok: false, attempts: 0, failures: 0, last: 'no attempt yet' };
  const pending = new Set<Promise<RfbAttempt>>();
  return new Promise((resolve) => {
    let done = false;
    let tick: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (done) return;
      done = true;
      if (tick) clearTimeout(tick);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => {
      outcome.last = 'interrupted';
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const launch = (): void => {
      if (done) return;
      if (Date.now() >= deadline) {
        // Let attempts already in flight finish: one may be reading the banner right now.
        void Promise.allSettled([...pending]).then(stop);
        return;
      }
      outcome.attempts++;
      const left = Math.max(1, Math.min(opts.connectTimeoutMs, deadline - Date.now()));
      const p = probeRfbOnce(opts.host, opts.port, left, opts.bannerRegex);
      pending.add(p);
      void p.then((a) => {
        pending.delete(p);
        if (done) return;
        opts.onAttempt?.(a);
        if (a.ok) {
          if (!outcome.answer || a.endedMs < outcome.answer.endedMs) outcome.answer = a;
          outcome.ok = true;
          outcome.last = a.banner ?? 'answered';
          stop();
          return;
        }
        outcome.failures++;
        outcome.firstFailureMs ??= a.endedMs;
        outcome.last = a.error ?? 'failed';
      });
      tick = setTimeout(launch, opts.intervalMs);
    };
    launch();
  });
}

// The drill's RFB probe against real sockets on loopback: a server that appears late, one that speaks the wrong
// protocol, and nothing at all.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeRfbOnce, probeUntilAnswer, RFB_BANNER } from '../../src/drill/rfb-probe.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(port: number, greeting: string): Promise<net.Server> {
  const srv = net.createServer((sock) => sock.end(greeting));
  servers.push(srv);
  return new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv)));
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('RFB probe', () => {
  it('reads the banner of a server that answers, and reports a refused port', async () => {
    const port = await freePort();
    expect(await probeRfbOnce('127.0.0.1', port, 500)).toMatchObject({ ok: false, error: 'connection refused' });
    await listen(port, 'RFB 003.008\n');
    expect(await probeRfbOnce('127.0.0.1', port, 500)).toMatchObject({ ok: true, banner: 'RFB 003.008' });
  });

  it('a server that speaks another protocol is not an answer', async () => {
    const port = await freePort();
    await listen(port, 'SSH-2.0-OpenSSH_9.2\r\n');
    const a = await probeRfbOnce('127.0.0.1', port, 500, RFB_BANNER);
    expect(a.ok).toBe(false);
    expect(a.error).toMatch(/banner did not match: "SSH-2\.0/);
  });

  it('probes every interval until a late server answers; the answer time is when its banner arrived', async () => {
    const port = await freePort();
    const t0 = Date.now();
    setTimeout(() => void listen(port, 'RFB 003.008\n'), 600);
    const out = await probeUntilAnswer({ host: '127.0.0.1', port, intervalMs: 100, timeoutMs: 5000, connectTimeoutMs: 1000, bannerRegex: RFB_BANNER });
    expect(out.ok).toBe(true);
    const rto = out.answer!.endedMs - t0;
    // Listening at 600 ms, probed every 100 ms: answered within one interval (+ scheduling slack) of it.
    expect(rto).toBeGreaterThanOrEqual(600);
    expect(rto).toBeLessThan(900);
    expect(out.failures).toBeGreaterThanOrEqual(4);
    expect(out.attempts).toBeGreaterThanOrEqual(out.failures + 1);
    expect(out.firstFailureMs! - t0).toBeLessThan(100);
  });

  it('gives up at the timeout and says what it last saw; an abort stops it early', async () => {
    const port = await freePort();
    const started = Date.now();
    const out = await probeUntilAnswer({ host: '127.0.0.1', port, intervalMs: 100, timeoutMs: 500, connectTimeoutMs: 200, bannerRegex: RFB_BANNER });
    expect(out).toMatchObject({ ok: false, last: 'connection refused' });
    expect(Date.now() - started).toBeLessThan(1500);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const aborted = await probeUntilAnswer({ host: '127.0.0.1', port, intervalMs: 100, timeoutMs: 10_000, connectTimeoutMs: 200, bannerRegex: RFB_BANNER, signal: ac.signal });
    expect(aborted).toMatchObject({ ok: false, last: 'interrupted' });
  });
});

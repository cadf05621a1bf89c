import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinArgv } from '../../src/connection/quote.js';
import {
  countActive,
  procHexAddr,
  remoteProbeArgv,
  timeoutMessage,
  waitFor,
  waitLocal,
  waitRemote,
  waitSpec,
  type WaitOutcome,
} from '../../src/modules/wait-for.js';
import { pythonRegex } from '../../src/modules/python-regex.js';
import type { ModuleContext } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { localLineSession } from '../support/local-line-session.js';
import { parsedArgs } from '../support/module-args.js';

/** Arguments as a task writes them. */
type Written = Record<string, unknown>;
const spec = (a: Written): ReturnType<typeof waitSpec> => waitSpec(parsedArgs(waitFor, a));

/** Runs the remote probe exactly as a host would get it: argv joined by quote.ts, run by sh. */
function runProbe(args: Written): Promise<WaitOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', joinArgv(remoteProbeArgv(spec(args)))]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out.trim()) as WaitOutcome));
  });
}

/** The host's bash checks (wait-for-host.ts) in a line session on a local bash, driven by the controller's loop. */
let line: Awaited<ReturnType<typeof localLineSession>>;
function runHostChecks(args: Written): Promise<WaitOutcome> {
  const ctx = {
    hostName: 'local-line-session',
    signal: new AbortController().signal,
    exec: (argv: readonly string[]) => line.session.run(argv),
  } as unknown as ModuleContext;
  return waitRemote(spec(args), ctx);
}

let banner: net.Server;
let bannerPort = 0;
let silent: net.Server;
let silentPort = 0;
let closedPort = 0;
beforeAll(async () => {
  banner = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end('RFB 003.008\n');
  });
  silent = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  bannerPort = (banner.address() as net.AddressInfo).port;
  silentPort = (silent.address() as net.AddressInfo).port;
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as net.AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  line = await localLineSession();
});
afterAll(() => {
  line.close();
  banner.close();
  silent.close();
});

const RFB = '^RFB 003\\.00[38]';

describe.each([
  ['remote python3 probe', runProbe],
  ['host bash checks in a line session', runHostChecks],
  ['controller node probe', (a: Written) => waitLocal(spec(a), new AbortController().signal)],
])('%s on loopback', (_name, probe) => {
  it('reads the RFB banner and returns match groups', async () => {
    const r = await probe({ port: bannerPort, search_regex: '^RFB (\\d+)\\.(?P<minor>\\d+)', timeout: 5 });
    expect(r.ok).toBe(true);
    expect(r.match_groups).toEqual(['003', '008']);
    expect(r.match_groupdict).toEqual({ minor: '008' });
  });
  it('RFB regex from the issue matches', async () => {
    expect((await probe({ port: bannerPort, search_regex: RFB, timeout: 5 })).ok).toBe(true);
  });
  it('wrong banner: times out and says what it saw', async () => {
    const r = await probe({ port: bannerPort, search_regex: '^SSH-2\\.0', timeout: 1.5, sleep: 0.3, connect_timeout: 1 });
    expect(r.ok).toBe(false);
    expect(r.last).toMatch(/banner did not match: .*RFB 003\.008/);
  });
  it('refused port: says refused', async () => {
    const r = await probe({ port: closedPort, timeout: 1, sleep: 0.2 });
    expect(r.ok).toBe(false);
    expect(r.last).toBe('connection refused');
  });
  it('silent server with a regex: says nothing was sent', async () => {
    const r = await probe({ port: silentPort, search_regex: 'x', timeout: 1, connect_timeout: 0.5, sleep: 0.1 });
    expect(r.last).toMatch(/nothing was sent/);
  });
  it('stopped: a closed port is immediately ok; an open one times out', async () => {
    expect((await probe({ port: closedPort, state: 'stopped', timeout: 2 })).ok).toBe(true);
    const r = await probe({ port: bannerPort, state: 'stopped', timeout: 1, sleep: 0.2 });
    expect([r.ok, r.last]).toEqual([false, 'port still open']);
  });
  it('path present/absent with search_regex, and a metacharacter path stays literal', async () => {
    // No '/' inside the name, so the canary path is relative to the probe's working directory (this one).
    const p = `/tmp/vncplay-waitfor-'"; $(touch vncplay-wf-pwned) \`touch vncplay-wf-pwned\`-${process.pid}`;
    writeFileSync(p, 'ready port=5901\n');
    try {
      const r = await probe({ path: p, search_regex: 'port=(\\d+)', timeout: 2 });
      expect([r.ok, r.match_groups]).toEqual([true, ['5901']]);
      expect((await probe({ path: p, state: 'absent', timeout: 0.5, sleep: 0.1 })).last).toBe('file still exists');
    } finally {
      rmSync(p, { force: true });
    }
    expect((await probe({ path: p, state: 'absent', timeout: 2 })).ok).toBe(true);
    expect(existsSync('vncplay-wf-pwned')).toBe(false);
  });
  it('delay counts inside the timeout and elapsed reflects it', async () => {
    const r = await probe({ port: bannerPort, delay: 0.3, timeout: 5 });
    expect(r.ok).toBe(true);
    expect(r.elapsed).toBeGreaterThanOrEqual(0.3);
  });
});

describe('wait_for pieces', () => {
  it.each<[Written, RegExp | undefined]>([
    [{ port: 1, path: '/x' }, /`path` cannot be given with `port`/],
    [{ path: '/x', state: 'stopped' }, /state=absent/],
    [{ path: '/x', state: 'drained' }, /drained/],
    [{ port: 1, exclude_hosts: ['a'] }, /exclude_hosts/],
    [{ port: 1, state: 'stopped', search_regex: 'x' }, /search_regex/],
    [{ port: 1, state: 'drained', exclude_hosts: ['10.0.0.1'] }, undefined],
    [{ port: 5901, search_regex: RFB }, undefined],
  ])('the spec and its check: %j', (a, want) => {
    const got = checkArgs(waitFor, a);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });

  it('timeout messages follow Ansible and add what was last seen', () => {
    expect(timeoutMessage(spec({ port: 5901, host: '127.0.0.1' }), 'connection refused')).toBe(
      'Timeout when waiting for 127.0.0.1:5901 (last seen: connection refused)',
    );
    expect(timeoutMessage(spec({ port: 5901, search_regex: RFB }), 'x')).toMatch(/^Timeout when waiting for search string \^RFB/);
    expect(timeoutMessage(spec({ path: '/x', state: 'absent' }), '')).toBe('Timeout when waiting for /x to be absent.');
  });

  it('python regex syntax for the controller probe', () => {
    expect(pythonRegex('(?P<a>x)(?P=a)').exec('xx')?.groups).toEqual({ a: 'x' });
    expect(pythonRegex('(?i)rfb').test('RFB')).toBe(true);
  });

  it('/proc/net/tcp parsing for drained', () => {
    expect(procHexAddr('0100007F')).toBe('127.0.0.1');
    expect(procHexAddr('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:170D 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1',
      '   1: 0100007F:170D 0C0012C6:D2A4 01 00000000:00000000 00:00000000 00000000  1000        0 2 1',
      '   2: 0100007F:170D 0D0012C6:D2A5 06 00000000:00000000 00:00000000 00000000  1000        0 3 1',
    ].join('\n');
    expect(countActive(text, 5901, ['ESTABLISHED', 'TIME_WAIT'], new Set())).toBe(2);
    expect(countActive(text, 5901, ['ESTABLISHED', 'TIME_WAIT'], new Set(['198.18.0.12']))).toBe(1);
    expect(countActive(text, 22, ['ESTABLISHED'], new Set())).toBe(0);
  });

  it('the module never reports changed and returns elapsed + match_groups (controller side)', async () => {
    const ctx = { hostName: 'localhost', signal: new AbortController().signal, conn: { kind: 'local' } } as unknown as ModuleContext;
    const ok = await waitFor.run(parsedArgs(waitFor, { port: bannerPort, search_regex: '^RFB (003)' }), ctx);
    expect(ok).toMatchObject({ changed: false, data: { elapsed: 0, match_groups: ['003'], port: bannerPort } });
    const bad = await waitFor.run(parsedArgs(waitFor, { port: closedPort, timeout: 1, sleep: 0.2, msg: 'VNC did not come up' }), ctx);
    expect(bad).toMatchObject({ changed: false, failed: true, msg: 'VNC did not come up', data: { last_seen: 'connection refused' } });
  });
});

describe('loose Ansible types (templates and key=value give strings)', () => {
  it('numeric strings are parsed to numbers before the module sees them; other strings are refused', async () => {
    expect(checkArgs(waitFor, { port: '5901', timeout: '30', delay: '0.5' })).toBeUndefined();
    expect(checkArgs(waitFor, { port: 'vnc' })).toMatch(/`port` must be an integer, got the string "vnc"/);
    expect(checkArgs(waitFor, { port: '70000' })).toMatch(/`port` must be 1-65535, got the number 70000/);
    const ctx = { hostName: 'localhost', signal: new AbortController().signal, conn: { kind: 'local' } } as unknown as ModuleContext;
    const r = await waitFor.run(parsedArgs(waitFor, { port: String(bannerPort), timeout: '5' }), ctx);
    expect(r).toMatchObject({ changed: false, data: { port: bannerPort } });
  });
});

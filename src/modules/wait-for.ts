import { lookup } from 'node:dns/promises';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { ModuleError } from '../errors.js';
import { PythonRegexError, pythonRegex } from './python-regex.js';
import { NoLineSession, hostClose, hostConnect, hostPath, hostRead, hostResolve, hostTcpTable } from './wait-for-host.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * wait_for: Ansible's ansible.builtin.wait_for. Never changes anything; returns elapsed and match_groups.
 *
 * The loop (delay, sleep, timeout) runs on the controller, and so does search_regex (python-regex.ts: Python's
 * `re` read as JavaScript). Each check runs where the target's view is: on a remote host one call of a bash
 * function in the host's line session (wait-for-host.ts: bash's /dev/tcp, `test -e`, /proc/net/tcp; no python,
 * at most one fork); under `delegate_to: localhost` (ctx.conn.kind === 'local') with node:net and node:fs here.
 * A banner wait on a host reached without a line session (become with a password, a task `environment:`) keeps a
 * connection open across calls that a fresh bash cannot: there the whole wait is one `python3 -c PROBE`, as before.
 */

/** Arguments with Ansible's defaults filled in; what both probe implementations get. */
export interface WaitSpec {
  host: string;
  port: number | null;
  path: string | null;
  state: WaitState;
  search_regex: string | null;
  timeout: number;
  delay: number;
  sleep: number;
  connect_timeout: number;
  exclude_hosts: string[];
  active_connection_states: string[];
}

/** What one whole wait produced (the python fallback prints exactly this as JSON). */
export interface WaitOutcome {
  ok: boolean;
  elapsed: number;
  /** What the last attempt saw: 'connection refused', 'connect timed out', 'banner did not match: …'. */
  last: string;
  match_groups: (string | null)[];
  match_groupdict: Record<string, string | null>;
  error?: string;
}

export const DEFAULT_ACTIVE_STATES: string[] = ['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT'];
const TCP_STATES: readonly string[] = [
  'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK',
  'LISTEN', 'CLOSING',
];

const seconds = (dflt: number, description: string) => ({ type: 'float', min: 0, default: dflt, description }) as const;

const argumentSpec = defineSpec({
  description:
    'Wait for a port to open or close (optionally until its banner matches search_regex, e.g. RFB), for a file or text in it, or for connections to drain. Never changes anything.',
  options: {
    host: { type: 'str', default: '127.0.0.1', pattern: '^[^\\0]*$', patternText: 'a host name or address without NUL bytes', description: 'Host (as the target host sees it) to check the port of.' },
    port: { type: 'int', min: 1, max: 65535, description: 'TCP port to wait for.' },
    path: { type: 'path', pattern: '^[^\\0]+$', patternText: 'a non-empty path', description: 'File to wait for (present, absent, or containing search_regex).' },
    state: { type: 'str', choices: ['started', 'stopped', 'present', 'absent', 'drained'], default: 'started', description: 'started/present: open or there; stopped/absent: closed or gone; drained: no active connections.' },
    search_regex: { type: 'str', description: "Python regular expression the port's banner or the file must match." },
    // Seconds as numbers with a fraction (sleep: 0.5): Ansible's are ints, vncplay takes both.
    timeout: seconds(300, 'Seconds to wait in all.'),
    delay: seconds(0, 'Seconds to wait before the first check.'),
    sleep: seconds(1, 'Seconds between checks.'),
    connect_timeout: seconds(5, 'Seconds one connection attempt may take.'),
    msg: { type: 'str', description: 'Message on failure instead of the timeout message.' },
    exclude_hosts: { type: 'list', elements: 'str', description: 'With state=drained: connections from these hosts do not count.' },
    active_connection_states: { type: 'list', elements: 'str', choices: TCP_STATES, default: DEFAULT_ACTIVE_STATES, description: 'With state=drained: the TCP states that count as active.' },
  },
  mutually_exclusive: [['port', 'path']],
  /** Ansible's checks of arguments that go together; each names the parameter the error points at. */
  check(args) {
    if (args.path !== undefined && args.state === 'stopped') {
      return { param: 'state', message: 'state=stopped should only be used for checking a port; use state=absent for a path' };
    }
    if (args.path !== undefined && args.state === 'drained') return { param: 'state', message: 'state=drained should only be used for checking a port' };
    if (args.exclude_hosts !== undefined && args.state !== 'drained') return { param: 'exclude_hosts', message: 'exclude_hosts should only be with state=drained' };
    if (args.state === 'drained' && args.port === undefined) return { param: 'state', message: 'state=drained needs port' };
    if (typeof args.search_regex === 'string') {
      try {
        pythonRegex(args.search_regex);
      } catch (e) {
        if (e instanceof PythonRegexError || e instanceof SyntaxError) return { param: 'search_regex', message: `search_regex does not compile: ${e.message}` };
        throw e;
      }
    }
    if (args.search_regex !== undefined && (args.state === 'stopped' || args.state === 'absent' || args.state === 'drained')) {
      return { param: 'search_regex', message: `search_regex only applies to state started or present, not ${args.state}` };
    }
    return undefined;
  },
});

export type WaitForArgs = ArgsOf<typeof argumentSpec.options>;
export type WaitState = WaitForArgs['state'];

/** What the checks read: the parsed arguments, with null for what was not given (the python fallback reads it as JSON). */
export function waitSpec(args: WaitForArgs): WaitSpec {
  return {
    host: args.host,
    port: args.port ?? null,
    path: args.path ?? null,
    state: args.state,
    search_regex: args.search_regex ?? null,
    timeout: args.timeout,
    delay: args.delay,
    sleep: args.sleep,
    connect_timeout: args.connect_timeout,
    exclude_hosts: args.exclude_hosts ?? [],
    active_connection_states: args.active_connection_states,
  };
}

/**
 * The python fallback (a banner wait without a line session): one python3 loop for the whole wait. It takes the spec as JSON in argv[1] (data, never code)
 * and prints one JSON line. Python's `re` with MULTILINE, like Ansible, so search_regex means what it means there.
 */
export const REMOTE_PROBE = String.raw`
import json, os, re, socket, sys, time
a = json.loads(sys.argv[1])
start = time.time()
end = start + a["timeout"]
out = {"ok": False, "last": "", "match_groups": [], "match_groupdict": {}}
try:
    rx = re.compile(a["search_regex"], re.M) if a["search_regex"] is not None else None
except re.error as e:
    print(json.dumps({"error": "search_regex does not compile: %s" % e})); sys.exit(0)
STATES = ["ESTABLISHED","SYN_SENT","SYN_RECV","FIN_WAIT1","FIN_WAIT2","TIME_WAIT","CLOSE","CLOSE_WAIT","LAST_ACK","LISTEN","CLOSING"]
def left():
    return end - time.time()
def nap():
    time.sleep(max(0, min(a["sleep"], left())))
def found(m):
    out["match_groups"] = list(m.groups()); out["match_groupdict"] = m.groupdict()
def try_port():
    try:
        s = socket.create_connection((a["host"], a["port"]), max(0.1, min(a["connect_timeout"], left())))
    except ConnectionRefusedError:
        return "connection refused", False
    except socket.timeout:
        return "connect timed out", False
    except OSError as e:
        return "connect failed: %s" % (e.strerror or e), False
    if rx is None:
        s.close(); return "port open", True
    data = ""
    stop = min(end, time.time() + max(a["connect_timeout"], 1))
    try:
        while time.time() < stop:
            s.settimeout(max(0.05, stop - time.time()))
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk.decode("latin-1")
            m = rx.search(data)
            if m:
                found(m); return "matched", True
    except OSError as e:
        return "read failed: %s" % (e.strerror or e), False
    finally:
        s.close()
    return ("banner did not match: %r" % data[:200]) if data else "connected, but nothing was sent before the read timed out", False
def port_closed():
    try:
        s = socket.create_connection((a["host"], a["port"]), max(0.1, min(a["connect_timeout"], left())))
        s.close(); return "port still open", False
    except OSError:
        return "port closed", True
def hexaddr(h):
    b = bytes.fromhex(h)
    if len(b) == 4:
        return socket.inet_ntop(socket.AF_INET, b[::-1])
    b = b"".join(b[i:i+4][::-1] for i in range(0, 16, 4))
    ip = socket.inet_ntop(socket.AF_INET6, b)
    return ip[7:] if ip.startswith("::ffff:") else ip
def excluded():
    ips = set()
    for h in a["exclude_hosts"]:
        try:
            for info in socket.getaddrinfo(h, None):
                ips.add(info[4][0])
        except OSError:
            ips.add(h)
    return ips
def drained(ex):
    n = 0
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(f).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            p = line.split()
            lh, lp = p[1].split(":"); rh, rp = p[2].split(":")
            st = STATES[int(p[3], 16) - 1] if 0 < int(p[3], 16) <= len(STATES) else "?"
            if int(lp, 16) != a["port"] or st not in a["active_connection_states"]:
                continue
            if hexaddr(rh) in ex:
                continue
            n += 1
    return ("%d active connection(s) on port %d" % (n, a["port"])), n == 0
def path_check(want):
    p = a["path"]
    if not want:
        return ("file still exists", False) if os.path.exists(p) else ("file absent", True)
    if not os.path.exists(p):
        return "file does not exist", False
    if rx is None:
        return "file exists", True
    try:
        with open(p, "r", errors="replace") as fh:
            m = rx.search(fh.read())
    except OSError as e:
        return "cannot read file: %s" % (e.strerror or e), False
    if m:
        found(m); return "matched", True
    return "file exists but search_regex did not match", False
if a["delay"]:
    time.sleep(a["delay"])
st = a["state"]
ex = excluded() if st == "drained" else set()
if a["port"] is None and a["path"] is None:
    time.sleep(max(0, left())); out["ok"] = True; out["last"] = "slept"
else:
    while True:
        if a["path"] is not None:
            last, ok = path_check(st in ("present", "started"))
        elif st in ("stopped", "absent"):
            last, ok = port_closed()
        elif st == "drained":
            last, ok = drained(ex)
        else:
            last, ok = try_port()
        out["last"] = last
        if ok:
            out["ok"] = True; break
        if left() <= 0:
            break
        nap()
        if left() <= 0:
            break
out["elapsed"] = time.time() - start
print(json.dumps(out))
`;

export function remoteProbeArgv(spec: WaitSpec): string[] {
  return ['python3', '-c', REMOTE_PROBE, JSON.stringify(spec)];
}

function what(spec: WaitSpec): string {
  if (spec.path !== null) return spec.path;
  if (spec.port !== null) return `${spec.host}:${spec.port}`;
  return `${spec.timeout} seconds`;
}

/** Ansible's timeout messages, plus what the last attempt saw. */
export function timeoutMessage(spec: WaitSpec, last: string): string {
  const target = what(spec);
  let head: string;
  if (spec.state === 'drained') head = `Timeout when waiting for ${target} to drain`;
  else if (spec.state === 'stopped' || spec.state === 'absent') {
    head = spec.path !== null ? `Timeout when waiting for ${target} to be absent.` : `Timeout when waiting for ${target} to stop.`;
  } else if (spec.search_regex !== null) head = `Timeout when waiting for search string ${spec.search_regex} in ${target}`;
  else head = `Timeout when waiting for ${target}`;
  return last ? `${head} (last seen: ${last})` : head;
}

function groupsOf(m: RegExpExecArray): Pick<WaitOutcome, 'match_groups' | 'match_groupdict'> {
  const groupdict: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) groupdict[k] = v ?? null;
  return { match_groups: m.slice(1).map((g) => g ?? null), match_groupdict: groupdict };
}

const sleepMs = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

interface Attempt {
  last: string;
  ok: boolean;
  groups?: Pick<WaitOutcome, 'match_groups' | 'match_groupdict'>;
}

/** One TCP attempt from the controller: connect, and when a regex is given read until it matches. */
function tryPortLocal(spec: WaitSpec, rx: RegExp | null, leftMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: spec.host, port: spec.port ?? 0 });
    let data = '';
    let connected = false;
    let settled = false;
    const finish = (a: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    let timer = setTimeout(() => finish({ last: 'connect timed out', ok: false }), connectWindowMs(spec, leftMs));
    sock.on('connect', () => {
      connected = true;
      if (rx === null) return finish({ last: 'port open', ok: true });
      clearTimeout(timer);
      timer = setTimeout(() => finish(noBannerMatch(data)), readWindowMs(spec, leftMs));
    });
    sock.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const m = rx?.exec(data);
      if (m) finish({ last: 'matched', ok: true, groups: groupsOf(m) });
    });
    sock.on('end', () => finish(noBannerMatch(data)));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (connected) return finish({ last: `read failed: ${e.message}`, ok: false });
      if (e.code === 'ECONNREFUSED') return finish({ last: 'connection refused', ok: false });
      finish({ last: `connect failed: ${e.code ?? e.message}`, ok: false });
    });
  });
}

async function portClosedLocal(spec: WaitSpec, leftMs: number): Promise<Attempt> {
  const a = await tryPortLocal(spec, null, leftMs);
  return a.ok ? { last: 'port still open', ok: false } : { last: 'port closed', ok: true };
}

async function pathLocal(spec: WaitSpec, rx: RegExp | null, want: boolean): Promise<Attempt> {
  const p = spec.path ?? '';
  let text: string | undefined;
  try {
    text = rx === null ? '' : await fs.readFile(p, 'utf8');
    if (rx === null) await fs.stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return want ? { last: 'file does not exist', ok: false } : { last: 'file absent', ok: true };
    if (!want) return { last: 'file still exists', ok: false };
    return { last: `cannot read file: ${code ?? String(e)}`, ok: false };
  }
  if (!want) return { last: 'file still exists', ok: false };
  if (rx === null) return { last: 'file exists', ok: true };
  const m = rx.exec(text);
  return m ? { last: 'matched', ok: true, groups: groupsOf(m) } : { last: 'file exists but search_regex did not match', ok: false };
}

/** /proc/net/tcp hex address → text (IPv4 little-endian word; IPv6 four little-endian words). */
export function procHexAddr(h: string): string {
  const b = Buffer.from(h, 'hex');
  if (b.length === 4) return [...b].reverse().join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 4) {
    const w = Buffer.from(b.subarray(i, i + 4)).reverse();
    words.push(w.subarray(0, 2).toString('hex'), w.subarray(2, 4).toString('hex'));
  }
  const full = words.map((w) => w.replace(/^0+(?=.)/, '')).join(':');
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(full);
  if (mapped) {
    const n = (parseInt(mapped[1]!, 16) << 16) | parseInt(mapped[2]!, 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return full;
}

/** Count active connections to `port` in /proc/net/tcp{,6} text. */
export function countActive(procText: string, port: number, states: readonly string[], exclude: ReadonlySet<string>): number {
  let n = 0;
  for (const line of procText.split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length < 4 || !p[1]?.includes(':') || p[0] === 'sl') continue;
    const [, lp = ''] = p[1].split(':');
    const [rh = '', ] = (p[2] ?? '').split(':');
    const code = parseInt(p[3] ?? '', 16);
    const st = TCP_STATES[code - 1];
    if (parseInt(lp, 16) !== port || st === undefined || !states.includes(st)) continue;
    if (exclude.has(procHexAddr(rh))) continue;
    n++;
  }
  return n;
}

/** The four checks of one attempt, done where the target's view is (the controller, or the remote host). */
interface Checks {
  portOpen(rx: RegExp | null, leftMs: number): Promise<Attempt>;
  portClosed(leftMs: number): Promise<Attempt>;
  path(rx: RegExp | null, want: boolean): Promise<Attempt>;
  drained(exclude: ReadonlySet<string>): Promise<Attempt>;
  /** exclude_hosts as addresses (names resolved where the check runs; a name that does not resolve stays). */
  resolve(names: readonly string[]): Promise<Set<string>>;
}

/** How long one connection's banner is read: connect_timeout (at least 1 s), within what is left of the wait. */
const readWindowMs = (spec: WaitSpec, leftMs: number): number => Math.max(50, Math.min(Math.max(spec.connect_timeout, 1) * 1000, leftMs));
const connectWindowMs = (spec: WaitSpec, leftMs: number): number => Math.max(100, Math.min(spec.connect_timeout * 1000, leftMs));

const noBannerMatch = (data: string): Attempt => ({
  last: data ? `banner did not match: ${JSON.stringify(data.slice(0, 200))}` : 'connected, but nothing was sent before the read timed out',
  ok: false,
});

const localChecks = (spec: WaitSpec): Checks => ({
  portOpen: (rx, leftMs) => tryPortLocal(spec, rx, leftMs),
  portClosed: (leftMs) => portClosedLocal(spec, leftMs),
  path: (rx, want) => pathLocal(spec, rx, want),
  async drained(exclude) {
    let text = '';
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) text += `${await fs.readFile(f, 'utf8').catch(() => '')}\n`;
    const n = countActive(text, spec.port ?? 0, spec.active_connection_states, exclude);
    return { last: `${n} active connection(s) on port ${spec.port}`, ok: n === 0 };
  },
  async resolve(names) {
    const out = new Set<string>();
    for (const name of names) {
      const found = net.isIP(name) ? [] : await lookup(name, { all: true }).catch(() => []);
      if (found.length === 0) out.add(name);
      for (const a of found) out.add(a.address);
    }
    return out;
  },
});

/** The checks on a remote host: calls of the host's bash function (wait-for-host.ts). */
function hostChecks(spec: WaitSpec, ctx: ModuleContext): Checks {
  const host = spec.host;
  const port = spec.port ?? 0;
  return {
    async portOpen(rx, leftMs) {
      if (rx === null) {
        const c = await hostConnect(ctx, host, port, connectWindowMs(spec, leftMs));
        return c.connected ? { last: 'port open', ok: true } : { last: c.last, ok: false };
      }
      const readUntil = Date.now() + readWindowMs(spec, leftMs);
      const c = await hostConnect(ctx, host, port, connectWindowMs(spec, leftMs), readWindowMs(spec, leftMs));
      if (!c.connected) return { last: c.last, ok: false };
      let read = c.first!;
      let data = '';
      try {
        for (;;) {
          if (read.kind !== 'quiet') {
            data += read.text;
            const m = rx.exec(data);
            if (m) return { last: 'matched', ok: true, groups: groupsOf(m) };
          }
          const waitMs = readUntil - Date.now();
          if (read.kind !== 'data' || waitMs <= 0) return noBannerMatch(data);
          read = await hostRead(ctx, waitMs);
        }
      } finally {
        // Only a read that brought data leaves the connection open on the host.
        if (read.kind === 'data') await hostClose(ctx);
      }
    },
    async portClosed(leftMs) {
      const c = await hostConnect(ctx, host, port, connectWindowMs(spec, leftMs));
      return c.connected ? { last: 'port still open', ok: false } : { last: 'port closed', ok: true };
    },
    async path(rx, want) {
      const p = await hostPath(ctx, spec.path ?? '', rx !== null && want);
      if (!want) return p.kind === 'absent' ? { last: 'file absent', ok: true } : { last: 'file still exists', ok: false };
      if (p.kind === 'absent') return { last: 'file does not exist', ok: false };
      if (p.kind === 'unreadable') return { last: 'cannot read file', ok: false };
      if (p.kind !== 'content' || rx === null) return { last: 'file exists', ok: true };
      const m = rx.exec(p.text);
      return m ? { last: 'matched', ok: true, groups: groupsOf(m) } : { last: 'file exists but search_regex did not match', ok: false };
    },
    async drained(exclude) {
      const n = countActive(await hostTcpTable(ctx, port), port, spec.active_connection_states, exclude);
      return { last: `${n} active connection(s) on port ${port}`, ok: n === 0 };
    },
    resolve: (names) => hostResolve(ctx, names),
  };
}

const noOutcome = (): WaitOutcome => ({ ok: false, elapsed: 0, last: '', match_groups: [], match_groupdict: {} });

/** search_regex as a JavaScript RegExp, or why it cannot be one. */
function compileSearch(spec: WaitSpec): { rx: RegExp | null } | { error: string } {
  if (spec.search_regex === null) return { rx: null };
  try {
    return { rx: pythonRegex(spec.search_regex) };
  } catch (e) {
    if (e instanceof PythonRegexError || e instanceof SyntaxError) return { error: `search_regex does not compile: ${e.message}` };
    throw e;
  }
}

/** Ansible's loop: delay, then a check every `sleep` seconds until one succeeds or `timeout` (delay included) ends. */
async function waitLoop(spec: WaitSpec, checks: Checks, signal: AbortSignal): Promise<WaitOutcome> {
  const start = Date.now();
  const end = start + spec.timeout * 1000;
  const left = (): number => end - Date.now();
  const compiled = compileSearch(spec);
  if ('error' in compiled) return { ...noOutcome(), error: compiled.error };
  const rx = compiled.rx;
  await sleepMs(spec.delay * 1000, signal);
  const out = noOutcome();
  if (spec.port === null && spec.path === null) {
    await sleepMs(left(), signal);
    out.ok = !signal.aborted;
    out.last = 'slept';
  } else {
    const exclude = spec.state === 'drained' ? await checks.resolve(spec.exclude_hosts) : new Set<string>();
    for (;;) {
      let a: Attempt;
      if (spec.path !== null) a = await checks.path(rx, spec.state === 'present' || spec.state === 'started');
      else if (spec.state === 'stopped' || spec.state === 'absent') a = await checks.portClosed(left());
      else if (spec.state === 'drained') a = await checks.drained(exclude);
      else a = await checks.portOpen(rx, left());
      out.last = a.last;
      if (a.ok) {
        out.ok = true;
        if (a.groups) Object.assign(out, a.groups);
        break;
      }
      if (left() <= 0 || signal.aborted) break;
      await sleepMs(Math.min(spec.sleep * 1000, left()), signal);
      if (left() <= 0 || signal.aborted) break;
    }
  }
  out.elapsed = (Date.now() - start) / 1000;
  return out;
}

/** The wait run from the controller (delegate_to: localhost). */
export function waitLocal(spec: WaitSpec, signal: AbortSignal): Promise<WaitOutcome> {
  return waitLoop(spec, localChecks(spec), signal);
}

/** The wait on a remote host: the controller's loop over the host's bash checks; python only for a banner without a line session. */
export async function waitRemote(spec: WaitSpec, ctx: ModuleContext): Promise<WaitOutcome> {
  const start = Date.now();
  try {
    return await waitLoop(spec, hostChecks(spec, ctx), ctx.signal);
  } catch (e) {
    if (!(e instanceof NoLineSession)) throw e;
    const spent = Date.now() - start;
    const rest = await waitPython({ ...spec, delay: 0, timeout: Math.max(0, spec.timeout - spent / 1000) }, ctx);
    return { ...rest, elapsed: (rest.elapsed ?? 0) + spent / 1000 };
  }
}

/** The whole wait as one python3 loop on the host (REMOTE_PROBE). */
async function waitPython(spec: WaitSpec, ctx: ModuleContext): Promise<WaitOutcome> {
  const budget = Math.max(spec.timeout, spec.delay) + Math.max(spec.connect_timeout, 1) + 30;
  const res = await ctx.exec(remoteProbeArgv(spec), { timeoutMs: budget * 1000, signal: ctx.signal });
  if (res.rc === 127 || /python3: (command )?not found/.test(res.stderr)) {
    throw new ModuleError('E_WAIT_FOR_NO_PYTHON', `wait_for needs python3 on ${ctx.hostName} to read a banner without a line session`, {
      hint: 'install python3 on the host, or run the wait from the controller with delegate_to: localhost',
    });
  }
  const line = res.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as WaitOutcome;
  } catch (e) {
    throw new ModuleError('E_WAIT_FOR_PROBE', `wait_for probe on ${ctx.hostName} failed (rc ${res.rc}): ${(res.stderr || res.stdout).trim().slice(0, 500)}`, { cause: e });
  }
}

async function run(args: WaitForArgs, ctx: ModuleContext): Promise<ModuleReturn> {
  const spec = waitSpec(args);
  const local = ctx.conn === undefined || ctx.conn.kind === 'local';
  const res = local ? await waitLocal(spec, ctx.signal) : await waitRemote(spec, ctx);
  const data: Record<string, unknown> = {
    elapsed: Math.floor(res.elapsed ?? 0),
    elapsed_seconds: res.elapsed ?? 0,
    match_groups: res.match_groups ?? [],
    match_groupdict: res.match_groupdict ?? {},
    state: spec.state,
    last_seen: res.last,
  };
  if (spec.port !== null) data['port'] = spec.port;
  if (spec.path !== null) data['path'] = spec.path;
  if (spec.search_regex !== null) data['search_regex'] = spec.search_regex;
  if (res.error) return { changed: false, failed: true, msg: `wait_for: ${res.error}`, data };
  if (!res.ok) return { changed: false, failed: true, msg: args.msg ?? timeoutMessage(spec, res.last), data };
  return { changed: false, data };
}

export const waitFor = actionModule(argumentSpec, {
  kind: 'action',
  name: 'wait_for',
  where: 'host',
  inCheckMode: 'run',
  run,
});

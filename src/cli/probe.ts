import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { probeRfbOnce, type RfbAttempt } from '../drill/rfb-probe.js';
import { lastValue, parseSubArgs, secondsOption } from '../drill/args.js';
import { ExitCode, InventoryError, UsageError } from '../errors.js';
import { inventoryVars, loadInventory, magicVars, selectHosts, type Inventory } from '../inventory/index.js';
import { replaceFile } from '../output/replace-file.js';
import { render } from '../playbook/template.js';

export const probeUsage = `usage: vncplay probe -i INVENTORY [-l PATTERN] [--displays N[,N…]] [--timeout S]
                     [--textfile PATH] [--listen [ADDR:]PORT]

  Connects from this machine to every selected host's VNC displays at once (display N on port 5900+N), reads the
  RFB banner and prints one line per display. Hosts: -l PATTERN, else the \`vnc\` group when the inventory has one,
  else all. Displays: --displays, else each host's \`vnc_displays\` variable, else [1]. Address: ansible_host.

  --textfile PATH    write Prometheus metrics (rfbserver_up, rfbserver_probe_seconds) to PATH, replaced whole,
                     for node_exporter's textfile collector
  --listen ADDR:PORT serve the same metrics on http://ADDR:PORT/metrics, probing at each scrape, until stopped
  --timeout S        connect + banner deadline per display (default 3)

exit codes: 0 every display answered; 2 at least one did not; 4 bad inventory; 5 bad command line
`;

/** One display of one host, as probed. */
export interface DisplayProbe {
  host: string;
  display: number;
  address: string;
  port: number;
  attempt: RfbAttempt;
}

interface Target {
  host: string;
  display: number;
  address: string;
  port: number;
}

const RFB_BASE_PORT = 5900;

/** `vncplay probe …`. */
export async function probeCommand(argv: readonly string[]): Promise<number> {
  const a = parseSubArgs(argv, ['-i', '--inventory', '-l', '--limit', '--displays', '--timeout', '--textfile', '--listen'], ['-h', '--help'], probeUsage);
  if (a.values.has('-h') || a.values.has('--help')) {
    process.stdout.write(probeUsage);
    return ExitCode.ok;
  }
  if (a.positional.length) throw new UsageError('E_USAGE', `unexpected argument '${a.positional[0]!}'`, { hint: probeUsage });
  const inventorySpecs = [...(a.values.get('-i') ?? []), ...(a.values.get('--inventory') ?? [])];
  if (inventorySpecs.length === 0) throw new UsageError('E_USAGE', 'probe needs -i INVENTORY', { hint: probeUsage });
  const timeoutS = secondsOption(lastValue(a, '--timeout'), '--timeout', probeUsage) ?? 3;
  const displays = displaysOption(lastValue(a, '--displays'));
  const listen = lastValue(a, '--listen');
  const textfile = lastValue(a, '--textfile');

  const inv = await loadInventory(inventorySpecs, process.cwd());
  const pattern = lastValue(a, '-l', '--limit') ?? (inv.groups.has('vnc') ? 'vnc' : 'all');
  const targets = probeTargets(inv, selectHosts(inv, pattern), displays);
  if (targets.length === 0) throw new UsageError('E_USAGE', `no host matches '${pattern}'`, { hint: 'check -l against the inventory (vncplay --list-hosts)' });

  if (listen !== undefined) return serveMetrics(listen, targets, timeoutS * 1000);

  const results = await probeAll(targets, timeoutS * 1000);
  for (const r of results) process.stdout.write(`${describe(r)}\n`);
  if (textfile !== undefined) {
    await replaceFile(path.resolve(textfile), prometheusText(results, Date.now()));
    process.stdout.write(`wrote ${textfile}\n`);
  }
  return results.every((r) => r.attempt.ok) ? ExitCode.ok : ExitCode.taskFailed;
}

function displaysOption(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim());
  if (list.some((s) => !/^\d{1,2}$/.test(s))) {
    throw new UsageError('E_USAGE', `--displays must be display numbers like 1,2 — not '${v}'`, { hint: probeUsage });
  }
  return list.map(Number);
}

/** Each selected host's address and displays, from the inventory as the runner would render them. */
export function probeTargets(inv: Inventory, hosts: readonly string[], displays: readonly number[] | undefined): Target[] {
  return hosts.flatMap((host) => {
    const vars = { ...magicVars(inv, host), ...inventoryVars(inv, host) };
    const value = (name: string): unknown => render(vars[name], vars);
    const address = value('ansible_host') ?? value('ansible_ssh_host') ?? host;
    if (typeof address !== 'string' || address === '') {
      throw new InventoryError('E_INVENTORY_VALUE', `host ${host}: ansible_host must be a host name or address, not ${JSON.stringify(address)}`);
    }
    const own = displays ?? hostDisplays(host, value('vnc_displays'));
    return own.map((display) => ({ host, display, address, port: RFB_BASE_PORT + display }));
  });
}

function hostDisplays(host: string, v: unknown): number[] {
  if (v === undefined || v === null) return [1];
  const list = Array.isArray(v) ? v : [v];
  const numbers = list.map((d) => (typeof d === 'string' && /^\d+$/.test(d) ? Number(d) : d));
  if (numbers.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 99)) {
    throw new InventoryError('E_INVENTORY_VALUE', `host ${host}: vnc_displays must be a list of display numbers (0-99), not ${JSON.stringify(v)}`, {
      hint: 'e.g. vnc_displays: [1, 2] — display N listens on port 5900+N',
    });
  }
  return numbers as number[];
}

export async function probeAll(targets: readonly Target[], timeoutMs: number): Promise<DisplayProbe[]> {
  return Promise.all(targets.map(async (t) => ({ ...t, attempt: await probeRfbOnce(t.address, t.port, timeoutMs) })));
}

function describe(r: DisplayProbe): string {
  const ms = r.attempt.endedMs - r.attempt.startedMs;
  const what = r.attempt.ok ? `up    ${r.attempt.banner ?? ''} in ${ms} ms` : `DOWN  ${r.attempt.error ?? 'no answer'} after ${ms} ms`;
  return `${r.host} :${r.display} (${r.address}:${r.port}) ${what}`;
}

function label(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** Prometheus text exposition format 0.0.4 of one probe round. */
export function prometheusText(results: readonly DisplayProbe[], nowMs: number): string {
  const labels = (r: DisplayProbe): string => `host="${label(r.host)}",display=":${r.display}",instance="${label(`${r.address}:${r.port}`)}"`;
  const lines = [
    '# HELP rfbserver_up 1 if the VNC server of the display answered with an RFB banner within the timeout, else 0.',
    '# TYPE rfbserver_up gauge',
    ...results.map((r) => `rfbserver_up{${labels(r)}} ${r.attempt.ok ? 1 : 0}`),
    '# HELP rfbserver_probe_seconds Seconds from the TCP connect to the RFB banner, or to the failure.',
    '# TYPE rfbserver_probe_seconds gauge',
    ...results.map((r) => `rfbserver_probe_seconds{${labels(r)}} ${((r.attempt.endedMs - r.attempt.startedMs) / 1000).toFixed(6)}`),
    '# HELP rfbserver_probe_timestamp_seconds When vncplay probe ran (Unix time).',
    '# TYPE rfbserver_probe_timestamp_seconds gauge',
    `rfbserver_probe_timestamp_seconds ${(nowMs / 1000).toFixed(3)}`,
  ];
  return `${lines.join('\n')}\n`;
}

function listenAddress(spec: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError('E_USAGE', `--listen must be [ADDR:]PORT, not '${spec}'`, { hint: probeUsage });
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/** Serves /metrics, probing on each scrape (as blackbox_exporter does), until SIGINT/SIGTERM. */
async function serveMetrics(spec: string, targets: readonly Target[], timeoutMs: number): Promise<number> {
  const { host, port } = listenAddress(spec);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('vncplay probe serves /metrics only\n');
      return;
    }
    void probeAll(targets, timeoutMs).then((results) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(results, Date.now()));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UsageError('E_PROBE_LISTEN', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { hint: 'choose a free port, or an address of this machine' })),
    );
    server.listen(port, host, resolve);
  });
  const bound = server.address();
  const shown = bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : `${host}:${port}`;
  process.stdout.write(`serving rfbserver metrics of ${targets.length} display(s) on http://${shown}/metrics\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return ExitCode.ok;
}

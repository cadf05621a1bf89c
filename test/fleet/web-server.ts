// An HTTP and an HTTPS server on the fleet's bridge (fleetBridgeAddress()) for the get_url and uri tests, the HTTPS one with a
// certificate from a throwaway CA made with openssl (the hosts trust it only when a task names it in ca_path), and
// curl put on a fleet host from the controller's own packages (the hosts have no curl and no route to a mirror).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requireProgram } from '../support/tools.js';
import { attachHost, buildRepo, detachHost, purgePackages, serveRepo, type ServedRepo } from './deb-repo.js';
import { fleetBridgeAddress, hostExecOk } from './fleet.js';

/** Files the servers offer under /files/NAME, with a fixed Last-Modified (If-Modified-Since gets a 304). */
export const WEB_FILES: Record<string, string> = {
  'a.txt': 'alpha\n',
  'b.txt': 'bravo bravo\n',
  'big.txt': 'x'.repeat(70000),
};
const LAST_MODIFIED = new Date('2024-01-02T03:04:05Z');

export const WEB_USER = 'vpuser';
export const WEB_PASSWORD = 'vp-secret-pw';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface WebServers {
  /** http://<bridge address>:PORT (no trailing slash). */
  http: string;
  https: string;
  /** The CA's PEM certificate (write it on a host for ca_path). */
  caPem: string;
  /** Requests seen, newest last: method, path, headers, body. */
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/**
 * /files/NAME · /redirect/NAME (302 to /files/NAME, through /redirect2/) · /sums (sha256sum lines) · /attach/NAME
 * (Content-Disposition: attachment; filename="renamed-NAME") · /auth/NAME (Basic WEB_USER:WEB_PASSWORD, 401 with a
 * challenge otherwise) · /status/NNN · /json (a JSON document) · /echo (the request as JSON: method, the headers a
 * task sets, body).
 */
function handle(seen: WebServers['requests'], req: IncomingMessage, body: string, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const [, route = '', arg = ''] = url.pathname.split('/');
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const file = WEB_FILES[arg];
  const sendFile = (content: string, extra: Record<string, string> = {}): void => {
    const since = req.headers['if-modified-since'];
    if (since !== undefined && new Date(since) >= LAST_MODIFIED) {
      res.writeHead(304).end();
      return;
    }
    reply(res, 200, req.method === 'HEAD' ? '' : content, { 'last-modified': LAST_MODIFIED.toUTCString(), 'content-length': String(Buffer.byteLength(content)), ...extra });
  };
  if (route === 'files' && file !== undefined) return sendFile(file);
  if (route === 'redirect' && file !== undefined) return reply(res, 302, '', { location: `/redirect2/${arg}` });
  if (route === 'redirect2' && file !== undefined) return reply(res, 301, '', { location: `/files/${arg}` });
  if (route === 'attach' && file !== undefined) return sendFile(file, { 'content-disposition': `attachment; filename="renamed-${arg}"` });
  if (route === 'sums') return reply(res, 200, Object.entries(WEB_FILES).map(([n, c]) => `${sha256(c)}  ${n}\n`).join(''));
  if (route === 'auth' && file !== undefined) {
    const want = `Basic ${Buffer.from(`${WEB_USER}:${WEB_PASSWORD}`).toString('base64')}`;
    if (req.headers.authorization !== want) return reply(res, 401, 'who are you?\n', { 'www-authenticate': 'Basic realm="vncplay"' });
    return sendFile(file);
  }
  if (route === 'status') return reply(res, Number(arg), `status ${arg}\n`, { 'x-vp-status': arg });
  if (route === 'json') return reply(res, 200, JSON.stringify({ name: 'vncplay', items: [1, 2], nested: { ok: true } }), { 'content-type': 'application/json' });
  if (route === 'echo') {
    // Only the headers a task sets or a body implies: urllib and curl differ in the rest (Accept, Connection).
    const shown = ['content-type', 'content-length', 'user-agent', 'x-vp', 'authorization'].filter((h) => req.headers[h] !== undefined);
    return reply(res, 200, JSON.stringify({ method: req.method, headers: Object.fromEntries(shown.map((h) => [h, req.headers[h]])), body, query: url.search }), { 'content-type': 'application/json', 'x-vp-echo': 'one', 'set-cookie': 'vp=1' });
  }
  reply(res, 404, 'not here\n');
}

function listener(seen: WebServers['requests']) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(seen, req, Buffer.concat(chunks).toString('utf8'), res));
  };
}

/** A CA and a server certificate for `address` (subjectAltName IP), made with openssl. */
async function makeCertificates(address: string): Promise<{ ca: string; key: string; cert: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-web-ca-'));
  const openssl = requireProgram('openssl');
  const run = (args: string[]): void => {
    const r = spawnSync(openssl, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vncplay test CA']);
    run(['req', '-new', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', `/CN=${address}`]);
    await writeFile(path.join(dir, 'ext'), `subjectAltName=IP:${address}\n`);
    run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext', '-out', 'srv.pem']);
    const [ca, key, cert] = await Promise.all(['ca.pem', 'srv.key', 'srv.pem'].map((f) => readFile(path.join(dir, f), 'utf8')));
    return { ca: ca!, key: key!, cert: cert! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function listen(server: Server, address: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Both servers on `address`: the bridge for fleet hosts, 127.0.0.1 for a local play. */
export async function startWebServers(address = fleetBridgeAddress()): Promise<WebServers> {
  const requests: WebServers['requests'] = [];
  const { ca, key, cert } = await makeCertificates(address);
  const plain = createHttpServer(listener(requests));
  const secure = createHttpsServer({ key, cert }, listener(requests));
  const [httpPort, httpsPort] = [await listen(plain, address), await listen(secure, address)];
  const close = (s: Server): Promise<void> =>
    new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    http: `http://${address}:${httpPort}`,
    https: `https://${address}:${httpsPort}`,
    caPem: ca,
    requests,
    close: async () => {
      await Promise.all([close(plain), close(secure)]);
    },
  };
}

/** curl and the libraries a fleet host lacks for it, repacked from the controller (same Debian release). */
export const HOST_CURL_PACKAGES = ['curl', 'libcurl4', 'libnghttp2-14', 'libpsl5', 'librtmp1', 'libssh2-1', 'libldap-2.5-0', 'libsasl2-2', 'libsasl2-modules-db'];

/**
 * Installs `packages` (repacked from the controller) on `host`; the host's own apt sources are back in place when
 * this returns. The returned function purges the packages again.
 */
export async function installControllerPackages(host: number, packages: readonly string[]): Promise<() => Promise<void>> {
  const repo: ServedRepo = await serveRepo(await buildRepo([], [...packages]));
  try {
    await attachHost(host, repo);
    await hostExecOk(host, ['sh', '-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null', 'sh', ...packages], { timeoutMs: 120_000 });
  } finally {
    await detachHost(host);
    await repo.close();
    await rm(repo.dir, { recursive: true, force: true });
  }
  return () => purgePackages(host, packages);
}

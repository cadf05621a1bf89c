import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shared plumbing of the wire-level fake clouds: one node:http server per provider on 127.0.0.1 (random port),
 * a call log tests can assert on ("no mutating call"), and a queue of injected faults answered with the
 * provider's real error codes. Secrets are only used to verify signatures; they are never echoed.
 */

export type FaultKind = 'throttle' | 'duplicate' | 'auth' | 'server-error';

export interface RecordedCall {
  action: string;
  params: Record<string, unknown>;
  mutating: boolean;
  status: number;
  errorCode?: string;
  requestId: string;
  accessKeyId?: string;
}

interface PendingFault {
  kind: FaultKind;
  remaining: number;
  action?: string;
}

export interface FakeCloud {
  /** http://127.0.0.1:PORT, for the VNCPLAY_*_ENDPOINT variables. */
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Answer the next `times` calls (of `action`, or any) with this fault instead of doing them. */
  inject(kind: FaultKind, times?: number, action?: string): void;
  mutatingCalls(): RecordedCall[];
  close(): Promise<void>;
}

/** The FakeCloud part every fake shares: its address, the calls it recorded, fault injection, close. */
export function fakeCloud(srv: { endpoint: string; close(): Promise<void> }, calls: RecordedCall[], faults: FaultQueue): FakeCloud {
  return {
    endpoint: srv.endpoint,
    calls,
    inject: (kind, times = 1, action) => faults.add(kind, times, action),
    mutatingCalls: () => calls.filter((c) => c.mutating),
    close: srv.close,
  };
}

export function isMutating(action: string): boolean {
  return !action.startsWith('Describe');
}

export class FaultQueue {
  private faults: PendingFault[] = [];

  add(kind: FaultKind, times: number, action?: string): void {
    const f: PendingFault = { kind, remaining: times };
    if (action !== undefined) f.action = action;
    this.faults.push(f);
  }

  /** The fault this call gets, if any; duplicates only apply to calls that add rules. */
  take(action: string): FaultKind | undefined {
    const f = this.faults.find(
      (x) => x.remaining > 0 && (x.action === undefined || x.action === action) && (x.kind !== 'duplicate' || /Authorize|CreateSecurityGroupPolicies/.test(action)),
    );
    if (!f) return undefined;
    f.remaining--;
    return f.kind;
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => Promise<void>;

export async function listen(handler: Handler): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => handler(req, body, res))
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(`fake cloud crashed: ${err instanceof Error ? err.message : String(err)}`);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sha256hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
export const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
export const newRequestId = (): string => randomUUID().toUpperCase();

let idCounter = 0;
/** Provider-looking ids: sg-0a1b2c3d4e5f60001, sgr-..., deterministic enough for logs. */
export function newId(prefix: string, width = 17): string {
  idCounter++;
  const rand = randomUUID().replace(/-/g, '');
  return `${prefix}-${(rand + idCounter.toString(16)).slice(-width)}`;
}

/** One header value as a string (node lower-cases names). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

import type { BecomeMethod } from './become.js';

export interface ExecOptions {
  /** Run through `sudo -n` (as `becomeUser`, default root). */
  become?: boolean;
  becomeUser?: string;
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Uint8Array;
  /** Aborting stops the command (channel closed / process killed) and rejects the exec with the signal's reason. */
  signal?: AbortSignal;
  /** Fail the exec (rc -1, stderr says so) when it runs longer than this. */
  timeoutMs?: number;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** Set when the command was killed by a signal (name without SIG, e.g. 'KILL'); rc is then -1. */
  signal?: string;
}

/**
 * How commands reach a host. Commands are argv arrays; a Connection turns them into a shell line only via
 * connection/quote.ts. One Connection per host for the whole run.
 */
export interface Connection {
  readonly hostName: string;
  readonly kind: 'ssh' | 'local';
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** Connection parameters resolved from inventory variables for one host. */
export interface ConnectionSpec {
  hostName: string;
  connection: 'ssh' | 'local';
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  password?: string;
  become: boolean;
  becomeUser: string;
  becomePassword?: string;
  /** How to become another user: sudo when absent. */
  becomeMethod?: BecomeMethod;
  hostKeyChecking: 'strict' | 'accept-new' | 'off';
  knownHostsFiles: string[];
  connectTimeoutMs: number;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { ModuleError } from '../../errors.js';
import type { AdapterOptions, Provider } from './types.js';

/**
 * The one retry loop for every cloud call. The SDKs' own retries are switched off in the adapters so the number of
 * attempts is ours: bounded in count, in the delay of one wait, and in total time.
 */

/** What a failed call means for us, read from the provider's error by its adapter. */
export interface CloudFailure {
  kind: 'retry' | 'duplicate' | 'not-found' | 'fatal';
  code: string;
  message: string;
  requestId?: string;
  httpStatus?: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first. */
  budgetMs: number;
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  budgetMs: 60_000,
  random: Math.random,
};

/** "Full jitter" backoff: uniform in [0, min(cap, base·2^n)], so throttled clients spread out instead of stampeding. */
export function backoffDelay(attempt: number, p: RetryPolicy): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
  return Math.floor(p.random() * ceiling);
}

const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'Throttling.User',
  'Throttling.Api',
  'Throttling.Resource',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'ServiceIsBusy',
  'ResourceUnavailable',
]);

/** Codes every provider uses for "slow down" or "try again"; plus any HTTP 5xx and connection resets. */
export function isTransient(code: string, httpStatus?: number): boolean {
  if (THROTTLE_CODES.has(code)) return true;
  if (code.startsWith('RequestLimitExceeded.') || code.startsWith('Throttling.')) return true;
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) return true;
  return /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|TimeoutError|RequestTimeout|RequestTimeoutException)$/.test(code);
}

/** A cloud API call that failed for good; carries the provider's code and request id, never a secret. */
export class CloudApiError extends ModuleError {
  readonly provider: Provider;
  readonly providerCode: string;
  readonly requestId?: string;
  readonly attempts: number;

  constructor(provider: Provider, label: string, f: CloudFailure, attempts: number, secrets: readonly string[]) {
    const rid = f.requestId ? ` (request id ${f.requestId})` : '';
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    const msg = scrub(`${provider} ${label} failed${tries}: ${f.code}: ${f.message}${rid}`, secrets);
    super(codeFor(f), msg, { hint: hintFor(provider, f) });
    this.provider = provider;
    this.providerCode = f.code;
    if (f.requestId) this.requestId = f.requestId;
    this.attempts = attempts;
  }
}

function codeFor(f: CloudFailure): string {
  if (isAuthCode(f.code)) return 'E_CLOUD_AUTH';
  if (f.kind === 'retry') return 'E_CLOUD_THROTTLED';
  return 'E_CLOUD_API';
}

function isAuthCode(code: string): boolean {
  return /^(AuthFailure|UnauthorizedOperation|InvalidClientTokenId|SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId|Forbidden|InvalidSecretId|MissingAuthenticationToken|InvalidCredentials|CredentialsProviderError|NoCredentials)/.test(
    code,
  );
}

function hintFor(provider: Provider, f: CloudFailure): string {
  if (isAuthCode(f.code)) {
    const where: Record<Provider, string> = {
      aws: 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials or an instance role',
      aliyun: 'ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, ~/.alibabacloud/credentials or ~/.aliyun/config.json',
      tencent: 'TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or ~/.tencentcloud/credentials',
    };
    return `check the ${provider} credentials (${where[provider]}) and their permissions`;
  }
  if (f.code.endsWith('VersionMismatch')) return 'the security group was changed by someone else meanwhile; run again';
  if (f.kind === 'retry') return 'the provider kept throttling or failing; try again later or with fewer parallel runs';
  return 'the provider rejected the request; the request id identifies it to their support';
}

/** Replace every known secret (and anything after a Signature= or Credential secret marker) with ***. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('***');
  }
  return out.replace(/(Signature=)[0-9a-fA-F]+/g, '$1***');
}

/** The arguments every cloud module takes to reach its provider (security_group, cloud_instance). */
export interface CloudClientArgs {
  provider: string;
  region: string;
  access_key?: string | undefined;
  secret_key?: string | undefined;
  session_token?: string | undefined;
}

/**
 * What a provider's SDK client is made from (the region, an endpoint override, explicit keys, else the SDK's own
 * credential chain), the secrets to scrub from its messages, and a key for the client that never holds a secret
 * (the access key id is not one).
 */
export function cloudClient(args: CloudClientArgs, endpoint: string | undefined): { opts: AdapterOptions; secrets: string[]; key: string } {
  const opts: AdapterOptions = { region: args.region };
  if (endpoint) opts.endpoint = endpoint;
  if (args.access_key && args.secret_key) {
    opts.credentials = { accessKey: args.access_key, secretKey: args.secret_key };
    if (args.session_token) opts.credentials.sessionToken = args.session_token;
  }
  const secrets = [...environmentSecrets(), ...[args.secret_key, args.session_token].filter((s): s is string => !!s)];
  return { opts, secrets, key: [args.provider, args.region, endpoint ?? '', args.access_key ?? ''].join('|') };
}

/** Secret values in the environment that must never show up in output, whatever an SDK puts in its messages. */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const names = [
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    'ALIBABA_CLOUD_SECURITY_TOKEN',
    'ALICLOUD_ACCESS_KEY_SECRET',
    'TENCENTCLOUD_SECRET_KEY',
    'TENCENTCLOUD_SESSION_TOKEN',
  ];
  return names.flatMap((n) => (env[n] ? [env[n]] : []));
}

export interface RetryContext {
  provider: Provider;
  /** The API action, for messages: "ec2 AuthorizeSecurityGroupIngress". */
  label: string;
  classify(err: unknown): CloudFailure;
  signal: AbortSignal;
  secrets: readonly string[];
  policy?: RetryPolicy;
}

export type CallResult<T> = { ok: true; value: T } | { ok: false; failure: CloudFailure };

/**
 * Run `call` until it succeeds, fails for good, or the bounds are reached. Duplicate and not-found outcomes are
 * returned (not thrown) so the adapter decides what they mean for its operation.
 */
export async function withRetry<T>(call: () => Promise<T>, ctx: RetryContext): Promise<CallResult<T>> {
  const p = ctx.policy ?? activePolicy;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const f = ctx.classify(err);
      if (f.kind === 'duplicate' || f.kind === 'not-found') return { ok: false, failure: f };
      const tries = attempt + 1;
      if (f.kind !== 'retry' || tries >= p.maxAttempts) throw new CloudApiError(ctx.provider, ctx.label, f, tries, ctx.secrets);
      const wait = backoffDelay(attempt, p);
      if (Date.now() - started + wait > p.budgetMs) throw new CloudApiError(ctx.provider, ctx.label, f, tries, ctx.secrets);
      await sleep(wait, undefined, { signal: ctx.signal });
    }
  }
}

let activePolicy: RetryPolicy = defaultRetryPolicy;

/** Tests shorten the waits; production keeps the defaults. Returns the previous policy. */
export function setRetryPolicy(p: Partial<RetryPolicy>): RetryPolicy {
  const prev = activePolicy;
  activePolicy = { ...activePolicy, ...p };
  return prev;
}

/** Pull a string field out of an unknown error object. */
export function errField(err: unknown, ...names: string[]): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const rec = err as Record<string, unknown>;
  for (const n of names) {
    const v = rec[n];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

import { describe, expect, it } from 'vitest';
import { classifyAliyunError } from '../../src/modules/security-group/aliyun.js';
import { classifyAwsError } from '../../src/modules/security-group/aws.js';
import { CloudApiError, withRetry, type CloudFailure } from '../../src/modules/security-group/retry.js';
import { classifyTencentError } from '../../src/modules/security-group/tencent.js';

/** Provider errors, shaped as each SDK throws them, and what the shared retry loop does with them. */

const aws = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status, requestId: 'req-aws-1' } });
const ali = (code: string, status: number) =>
  Object.assign(new Error(`code: ${status}, x request id: req-ali-1`), { code, statusCode: status, data: { RequestId: 'req-ali-1', Message: `${code} msg` } });
const tc = (code: string | undefined, message = 'm', httpCode?: number) =>
  Object.assign(new Error(message), { code, requestId: 'req-tc-1', ...(httpCode ? { httpCode } : {}) });

describe('error classification', () => {
  it.each<[string, CloudFailure['kind'], CloudFailure]>([
    ['aws throttle', 'retry', classifyAwsError(aws('RequestLimitExceeded', 503))],
    ['aws 500', 'retry', classifyAwsError(aws('InternalError', 500))],
    ['aws socket timeout', 'retry', classifyAwsError(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))],
    ['aws duplicate', 'duplicate', classifyAwsError(aws('InvalidPermission.Duplicate', 400))],
    ['aws revoke missing', 'not-found', classifyAwsError(aws('InvalidPermission.NotFound', 400))],
    ['aws auth', 'fatal', classifyAwsError(aws('AuthFailure', 401))],
    ['aws no credentials', 'fatal', classifyAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))],
    ['aliyun throttle', 'retry', classifyAliyunError(ali('Throttling.User', 400))],
    ['aliyun 503', 'retry', classifyAliyunError(ali('ServiceUnavailable', 503))],
    ['aliyun rule gone', 'not-found', classifyAliyunError(ali('InvalidParam.SecurityGroupRuleId', 400))],
    ['aliyun auth', 'fatal', classifyAliyunError(ali('InvalidAccessKeyId.NotFound', 404))],
    ['tencent throttle', 'retry', classifyTencentError(tc('RequestLimitExceeded.UinLimitExceeded'))],
    ['tencent duplicate', 'duplicate', classifyTencentError(tc('UnsupportedOperation.DuplicatePolicy'))],
    ['tencent http 502', 'retry', classifyTencentError(tc(undefined, 'Bad Gateway', 502))],
    ['tencent reset', 'retry', classifyTencentError(tc(undefined, 'request to http://x failed, reason: socket hang up'))],
    ['tencent auth', 'fatal', classifyTencentError(tc('AuthFailure.SignatureFailure'))],
  ])('%s → %s', (_name, kind, f) => {
    expect(f.kind).toBe(kind);
  });

  it('keeps the request id of each provider', () => {
    expect(classifyAwsError(aws('AuthFailure', 401)).requestId).toBe('req-aws-1');
    expect(classifyAliyunError(ali('Forbidden.RAM', 403)).requestId).toBe('req-ali-1');
    expect(classifyTencentError(tc('AuthFailure')).requestId).toBe('req-tc-1');
  });
});

describe('withRetry', () => {
  const signal = new AbortController().signal;
  const policy = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 10_000, random: () => 0.5 };

  it('stops after maxAttempts and says how many it made', async () => {
    let n = 0;
    const err = await withRetry(
      async () => {
        n++;
        throw aws('RequestLimitExceeded', 503);
      },
      { provider: 'aws', label: 'ec2 DescribeSecurityGroups', classify: classifyAwsError, signal, secrets: [], policy },
    ).catch((e: unknown) => e);
    expect(n).toBe(6);
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).code).toBe('E_CLOUD_THROTTLED');
    expect((err as CloudApiError).message).toContain('after 6 attempts');
  });

  it('fails at once on auth errors and on missing credentials, with an auth code and hint', async () => {
    for (const e of [aws('AuthFailure', 401), Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' })]) {
      let n = 0;
      const err = (await withRetry(
        async () => {
          n++;
          throw e;
        },
        { provider: 'aws', label: 'ec2 X', classify: classifyAwsError, signal, secrets: [], policy },
      ).catch((x: unknown) => x)) as CloudApiError;
      expect(n).toBe(1);
      expect(err.code).toBe('E_CLOUD_AUTH');
      expect(err.hint).toMatch(/AWS_ACCESS_KEY_ID/);
    }
  });

  it('stops when the time budget would be exceeded', async () => {
    let n = 0;
    await withRetry(
      async () => {
        n++;
        throw ali('Throttling.User', 400);
      },
      { provider: 'aliyun', label: 'ecs X', classify: classifyAliyunError, signal, secrets: [], policy: { ...policy, baseDelayMs: 1000, maxDelayMs: 1000, budgetMs: 400 } },
    ).catch(() => undefined);
    expect(n).toBe(1);
  });

  it('scrubs a secret even when a provider message contains it', async () => {
    const err = (await withRetry(
      async () => {
        throw tc('InvalidParameter', 'bad value sk-very-secret-123 in request');
      },
      { provider: 'tencent', label: 'vpc X', classify: classifyTencentError, signal, secrets: ['sk-very-secret-123'], policy },
    ).catch((x: unknown) => x)) as CloudApiError;
    expect(err.message).not.toContain('sk-very-secret-123');
    expect(err.message).toContain('***');
  });
});

import { CloudApiError, withRetry } from '../security-group/retry.js';
import { classifyTencentError, tencentClientOptions } from '../security-group/tencent.js';
import type { AdapterOptions } from '../security-group/types.js';
import type { InstanceAdapter, InstanceState } from './types.js';

/**
 * Tencent Cloud CVM instances (API 3.0, version 2017-03-12): DescribeInstances, StartInstances, StopInstances and
 * RebootInstances (StopType HARD when forced, SOFT otherwise). Credentials as security_group's VPC adapter; the
 * endpoint override is VNCPLAY_TENCENT_CVM_ENDPOINT (CVM is another service than VPC, on another host).
 */

const STATES: Record<string, InstanceState> = {
  PENDING: 'pending',
  STARTING: 'pending',
  RUNNING: 'running',
  STOPPING: 'stopping',
  STOPPED: 'stopped',
  REBOOTING: 'rebooting',
  SHUTDOWN: 'terminating',
  TERMINATING: 'terminating',
  LAUNCH_FAILED: 'failed',
};

export async function createTencentInstanceAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<InstanceAdapter> {
  // Only the CVM service: the package's index would load every Tencent Cloud product.
  const cvm = await import('tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js');
  const client = new cvm.Client(await tencentClientOptions(opts));

  async function must<T>(label: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const r = await withRetry(fn, { provider: 'tencent', label: `cvm ${label}`, classify: classifyTencentError, signal, secrets });
    if (!r.ok) throw new CloudApiError('tencent', `cvm ${label}`, r.failure, 1, secrets);
    return r.value;
  }

  return {
    provider: 'tencent',
    // DescribeInstances answers an unknown id with an empty set; the mutating calls with this code.
    notFoundCode: 'InvalidInstanceId.NotFound',
    async describe(id, signal) {
      const out = await must('DescribeInstances', () => client.DescribeInstances({ InstanceIds: [id] }), signal);
      const i = (out.InstanceSet ?? []).find((x) => x.InstanceId === id);
      if (!i) return undefined;
      const state = i.InstanceState ?? 'UNKNOWN';
      return {
        id,
        state: STATES[state] ?? 'failed',
        providerState: state,
        privateIps: i.PrivateIpAddresses ?? [],
        publicIps: i.PublicIpAddresses ?? [],
      };
    },
    async start(id, signal) {
      await must('StartInstances', () => client.StartInstances({ InstanceIds: [id] }), signal);
    },
    async stop(id, force, signal) {
      await must('StopInstances', () => client.StopInstances({ InstanceIds: [id], StopType: force ? 'HARD' : 'SOFT' }), signal);
    },
    async reboot(id, force, signal) {
      await must('RebootInstances', () => client.RebootInstances({ InstanceIds: [id], StopType: force ? 'HARD' : 'SOFT' }), signal);
    },
  };
}

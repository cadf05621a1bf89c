import { classifyAliyunError, ecsClient } from '../security-group/aliyun.js';
import { cjsDefault } from '../security-group/cjs.js';
import { CloudApiError, withRetry } from '../security-group/retry.js';
import type { AdapterOptions } from '../security-group/types.js';
import type { InstanceAdapter, InstanceState } from './types.js';

/**
 * Aliyun ECS instances (RPC API 2014-05-26): DescribeInstances (InstanceIds as a JSON list), StartInstance,
 * StopInstance / RebootInstance (ForceStop). Same client setup, credentials chain and endpoint override
 * (VNCPLAY_ALIYUN_ENDPOINT) as security_group's ECS adapter.
 */

type EcsClientClass = typeof import('@alicloud/ecs20140526').default;
type CredentialClass = typeof import('@alicloud/credentials').default;

const STATES: Record<string, InstanceState> = {
  Pending: 'pending',
  Starting: 'pending',
  Running: 'running',
  Stopping: 'stopping',
  Stopped: 'stopped',
};

export async function createAliyunInstanceAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<InstanceAdapter> {
  const client = await ecsClient(opts);
  const ecs = await import('@alicloud/ecs20140526');
  const region = opts.region;

  async function must<T>(label: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const r = await withRetry(fn, { provider: 'aliyun', label: `ecs ${label}`, classify: classifyAliyunError, signal, secrets });
    if (!r.ok) throw new CloudApiError('aliyun', `ecs ${label}`, r.failure, 1, secrets);
    return r.value;
  }

  return {
    provider: 'aliyun',
    // DescribeInstances answers an unknown id with an empty list; the mutating calls with this code.
    notFoundCode: 'InvalidInstanceId.NotFound',
    async describe(id, signal) {
      const req = new ecs.DescribeInstancesRequest({ regionId: region, instanceIds: JSON.stringify([id]) });
      const out = await must('DescribeInstances', () => client.describeInstances(req), signal);
      const i = (out.body?.instances?.instance ?? []).find((x) => x.instanceId === id);
      if (!i) return undefined;
      const status = i.status ?? 'unknown';
      const eip = i.eipAddress?.ipAddress;
      return {
        id,
        state: STATES[status] ?? 'failed',
        providerState: status,
        privateIps: [...(i.vpcAttributes?.privateIpAddress?.ipAddress ?? []), ...(i.innerIpAddress?.ipAddress ?? [])],
        publicIps: [...(i.publicIpAddress?.ipAddress ?? []), ...(eip ? [eip] : [])],
      };
    },
    async start(id, signal) {
      await must('StartInstance', () => client.startInstance(new ecs.StartInstanceRequest({ instanceId: id })), signal);
    },
    async stop(id, force, signal) {
      await must('StopInstance', () => client.stopInstance(new ecs.StopInstanceRequest({ instanceId: id, forceStop: force })), signal);
    },
    async reboot(id, force, signal) {
      await must('RebootInstance', () => client.rebootInstance(new ecs.RebootInstanceRequest({ instanceId: id, forceStop: force })), signal);
    },
  };
}

import type { Instance } from '@aws-sdk/client-ec2';
import { classifyAwsError, ec2Client } from '../security-group/aws.js';
import { CloudApiError, withRetry } from '../security-group/retry.js';
import type { AdapterOptions } from '../security-group/types.js';
import type { InstanceAdapter, InstanceState, InstanceView } from './types.js';

/**
 * AWS EC2 instances: DescribeInstances, StartInstances, StopInstances (Force), RebootInstances. Same client setup,
 * credentials chain and endpoint override (VNCPLAY_AWS_ENDPOINT) as security_group's EC2 adapter.
 */

const STATES: Record<string, InstanceState> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  'shutting-down': 'terminating',
  terminated: 'terminated',
};

export async function createAwsInstanceAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<InstanceAdapter> {
  // ec2Client first: it silences the SDK's Node-version notice before the SDK loads.
  const client = await ec2Client(opts);
  const sdk = await import('@aws-sdk/client-ec2');
  const NOT_FOUND = 'InvalidInstanceID.NotFound';

  async function must<T>(label: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const r = await withRetry(fn, { provider: 'aws', label: `ec2 ${label}`, classify: classifyAwsError, signal, secrets });
    if (!r.ok) throw new CloudApiError('aws', `ec2 ${label}`, r.failure, 1, secrets);
    return r.value;
  }

  return {
    provider: 'aws',
    notFoundCode: NOT_FOUND,
    async describe(id, signal) {
      try {
        const out = await must('DescribeInstances', () => client.send(new sdk.DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), signal);
        const found = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
        return found ? toView(found) : undefined;
      } catch (err) {
        // EC2 answers an unknown id with an error rather than an empty list.
        if (err instanceof CloudApiError && err.providerCode === NOT_FOUND) return undefined;
        throw err;
      }
    },
    async start(id, signal) {
      await must('StartInstances', () => client.send(new sdk.StartInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), signal);
    },
    async stop(id, force, signal) {
      await must('StopInstances', () => client.send(new sdk.StopInstancesCommand({ InstanceIds: [id], Force: force }), { abortSignal: signal }), signal);
    },
    async reboot(id, _force, signal) {
      // EC2 has no forced reboot: RebootInstances asks the OS, and EC2 itself hard-reboots after four minutes.
      await must('RebootInstances', () => client.send(new sdk.RebootInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }), signal);
    },
  };
}

function toView(i: Instance): InstanceView {
  const name = i.State?.Name ?? 'unknown';
  const privateIps = (i.NetworkInterfaces ?? []).flatMap((n) => (n.PrivateIpAddresses ?? []).flatMap((a) => (a.PrivateIpAddress ? [a.PrivateIpAddress] : [])));
  return {
    id: i.InstanceId ?? '',
    state: STATES[name] ?? 'failed',
    providerState: name,
    privateIps: privateIps.length ? privateIps : i.PrivateIpAddress ? [i.PrivateIpAddress] : [],
    publicIps: i.PublicIpAddress ? [i.PublicIpAddress] : [],
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { ModuleError } from '../../errors.js';
import { ENDPOINT_ENV } from '../security-group/index.js';
import { cloudClient } from '../security-group/retry.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type ArgsOf } from '../spec/types.js';
import type { Change, ModuleReturn, StepOutcome, TaskScope } from '../types.js';
import type { InstanceAdapter, InstanceState, InstanceView, Provider } from './types.js';

/**
 * cloud_instance: start, stop or reboot one AWS EC2, Aliyun ECS or Tencent CVM instance through the provider's
 * official SDK, on the controller, and wait until the provider reports the wanted state.
 */

const spec = defineSpec({
  description: 'Start, stop or reboot an AWS EC2, Aliyun ECS or Tencent CVM instance and wait until the provider reports the state.',
  options: {
    provider: { type: 'str', required: true, choices: ['aws', 'aliyun', 'tencent'], description: 'The cloud the instance lives in.' },
    region: { type: 'str', required: true, pattern: '\\S', patternText: 'a region id such as us-east-1 or cn-hangzhou', description: 'Region of the instance.' },
    instance_id: { type: 'str', required: true, pattern: '^\\S+$', patternText: 'an instance id without spaces', description: 'The instance (i-…, ins-…).' },
    state: { type: 'str', choices: ['running', 'stopped', 'restarted'], default: 'running', description: 'running and stopped are idempotent; restarted always reboots (or starts a stopped instance).' },
    force: { type: 'bool', default: false, description: 'Stop or reboot forcibly (power off) instead of asking the OS.' },
    wait: { type: 'bool', default: true, description: 'Wait until the provider reports the state.' },
    wait_timeout: { type: 'int', min: 1, default: 300, description: 'Seconds to wait for the state.' },
    access_key: { type: 'str', description: "Normally from the provider's standard credential places." },
    secret_key: { type: 'str', no_log: true, description: 'Goes with access_key; never shown in output.' },
    session_token: { type: 'str', no_log: true, description: 'Temporary credentials (STS); never shown in output.' },
  },
  required_together: [['access_key', 'secret_key']],
});

export type CloudInstanceArgs = ArgsOf<typeof spec.options>;

/** The endpoint variable per provider: EC2 and ECS serve instances on the same endpoint as security groups, CVM does not. */
export const INSTANCE_ENDPOINT_ENV: Record<Provider, string> = {
  aws: ENDPOINT_ENV.aws,
  aliyun: ENDPOINT_ENV.aliyun,
  tencent: 'VNCPLAY_TENCENT_CVM_ENDPOINT',
};

export interface InstanceFacts {
  instance: InstanceView;
  /** The SDK client the task's hosts share (one per task: ctx.task), for the step that changes the instance. */
  adapter: InstanceAdapter;
}

/** How the wait polls: the first pause, growing by half each time up to the cap (tests shorten it). */
export interface PollPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
}
let pollPolicy: PollPolicy = { firstDelayMs: 2_000, maxDelayMs: 15_000 };

/** Returns the previous policy. */
export function setInstancePollPolicy(p: Partial<PollPolicy>): PollPolicy {
  const prev = pollPolicy;
  pollPolicy = { ...pollPolicy, ...p };
  return prev;
}

async function loadAdapter(args: CloudInstanceArgs): Promise<InstanceAdapter> {
  const { opts, secrets } = cloudClient(args, process.env[INSTANCE_ENDPOINT_ENV[args.provider]]);
  // Each SDK is imported only when its provider is used.
  switch (args.provider) {
    case 'aws':
      return (await import('./aws.js')).createAwsInstanceAdapter(opts, secrets);
    case 'aliyun':
      return (await import('./aliyun.js')).createAliyunInstanceAdapter(opts, secrets);
    case 'tencent':
      return (await import('./tencent.js')).createTencentInstanceAdapter(opts, secrets);
  }
}

/** One SDK client per (provider, region, endpoint, key id) for the task's hosts; the next task makes its own. */
function adapterFor(args: CloudInstanceArgs, task: TaskScope): Promise<InstanceAdapter> {
  return task.once(`adapter|${cloudClient(args, process.env[INSTANCE_ENDPOINT_ENV[args.provider]]).key}`, () => loadAdapter(args));
}

const label = (args: CloudInstanceArgs): string => `${args.provider} instance ${args.instance_id} in ${args.region}`;

/** States from which no start, stop or reboot can bring the instance anywhere. */
const DEAD: ReadonlySet<InstanceState> = new Set(['terminating', 'terminated', 'failed']);

async function describeOrFail(adapter: InstanceAdapter, args: CloudInstanceArgs, signal: AbortSignal): Promise<InstanceView> {
  const view = await adapter.describe(args.instance_id, signal);
  if (!view) {
    throw new ModuleError('E_CLOUD_INSTANCE_NOT_FOUND', `${label(args)} not found (${adapter.notFoundCode})`, {
      hint: 'check instance_id, region and that the credentials belong to the account that owns it',
    });
  }
  if (DEAD.has(view.state)) {
    throw new ModuleError('E_CLOUD_INSTANCE_STATE', `${label(args)} is ${view.providerState}: it cannot be started, stopped or rebooted`, {
      hint: 'a terminated instance is gone; point instance_id at its replacement',
    });
  }
  return view;
}

/**
 * Poll until the provider reports `target`, with growing pauses, within `timeoutS`. A state that never comes fails
 * with the last state seen, so "stuck in Stopping" is told apart from "never left Stopped".
 */
async function waitFor(adapter: InstanceAdapter, args: CloudInstanceArgs, target: InstanceState, timeoutS: number, signal: AbortSignal): Promise<InstanceView> {
  const deadline = Date.now() + timeoutS * 1000;
  let delay = pollPolicy.firstDelayMs;
  for (;;) {
    const view = await describeOrFail(adapter, args, signal);
    if (view.state === target) return view;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ModuleError('E_CLOUD_INSTANCE_TIMEOUT', `${label(args)} did not reach ${target} within ${timeoutS}s; last state seen: ${view.providerState}`, {
        hint: 'raise wait_timeout, or look at the instance in the console: it may be stuck',
      });
    }
    await sleep(Math.min(delay, left), undefined, { signal });
    delay = Math.min(pollPolicy.maxDelayMs, Math.round(delay * 1.5));
  }
}

/** What the step did: whether it called a mutating action, and the instance as last read. */
export interface StepValue {
  acted: boolean;
  instance: InstanceView;
}

/**
 * Bring the instance to the wanted state from whatever it is in now (read again: the plan's read may be old).
 * A transition already under way toward the target is waited for, not repeated; one going the other way is let
 * finish first, since the providers refuse to start a stopping instance or stop a starting one.
 */
async function converge(adapter: InstanceAdapter, args: CloudInstanceArgs, signal: AbortSignal): Promise<StepValue> {
  const timeoutS = args.wait_timeout;
  let now = await describeOrFail(adapter, args, signal);
  let acted = false;
  const settle = async (target: InstanceState) => (now = await waitFor(adapter, args, target, timeoutS, signal));
  if (args.state === 'stopped') {
    if (now.state === 'pending' || now.state === 'rebooting') await settle('running');
    if (now.state === 'running') {
      await adapter.stop(args.instance_id, args.force, signal);
      acted = true;
    }
    return { acted, instance: args.wait ? await settle('stopped') : await describeOrFail(adapter, args, signal) };
  }
  if (args.state === 'restarted') {
    if (now.state === 'stopping') await settle('stopped');
    if (now.state === 'pending' || now.state === 'rebooting') await settle('running');
    if (now.state === 'running') await adapter.reboot(args.instance_id, args.force, signal);
    else await adapter.start(args.instance_id, signal);
    acted = true;
  } else {
    if (now.state === 'stopping') await settle('stopped');
    if (now.state === 'stopped') {
      await adapter.start(args.instance_id, signal);
      acted = true;
    }
  }
  return { acted, instance: args.wait ? await settle('running') : await describeOrFail(adapter, args, signal) };
}

export function planInstance(args: CloudInstanceArgs, facts: InstanceFacts): Change[] {
  const cur = facts.instance;
  if (args.state !== 'restarted' && cur.state === args.state) return [];
  const verb = args.state === 'restarted' ? (cur.state === 'stopped' ? 'start' : 'reboot') : args.state === 'running' ? 'start' : 'stop';
  const how = args.force && verb !== 'start' ? ' (forced)' : '';
  return [
    {
      summary: `${verb} ${label(args)}${how}: ${cur.providerState} → ${args.state === 'stopped' ? 'stopped' : 'running'}`,
      diff: { before: `state: ${cur.state}\n`, after: `state: ${args.state === 'stopped' ? 'stopped' : 'running'}\n` },
      steps: [{ kind: 'call', label: `${verb} ${args.instance_id}`, run: (signal) => converge(facts.adapter, args, signal) }],
    },
  ];
}

/** The registered `instance`, in Ansible's snake_case. */
function instanceData(v: InstanceView): Record<string, unknown> {
  return { id: v.id, state: v.state, provider_state: v.providerState, private_ips: v.privateIps, public_ips: v.publicIps };
}

function finishInstance(args: CloudInstanceArgs, facts: InstanceFacts, outcomes: StepOutcome[]): ModuleReturn {
  const value = outcomes.map((o) => o.value as StepValue | undefined).find((v) => v !== undefined);
  const instance = value?.instance ?? facts.instance;
  return {
    changed: value?.acted ?? false,
    data: { instance: instanceData(instance) },
    msg: `${label(args)} is ${instance.providerState}`,
  };
}

export const cloudInstance = plannedModule(spec, {
  kind: 'planned',
  name: 'cloud_instance',
  where: 'controller',
  async gather(args, ctx): Promise<InstanceFacts> {
    const adapter = await adapterFor(args, ctx.task);
    return { instance: await describeOrFail(adapter, args, ctx.signal), adapter };
  },
  plan: planInstance,
  noop: (args, facts) => `${label(args)} is ${facts.instance.providerState}`,
  finish: async (args, facts, outcomes) => finishInstance(args, facts, outcomes),
  report: (_args, facts) => ({ instance: instanceData(facts.instance) }),
});

import { ModuleError } from '../../errors.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type SpecProblem } from '../spec/types.js';
import type { Change, ModuleContext, ModuleReturn, StepOutcome, TaskScope } from '../types.js';
import { expandRuleArg, normaliseRuleArg } from './normalize.js';
import { groupLabel, planChanges, rulesText, type StepRuntime } from './plan.js';
import { cloudClient } from './retry.js';
import { securityGroupOptions } from './schema.js';
import type { Provider, SecurityGroupAdapter, SecurityGroupArgs, SecurityGroupFacts, SharedRead } from './types.js';

/**
 * security_group: one idempotent module for AWS, Aliyun and Tencent Cloud security groups, run on the controller.
 *
 * Once per group per task: the hosts running the task together share its scope (ModuleContext.task), so the group
 * is read once for all of them, and identical steps planned from that read run once (later hosts get the first
 * call's result). The read is forgotten when the last step of a plan has run or any step failed, so a host that
 * gathers after that reads again; the next task has a scope of its own and reads afresh.
 */

/** Endpoint overrides, for private endpoints and for the wire-level fakes in test/cloud/. */
export const ENDPOINT_ENV: Record<Provider, string> = {
  aws: 'VNCPLAY_AWS_ENDPOINT',
  aliyun: 'VNCPLAY_ALIYUN_ENDPOINT',
  tencent: 'VNCPLAY_TENCENT_ENDPOINT',
};

/** Tells reads apart (see SharedRead.serial); a counter, not a cache. */
let reads = 0;

function endpointFor(provider: Provider, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[ENDPOINT_ENV[provider]] || undefined;
}

function groupKey(args: SecurityGroupArgs): string {
  const ref = args.group_id ? `id:${args.group_id}` : `name:${args.name ?? ''}|vpc:${args.vpc_id ?? ''}`;
  return `${cloudClient(args, endpointFor(args.provider)).key}|${ref}`;
}

async function loadAdapter(args: SecurityGroupArgs): Promise<SecurityGroupAdapter> {
  const { opts, secrets } = cloudClient(args, endpointFor(args.provider));
  // Each SDK is imported only when its provider is used.
  switch (args.provider) {
    case 'aws':
      return (await import('./aws.js')).createAwsAdapter(opts, secrets);
    case 'aliyun':
      return (await import('./aliyun.js')).createAliyunAdapter(opts, secrets);
    case 'tencent':
      return (await import('./tencent.js')).createTencentAdapter(opts, secrets);
  }
}

/** One SDK client per (provider, region, endpoint, key id) for the task's hosts. */
function adapterFor(args: SecurityGroupArgs, task: TaskScope): Promise<SecurityGroupAdapter> {
  return task.once(`adapter|${cloudClient(args, endpointFor(args.provider)).key}`, () => loadAdapter(args));
}

async function readFacts(args: SecurityGroupArgs, task: TaskScope, signal: AbortSignal): Promise<SecurityGroupFacts> {
  const read: SharedRead = { task, groupKey: groupKey(args), serial: ++reads };
  const adapter = await adapterFor(args, task);
  const ref: { groupId?: string; name?: string; vpcId?: string } = {};
  if (args.group_id) ref.groupId = args.group_id;
  if (args.name) ref.name = args.name;
  if (args.vpc_id) ref.vpcId = args.vpc_id;
  const group = await adapter.find(ref, signal);
  if (!group && args.group_id && (args.state ?? 'present') === 'present') {
    // An id names one existing group; creating a new one would not give it that id.
    throw new ModuleError('E_SG_NOT_FOUND', `${args.provider} security group ${args.group_id} not found in ${args.region}`, {
      hint: 'check group_id and region, or use name (and vpc_id) to have the group created',
    });
  }
  const spec = { name: args.name ?? '', description: args.description ?? '', ...(args.vpc_id ? { vpcId: args.vpc_id } : {}) };
  const facts: SecurityGroupFacts = {
    provider: args.provider,
    region: args.region,
    initialRules: adapter.initialRules(spec),
    read,
  };
  if (group) facts.group = group;
  if (adapter.revokeFirst) facts.revokeFirst = true;
  return facts;
}

const readKey = (groupKeyOfArgs: string): string => `read|${groupKeyOfArgs}`;

export function gatherSecurityGroup(args: SecurityGroupArgs, ctx: Pick<ModuleContext, 'signal' | 'task'>): Promise<SecurityGroupFacts> {
  return ctx.task.once(readKey(groupKey(args)), () => readFacts(args, ctx.task, ctx.signal));
}

function stepRuntime(args: SecurityGroupArgs, facts: SecurityGroupFacts): StepRuntime {
  const { task, groupKey: key, serial } = facts.read;
  return {
    adapter: () => adapterFor(args, task),
    once: (signature, fn) => task.once(`call|${key}#${serial}#${signature}`, fn),
    invalidate: () => task.forget(readKey(key)),
  };
}

export function planSecurityGroup(args: SecurityGroupArgs, facts: SecurityGroupFacts): Change[] {
  return planChanges(args, facts, stepRuntime(args, facts));
}

/** Each rule checked as the plan reads it (lists expanded): every problem, at the rule (or the rule's key) it is about. */
function ruleProblems(args: SecurityGroupArgs): SpecProblem[] {
  const problems = new Map<string, SpecProblem>();
  for (const field of ['rules', 'rules_egress'] as const) {
    (args[field] ?? []).forEach((r, i) => {
      for (const one of expandRuleArg(r)) {
        const n = normaliseRuleArg(one, args.provider, `${field}[${i}]`);
        if ('error' in n) problems.set(n.error, { param: field, at: n.key === undefined ? [i] : [i, n.key], message: n.error });
      }
    });
  }
  return [...problems.values()];
}

const spec = defineSpec({
  description: 'Converge an AWS, Aliyun or Tencent Cloud security group and its rules (runs on the controller, once per group).',
  options: securityGroupOptions,
  required_one_of: [['group_id', 'name']],
  required_together: [['access_key', 'secret_key']],
  check: ruleProblems,
});

function reportOf(args: SecurityGroupArgs, facts: SecurityGroupFacts): Record<string, unknown> {
  const g = facts.group;
  return {
    provider: args.provider,
    region: args.region,
    group_id: g?.id ?? null,
    group_name: g?.name ?? args.name ?? null,
    exists: g !== undefined,
    ingress: g ? rulesText(g.ingress, 'ingress').trimEnd().split('\n').filter(Boolean) : [],
    egress: g ? rulesText(g.egress, 'egress').trimEnd().split('\n').filter(Boolean) : [],
  };
}

async function finishSecurityGroup(
  args: SecurityGroupArgs,
  facts: SecurityGroupFacts,
  outcomes: StepOutcome[],
): Promise<ModuleReturn> {
  const created = outcomes.find((o) => o.step.kind === 'call' && o.step.label.startsWith('create ') && typeof o.value === 'string');
  const data = reportOf(args, facts);
  if (created) data['group_id'] = created.value;
  if ((args.state ?? 'present') === 'absent') data['exists'] = false;
  else data['exists'] = true;
  return { changed: outcomes.length > 0, data, msg: `${groupLabel(args, facts)} converged` };
}

export const securityGroup = plannedModule(spec, {
  kind: 'planned',
  name: 'security_group',
  // No ec2_group/ec2_security_group aliases: their Ansible parameters (cidr_ip, from_port …) differ from ours, and a
  // playbook written for Ansible's module would be misread rather than refused.
  where: 'controller',
  gather: (args, ctx) => gatherSecurityGroup(args, ctx),
  plan: planSecurityGroup,
  finish: (args, facts, outcomes) => finishSecurityGroup(args, facts, outcomes),
  report: reportOf,
});

export default securityGroup;

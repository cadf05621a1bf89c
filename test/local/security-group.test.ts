import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VncplayError } from '../../src/errors.js';
import {
  ENDPOINT_ENV,
  gatherSecurityGroup,
  planSecurityGroup,
  securityGroup,
} from '../../src/modules/security-group/index.js';
import { CloudApiError } from '../../src/modules/security-group/retry.js';
import type { Provider, RuleArg, SecurityGroupArgs, SecurityGroupFacts } from '../../src/modules/security-group/types.js';
import type { Change, StepOutcome, TaskScope } from '../../src/modules/types.js';
import { SharedTaskScope } from '../../src/runner/task-scope.js';
import { startFakeEc2, type FakeEc2 } from '../cloud/fake-ec2.js';
import { parsedArgs } from '../support/module-args.js';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import type { FakeCloud } from '../cloud/fake-server.js';
import { startFakeTencentVpc, type FakeTencentVpc } from '../cloud/fake-vpc-tencent.js';
import { pointSdksAtFakes, type PlantedCredentials } from '../cloud/sdk-environment.js';

/**
 * security_group against wire-level fakes of EC2, ECS and Tencent VPC: the real SDK clients build, sign and send
 * the requests and parse the answers. The module is driven through gather → plan → steps, as the runner does it.
 */

const SECRETS: Record<Provider, PlantedCredentials> = {
  aws: { id: 'AKIAVNCPLAYTEST0001', secret: 'planted-aws-SECRET-7fd2a9c1e4', idVar: 'AWS_ACCESS_KEY_ID', secretVar: 'AWS_SECRET_ACCESS_KEY' },
  aliyun: {
    id: 'LTAI5tVncplayTest01',
    secret: 'planted-aliyun-SECRET-b81c55e0',
    idVar: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    secretVar: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  },
  tencent: {
    id: 'AKIDvncplayTest0001',
    secret: 'planted-tencent-SECRET-0c3e9a77',
    idVar: 'TENCENTCLOUD_SECRET_ID',
    secretVar: 'TENCENTCLOUD_SECRET_KEY',
  },
};
const PLANTED = Object.values(SECRETS).map((s) => s.secret);

/** Everything the module handed back or threw, for the secret search at the end. */
const seen: unknown[] = [];
let restoreEnvironment: () => void;
let fakes: { aws: FakeEc2; aliyun: FakeEcs; tencent: FakeTencentVpc };

beforeAll(async () => {
  fakes = {
    aws: await startFakeEc2({ [SECRETS.aws.id]: SECRETS.aws.secret }),
    aliyun: await startFakeEcs({ [SECRETS.aliyun.id]: SECRETS.aliyun.secret }),
    tencent: await startFakeTencentVpc({ [SECRETS.tencent.id]: SECRETS.tencent.secret }),
  };
  restoreEnvironment = pointSdksAtFakes(SECRETS, ENDPOINT_ENV, { aws: fakes.aws.endpoint, aliyun: fakes.aliyun.endpoint, tencent: fakes.tencent.endpoint });
});

afterAll(async () => {
  restoreEnvironment();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

beforeEach(() => newTask());

const ac = new AbortController();
/** What the runner hands the module: the signal, and the scope the hosts running one task share. */
const ctx: { signal: AbortSignal; task: TaskScope } = { signal: ac.signal, task: new SharedTaskScope() };
/** The next task (or a new run): nothing shared with the last one. */
function newTask(): void {
  ctx.task = new SharedTaskScope();
}

interface TaskResult {
  facts: SecurityGroupFacts;
  changes: Change[];
  data: Record<string, unknown>;
}

/** One task on one host, the way the runner runs a PlannedModule. `check` = plan, never run the steps. */
async function runTask(args: SecurityGroupArgs, check = false, beforeSteps?: () => void): Promise<TaskResult> {
  try {
    // Parsed as the runner parses them: a refused argument throws here.
    const parsed = parsedArgs(securityGroup, { ...args });
    const facts = await securityGroup.gather(parsed, ctx as never);
    const changes = securityGroup.plan(parsed, facts);
    seen.push(facts, changes, changes.map((c) => c.diff));
    let data = securityGroup.report?.(parsed, facts) ?? {};
    beforeSteps?.();
    if (!check && changes.length) {
      const outcomes: StepOutcome[] = [];
      for (const c of changes) for (const s of c.steps) if (s.kind === 'call') outcomes.push({ step: s, value: await s.run(ac.signal) });
      const ret = await securityGroup.finish!(parsed, facts, outcomes, ctx as never);
      seen.push(ret);
      data = ret.data ?? {};
    }
    seen.push(data);
    return { facts, changes, data };
  } catch (err) {
    seen.push(err);
    throw err;
  }
}

/** A fresh run: nothing remembered from the last one. */
async function newRun(args: SecurityGroupArgs, check = false, beforeSteps?: () => void): Promise<TaskResult> {
  newTask();
  return runTask(args, check, beforeSteps);
}

async function ingressNow(args: SecurityGroupArgs): Promise<string[]> {
  newTask();
  const f = await gatherSecurityGroup(args, ctx);
  return (securityGroup.report?.(parsedArgs(securityGroup, { ...args }), f)['ingress'] as string[]) ?? [];
}

const VNC_OFFICE: RuleArg = { proto: 'tcp', ports: '5900-5999', cidr: '198.51.100.0/24', description: 'office' };
const VNC_BASTION: RuleArg = { proto: 'tcp', ports: 5901, cidr: '203.0.113.10' };

/** Per provider: how to put an unlisted rule into the group behind the module's back. */
const sneakRule: Record<Provider, (groupId: string) => void> = {
  aws: (id) => fakes.aws.groups.get(id)!.ingress.push({ proto: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }),
  aliyun: (id) =>
    fakes.aliyun.groups
      .get(id)!
      .permissions.push(fakes.aliyun.permission({ Direction: 'ingress', IpProtocol: 'TCP', PortRange: '22/22', SourceCidrIp: '0.0.0.0/0' })),
  tencent: (id) => fakes.tencent.groups.get(id)!.ingress.push(fakes.tencent.policy({ Protocol: 'TCP', Port: '22', CidrBlock: '0.0.0.0/0' })),
};

/** The same, for the rule `udp 5901 from 192.0.2.0/24` a task is about to add (another admin got there first). */
const raceRule: Record<Provider, (groupId: string) => void> = {
  aws: (id) => fakes.aws.groups.get(id)!.ingress.push({ proto: 'udp', from: 5901, to: 5901, cidr: '192.0.2.0/24' }),
  aliyun: (id) =>
    fakes.aliyun.groups
      .get(id)!
      .permissions.push(fakes.aliyun.permission({ Direction: 'ingress', IpProtocol: 'UDP', PortRange: '5901/5901', SourceCidrIp: '192.0.2.0/24' })),
  tencent: (id) => fakes.tencent.groups.get(id)!.ingress.push(fakes.tencent.policy({ Protocol: 'UDP', Port: '5901', CidrBlock: '192.0.2.0/24' })),
};

const DESCRIBE: Record<Provider, string> = {
  aws: 'DescribeSecurityGroups',
  aliyun: 'DescribeSecurityGroups',
  tencent: 'DescribeSecurityGroups',
};
const AUTHORIZE_INGRESS: Record<Provider, string> = {
  aws: 'AuthorizeSecurityGroupIngress',
  aliyun: 'AuthorizeSecurityGroup',
  tencent: 'CreateSecurityGroupPolicies',
};

describe.each(['aws', 'aliyun', 'tencent'] as const)('security_group on %s (wire-level fake)', (provider) => {
  const fake = (): FakeCloud => fakes[provider];
  // The same task shape on every provider, as playbooks/harden.yml uses it.
  const args = (over: Partial<SecurityGroupArgs> = {}): SecurityGroupArgs => ({
    provider,
    region: provider === 'aws' ? 'eu-central-1' : provider === 'aliyun' ? 'cn-hangzhou' : 'ap-guangzhou',
    name: `vnc-${provider}`,
    ...(provider === 'tencent' ? {} : { vpc_id: 'vpc-vnc' }),
    description: 'VNC from the office only',
    rules: [VNC_OFFICE, VNC_BASTION],
    rules_egress: [{ proto: 'all', cidr: '0.0.0.0/0' }],
    ...over,
  });
  let groupId = '';

  afterEach(() => {
    expect(fake().calls.every((c) => c.accessKeyId === undefined || c.accessKeyId === SECRETS[provider].id)).toBe(true);
  });

  it('creates the group by name and converges its rules', async () => {
    const before = fake().mutatingCalls().length;
    const r = await newRun(args());
    expect(r.facts.group).toBeUndefined();
    expect(r.changes[0]!.summary).toMatch(/^create /);
    groupId = String(r.data['group_id']);
    expect(groupId).toMatch(/^sg-/);
    const made = fake().mutatingCalls().slice(before).map((c) => c.action);
    expect(made[0]).toBe('CreateSecurityGroup');
    expect(made).toContain(AUTHORIZE_INGRESS[provider]);
    expect(await ingressNow(args())).toEqual([
      'ingress tcp 5900-5999 from 198.51.100.0/24 accept' + (provider === 'aliyun' ? ' prio 1' : '') + ' (office)',
      'ingress tcp 5901 from 203.0.113.10/32 accept' + (provider === 'aliyun' ? ' prio 1' : ''),
    ]);
  });

  it('reports no change and makes no mutating call on the second run, by name and by id', async () => {
    const before = fake().mutatingCalls().length;
    expect((await newRun(args())).changes).toEqual([]);
    expect((await newRun(args({ name: undefined, group_id: groupId }))).changes).toEqual([]);
    expect(fake().mutatingCalls().length).toBe(before);
  });

  it('check mode reports adds and removes with a diff but calls nothing that mutates', async () => {
    sneakRule[provider](groupId);
    const before = fake().mutatingCalls().length;
    const r = await newRun(args({ rules: [VNC_OFFICE, VNC_BASTION, { proto: 'udp', ports: '5900-5999', cidr: '198.51.100.0/24' }] }), true);
    expect(r.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^ingress: add 1, remove 1 rule\(s\)/)]);
    expect(r.changes[0]!.diff?.before).toContain('tcp 22 from 0.0.0.0/0');
    expect(r.changes[0]!.diff?.after).toContain('udp 5900-5999 from 198.51.100.0/24');
    expect(r.changes[0]!.diff?.after).not.toContain('tcp 22 ');
    expect(fake().mutatingCalls().length).toBe(before);
    expect(await ingressNow(args())).toContain('ingress tcp 22 from 0.0.0.0/0 accept' + (provider === 'aliyun' ? ' prio 1' : ''));
  });

  it('purges the unlisted rule (purge_rules defaults to true) and keeps it with purge_rules: false', async () => {
    expect((await newRun(args({ purge_rules: false }))).changes).toEqual([]);
    const r = await newRun(args());
    expect(r.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^ingress: remove 1 rule\(s\)/)]);
    const now = await ingressNow(args());
    expect(now.some((l) => l.includes('tcp 22 '))).toBe(false);
    expect(now).toHaveLength(2);
  });

  it('retries throttling three times, then succeeds', async () => {
    fake().inject('throttle', 3, DESCRIBE[provider]);
    const before = fake().calls.length;
    expect((await newRun(args())).changes).toEqual([]);
    const describes = fake().calls.slice(before).filter((c) => c.action === DESCRIBE[provider]);
    // Tencent answers errors with HTTP 200 and an Error object; the code is what counts.
    expect(describes.map((c) => c.errorCode ?? 'ok')).toEqual([...Array<string>(3).fill(describes[0]!.errorCode!), 'ok']);
    expect(describes[0]!.errorCode).toMatch(/^(RequestLimitExceeded|Throttling\.User)$/);
  });

  it('retries a throttled mutating call and a 500 on the same call', async () => {
    fake().inject('throttle', 2, AUTHORIZE_INGRESS[provider]);
    fake().inject('server-error', 1, AUTHORIZE_INGRESS[provider]);
    const before = fake().calls.length;
    const r = await newRun(args({ rules: [VNC_OFFICE, VNC_BASTION, { proto: 'tcp', ports: 5999, cidr: '192.0.2.0/24' }] }));
    expect(r.changes).toHaveLength(1);
    const tries = fake().calls.slice(before).filter((c) => c.action === AUTHORIZE_INGRESS[provider]);
    expect(tries).toHaveLength(4);
    expect(tries.at(-1)!.status).toBe(200);
    expect(await ingressNow(args())).toContain('ingress tcp 5999 from 192.0.2.0/24 accept' + (provider === 'aliyun' ? ' prio 1' : ''));
  });

  it('counts a duplicate-rule answer as "already there" and still adds the rest of the batch', async () => {
    const udp = { proto: 'udp', ports: 5901, cidr: '192.0.2.0/24' };
    const udp2 = { proto: 'udp', ports: 5902, cidr: '192.0.2.0/24' };
    const p = (l: string) => l + (provider === 'aliyun' ? ' prio 1' : '');
    // Between our read and our write someone adds one of the two rules: the provider answers with its duplicate error.
    const r = await newRun(args({ rules: [VNC_OFFICE, VNC_BASTION, { proto: 'tcp', ports: 5999, cidr: '192.0.2.0/24' }, udp, udp2] }), false, () =>
      raceRule[provider](groupId),
    );
    expect(r.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^ingress: add 2 rule\(s\)/)]);
    const dupErrors = fake().calls.filter((c) => c.errorCode === 'InvalidPermission.Duplicate' || c.errorCode === 'UnsupportedOperation.DuplicatePolicy');
    expect(dupErrors.length).toBe(provider === 'aliyun' ? 0 : 2);
    const now = await ingressNow(args());
    expect(now.filter((l) => l === p('ingress udp 5901 from 192.0.2.0/24 accept'))).toHaveLength(1);
    expect(now).toContain(p('ingress udp 5902 from 192.0.2.0/24 accept'));
  });

  it('fails at once on an auth error, with the provider request id and without the secret', async () => {
    const right = process.env[SECRETS[provider].secretVar]!;
    process.env[SECRETS[provider].secretVar] = `${right}-but-wrong`;
    const before = fake().calls.length;
    try {
      const err = await newRun(args()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CloudApiError);
      const e = err as CloudApiError;
      expect(e.code).toBe('E_CLOUD_AUTH');
      const calls = fake().calls.slice(before);
      expect(calls).toHaveLength(1);
      expect(e.requestId).toBe(calls[0]!.requestId);
      expect(e.message).toContain(calls[0]!.requestId);
      expect(e.format()).not.toContain(right);
      expect(e.hint).toMatch(/credentials/);
    } finally {
      process.env[SECRETS[provider].secretVar] = right;
    }
  });

  it('explicit access_key/secret_key arguments are used instead of the environment', async () => {
    const right = process.env[SECRETS[provider].secretVar]!;
    process.env[SECRETS[provider].secretVar] = 'not-the-secret';
    try {
      const r = await newRun(args({ access_key: SECRETS[provider].id, secret_key: right }), true);
      expect(r.facts.group?.id).toBe(groupId);
      expect(JSON.stringify(r)).not.toContain(right);
    } finally {
      process.env[SECRETS[provider].secretVar] = right;
    }
  });

  it('state: absent deletes the group, and a second absent run is a no-op', async () => {
    const r = await newRun(args({ state: 'absent' }));
    expect(r.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^delete /)]);
    expect(fake().mutatingCalls().at(-1)!.action).toBe('DeleteSecurityGroup');
    const before = fake().mutatingCalls().length;
    expect((await newRun(args({ state: 'absent' }))).changes).toEqual([]);
    expect(fake().mutatingCalls().length).toBe(before);
  });

  it('a group_id that does not exist is an error (not a create), and already absent under state: absent', async () => {
    const before = fake().mutatingCalls().length;
    const err = await newRun(args({ name: undefined, group_id: 'sg-0000dead' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_SG_NOT_FOUND' });
    expect((await newRun(args({ name: undefined, group_id: 'sg-0000dead', state: 'absent' }))).changes).toEqual([]);
    expect(fake().mutatingCalls().length).toBe(before);
  });

  it('runs once per group when many hosts run the task in one run', async () => {
    newTask();
    const before = fake().calls.length;
    // Five hosts gather and run their steps concurrently, as the runner's p-limit lets them.
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => runTask(args())));
    const calls = fake().calls.slice(before);
    expect(calls.filter((c) => c.action === 'CreateSecurityGroup')).toHaveLength(1);
    const authorizeSteps = results[0]!.changes.flatMap((c) => c.steps).filter((st) => st.kind === 'call' && st.label.startsWith('authorize'));
    expect(authorizeSteps.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.action === AUTHORIZE_INGRESS[provider] || c.action === 'AuthorizeSecurityGroupEgress')).toHaveLength(
      authorizeSteps.length,
    );
    expect(new Set(results.map((r) => r.data['group_id'])).size).toBe(1);
    // A later host (after the steps ran) reads again and finds nothing to do.
    expect((await runTask(args())).changes).toEqual([]);
  });
});

describe('secrets', () => {
  it('no planted secret appears in anything the module returned or threw', () => {
    expect(seen.length).toBeGreaterThan(30);
    const text = seen
      .map((x) => {
        if (x instanceof VncplayError) return [x.message, x.format(), x.stack, JSON.stringify(x), String(x.cause)].join('\n');
        if (x instanceof Error) return [x.message, x.stack, JSON.stringify(x)].join('\n');
        return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'function' ? String(v) : v));
      })
      .join('\n');
    for (const s of PLANTED) expect(text).not.toContain(s);
    // And the fakes never echoed one either.
    const wire = JSON.stringify(Object.values(fakes).map((f) => f.calls));
    for (const s of PLANTED) expect(wire).not.toContain(s);
  });

  it('the same task shape plans on all three providers', () => {
    const shapes = (['aws', 'aliyun', 'tencent'] as const).map((provider) =>
      planSecurityGroup(
        { provider, region: 'r', name: 'vnc', rules: [VNC_OFFICE] },
        { provider, region: 'r', initialRules: { ingress: [], egress: [] }, read: { task: new SharedTaskScope(), groupKey: 'x', serial: 0 } },
      ).map((c) => c.summary.replace(provider, 'P')),
    );
    expect(shapes[0]).toEqual(shapes[1]);
    expect(shapes[1]).toEqual(shapes[2]);
  });
});

describe('tencent: deletes by PolicyIndex are guarded by the policy set Version', () => {
  it('refuses to delete when the group changed after the read, and converges on the next run', async () => {
    const tc = fakes.tencent;
    const g = tc.addGroup({
      name: 'vnc-race',
      version: 5,
      ingress: [tc.policy({ Protocol: 'TCP', Port: '5901', CidrBlock: '10.0.0.0/8' }), tc.policy({ Protocol: 'TCP', Port: '22', CidrBlock: '0.0.0.0/0' })],
    });
    const args: SecurityGroupArgs = { provider: 'tencent', region: 'ap-guangzhou', name: 'vnc-race', rules: [{ proto: 'tcp', ports: 5901, cidr: '10.0.0.0/8' }] };
    // Someone inserts a rule at the top between our read and our delete of index 1: index 1 is now the 5901 rule.
    const err = await newRun(args, false, () => {
      g.ingress.unshift(tc.policy({ Protocol: 'UDP', Port: '53', CidrBlock: '10.9.9.9/32' }));
      g.version++;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).providerCode).toBe('UnsupportedOperation.VersionMismatch');
    expect((err as CloudApiError).hint).toMatch(/run again/);
    expect(g.ingress.map((p) => p.Port)).toEqual(['53', '5901', '22']);
    // A fresh read sees the new state and converges (the unlisted rules go, the listed one stays).
    const r = await newRun(args);
    expect(r.changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^ingress: remove 2 rule\(s\)/)]);
    expect(g.ingress.map((p) => p.Port)).toEqual(['5901']);
    expect((await newRun(args)).changes).toEqual([]);
  });
});

describe('aws: a group created by someone else between read and create is adopted', () => {
  it('turns InvalidGroup.Duplicate into "use that group" and puts the rules on it', async () => {
    const args: SecurityGroupArgs = { provider: 'aws', region: 'eu-central-1', name: 'vnc-adopt', vpc_id: 'vpc-vnc', rules: [{ proto: 'tcp', ports: 5901, cidr: '10.0.0.0/8' }] };
    let theirs = '';
    const r = await newRun(args, false, () => {
      theirs = fakes.aws.addGroup({ name: 'vnc-adopt', vpcId: 'vpc-vnc' }).id;
    });
    expect(r.data['group_id']).toBe(theirs);
    expect(fakes.aws.calls.filter((c) => c.action === 'CreateSecurityGroup').at(-1)!.errorCode).toBe('InvalidGroup.Duplicate');
    expect(fakes.aws.groups.get(theirs)!.ingress).toEqual([{ proto: 'tcp', from: 5901, to: 5901, cidr: '10.0.0.0/8' }]);
    expect((await newRun(args)).changes).toEqual([]);
  });
});

import type { EC2Client, IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import { ModuleError } from '../../errors.js';
import { parseProto, peerFrom, portsFromNumbers, protoHasPorts } from './normalize.js';
import { CloudApiError, type CloudFailure, errField, isTransient, withRetry } from './retry.js';
import type {
  AdapterOptions,
  Direction,
  GroupRef,
  GroupState,
  NormRule,
  SecurityGroupAdapter,
} from './types.js';

/**
 * AWS EC2 (Query API) adapter. Calls: DescribeSecurityGroups, CreateSecurityGroup, DeleteSecurityGroup,
 * AuthorizeSecurityGroupIngress/Egress, RevokeSecurityGroupIngress/Egress. Credentials: the SDK's default
 * provider chain (env, shared files + AWS_PROFILE, SSO, process, instance/container role). Endpoint override:
 * VNCPLAY_AWS_ENDPOINT, or the SDK's own AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL.
 */

type Ec2Module = typeof import('@aws-sdk/client-ec2');

export function classifyAwsError(err: unknown): CloudFailure {
  const code = errField(err, 'Code', 'name', 'code') ?? 'Unknown';
  const meta = (err as { $metadata?: { httpStatusCode?: number; requestId?: string } } | null)?.$metadata;
  const f: CloudFailure = { kind: 'fatal', code, message: errField(err, 'message') ?? String(err) };
  if (meta?.requestId) f.requestId = meta.requestId;
  if (meta?.httpStatusCode) f.httpStatus = meta.httpStatusCode;
  if (code === 'InvalidPermission.Duplicate') f.kind = 'duplicate';
  else if (code === 'InvalidPermission.NotFound' || code === 'InvalidGroup.NotFound') f.kind = 'not-found';
  else if (isTransient(code, f.httpStatus)) f.kind = 'retry';
  return f;
}

/** The EC2 client every AWS adapter uses (security groups, instances): one attempt per call, withRetry does the rest. */
export async function ec2Client(opts: AdapterOptions): Promise<EC2Client> {
  // The SDK prints a multi-line Node-version notice to stderr on first use; it would land in every run's output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const sdk: Ec2Module = await import('@aws-sdk/client-ec2');
  const config: ConstructorParameters<typeof sdk.EC2Client>[0] = {
    region: opts.region,
    maxAttempts: 1,
    // The SDK waits forever by default; a hung endpoint must fail (and be retried) like the other providers do.
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 10_000 },
  };
  if (opts.endpoint) config.endpoint = opts.endpoint.includes('://') ? opts.endpoint : `https://${opts.endpoint}`;
  if (opts.credentials) {
    const c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
      accessKeyId: opts.credentials.accessKey,
      secretAccessKey: opts.credentials.secretKey,
    };
    if (opts.credentials.sessionToken) c.sessionToken = opts.credentials.sessionToken;
    config.credentials = c;
  }
  return new sdk.EC2Client(config);
}

export async function createAwsAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<SecurityGroupAdapter> {
  // ec2Client first: it silences the SDK's Node-version notice before the SDK loads.
  const client = await ec2Client(opts);
  const sdk: Ec2Module = await import('@aws-sdk/client-ec2');

  const call = async <T>(label: string, fn: () => Promise<T>, signal: AbortSignal) =>
    withRetry(fn, { provider: 'aws', label: `ec2 ${label}`, classify: classifyAwsError, signal, secrets });

  const must = async <T>(label: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> => {
    const r = await call(label, fn, signal);
    if (!r.ok) throw new CloudApiError('aws', `ec2 ${label}`, r.failure, 1, secrets);
    return r.value;
  };

  async function describe(ref: GroupRef, signal: AbortSignal): Promise<SecurityGroup[]> {
    const input: ConstructorParameters<typeof sdk.DescribeSecurityGroupsCommand>[0] = {};
    if (ref.groupId) input.GroupIds = [ref.groupId];
    else {
      input.Filters = [{ Name: 'group-name', Values: [ref.name ?? ''] }];
      if (ref.vpcId) input.Filters.push({ Name: 'vpc-id', Values: [ref.vpcId] });
    }
    const r = await call(
      'DescribeSecurityGroups',
      () => client.send(new sdk.DescribeSecurityGroupsCommand(input), { abortSignal: signal }),
      signal,
    );
    if (!r.ok) return [];
    return r.value.SecurityGroups ?? [];
  }

  async function sendPermissions(
    action: 'authorize' | 'revoke',
    groupId: string,
    direction: Direction,
    perms: IpPermission[],
    signal: AbortSignal,
  ): Promise<CloudFailure | undefined> {
    const input = { GroupId: groupId, IpPermissions: perms };
    const cmd =
      action === 'authorize'
        ? direction === 'ingress'
          ? new sdk.AuthorizeSecurityGroupIngressCommand(input)
          : new sdk.AuthorizeSecurityGroupEgressCommand(input)
        : direction === 'ingress'
          ? new sdk.RevokeSecurityGroupIngressCommand(input)
          : new sdk.RevokeSecurityGroupEgressCommand(input);
    const label = `${action === 'authorize' ? 'Authorize' : 'Revoke'}SecurityGroup${direction === 'ingress' ? 'Ingress' : 'Egress'}`;
    // The union of command types defeats send()'s overloads; each command is sent with its own input type.
    const r = await call(label, () => client.send(cmd as never, { abortSignal: signal }), signal);
    return r.ok ? undefined : r.failure;
  }

  return {
    provider: 'aws',
    async find(ref, signal) {
      const groups = await describe(ref, signal);
      if (groups.length > 1) {
        throw new ModuleError('E_SG_AMBIGUOUS', `${groups.length} AWS security groups are named '${ref.name}'`, {
          hint: 'give vpc_id or group_id to pick one',
        });
      }
      const g = groups[0];
      return g ? toGroupState(g) : undefined;
    },
    async create(spec, signal) {
      const input: ConstructorParameters<typeof sdk.CreateSecurityGroupCommand>[0] = {
        GroupName: spec.name,
        Description: spec.description,
      };
      if (spec.vpcId) input.VpcId = spec.vpcId;
      let out: { GroupId?: string };
      try {
        out = await must('CreateSecurityGroup', () => client.send(new sdk.CreateSecurityGroupCommand(input), { abortSignal: signal }), signal);
      } catch (err) {
        // Created by someone else (or a parallel run) since our read: adopt it, as a second run would.
        if (!(err instanceof CloudApiError) || err.providerCode !== 'InvalidGroup.Duplicate') throw err;
        const ref: GroupRef = { name: spec.name };
        if (spec.vpcId) ref.vpcId = spec.vpcId;
        const existing = (await describe(ref, signal))[0];
        if (!existing?.GroupId) throw err;
        return existing.GroupId;
      }
      if (!out.GroupId) throw new ModuleError('E_CLOUD_API', 'aws ec2 CreateSecurityGroup returned no GroupId');
      return out.GroupId;
    },
    async remove(groupId, signal) {
      await call(
        'DeleteSecurityGroup',
        () => client.send(new sdk.DeleteSecurityGroupCommand({ GroupId: groupId }), { abortSignal: signal }),
        signal,
      );
    },
    async authorize(groupId, direction, rules, signal) {
      if (rules.length === 0) return;
      const failure = await sendPermissions('authorize', groupId, direction, rules.map((r) => toPermission(r)), signal);
      if (failure?.kind !== 'duplicate') return;
      // One duplicate fails the whole batch; add the rules one by one so the others still get in.
      for (const r of rules) await sendPermissions('authorize', groupId, direction, [toPermission(r)], signal);
    },
    async revoke(groupId, direction, rules, signal) {
      if (rules.length === 0) return;
      const failure = await sendPermissions('revoke', groupId, direction, rules.map((r) => toPermission(r, false)), signal);
      if (failure?.kind !== 'not-found') return;
      for (const r of rules) await sendPermissions('revoke', groupId, direction, [toPermission(r, false)], signal);
    },
    initialRules() {
      // Every EC2 group lives in a VPC now, and AWS gives each new one an allow-all IPv4 egress rule.
      return { ingress: [], egress: [{ proto: 'all', from: null, to: null, peer: { kind: 'cidr', value: '0.0.0.0/0' }, policy: 'accept', priority: null }] };
    },
  };
}

function toGroupState(g: SecurityGroup): GroupState {
  const s: GroupState = {
    id: g.GroupId ?? '',
    name: g.GroupName ?? '',
    description: g.Description ?? '',
    ingress: fromPermissions(g.IpPermissions ?? []),
    egress: fromPermissions(g.IpPermissionsEgress ?? []),
  };
  if (g.VpcId) s.vpcId = g.VpcId;
  return s;
}

/** AWS groups several peers under one (protocol, ports) permission; we keep one rule per peer. */
export function fromPermissions(perms: IpPermission[]): NormRule[] {
  const out: NormRule[] = [];
  for (const p of perms) {
    const proto = parseProto(p.IpProtocol ?? '');
    if (!proto) continue;
    // ICMP limited to one type/code is not something rules can express: leave it alone rather than misread it.
    if ((proto === 'icmp' || proto === 'icmpv6') && p.FromPort !== undefined && p.FromPort !== -1) continue;
    const ports = portsFromNumbers(proto, p.FromPort, p.ToPort);
    const base = { proto, from: ports?.from ?? null, to: ports?.to ?? null, policy: 'accept' as const, priority: null };
    const push = (peer: NormRule['peer'] | undefined, description: string | undefined) => {
      if (!peer) return;
      const r: NormRule = { ...base, peer };
      if (description) r.description = description;
      out.push(r);
    };
    for (const x of p.IpRanges ?? []) push(peerFrom(x.CidrIp), x.Description);
    for (const x of p.Ipv6Ranges ?? []) push(peerFrom(undefined, x.CidrIpv6), x.Description);
    for (const x of p.UserIdGroupPairs ?? []) push(peerFrom(undefined, undefined, x.GroupId), x.Description);
  }
  return out;
}

/** Descriptions go with an authorize; a revoke matches on the rule alone. */
export function toPermission(r: NormRule, withDescription = true): IpPermission {
  const p: IpPermission = { IpProtocol: r.proto === 'all' ? '-1' : r.proto === 'icmpv6' ? '58' : r.proto };
  if (protoHasPorts(r.proto)) {
    p.FromPort = r.from ?? 0;
    p.ToPort = r.to ?? 65535;
  } else if (r.proto !== 'all') {
    p.FromPort = -1;
    p.ToPort = -1;
  }
  const d = withDescription && r.description ? { Description: r.description } : {};
  if (r.peer.kind === 'cidr') p.IpRanges = [{ CidrIp: r.peer.value, ...d }];
  else if (r.peer.kind === 'cidr6') p.Ipv6Ranges = [{ CidrIpv6: r.peer.value, ...d }];
  else p.UserIdGroupPairs = [{ GroupId: r.peer.value, ...d }];
  return p;
}


import { ModuleError } from '../../errors.js';
import { cjsDefault } from './cjs.js';
import { aliyunPortRange, parsePolicy, parsePorts, parseProto, peerFrom } from './normalize.js';
import { type CloudFailure, errField, isTransient, withRetry } from './retry.js';
import type { AdapterOptions, Direction, GroupState, NormRule, SecurityGroupAdapter } from './types.js';

/**
 * Aliyun ECS adapter (RPC API 2014-05-26 via the official SDK, which signs with ACS3-HMAC-SHA256).
 * Calls: DescribeSecurityGroups (by name), DescribeSecurityGroupAttribute (rules, Direction=all),
 * CreateSecurityGroup, DeleteSecurityGroup, AuthorizeSecurityGroup(Egress), RevokeSecurityGroup(Egress) by
 * SecurityGroupRuleId. Credentials: @alicloud/credentials' default chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET,
 * OIDC, ~/.aliyun/config.json, ~/.alibabacloud/credentials, ECS RAM role). Endpoint override: VNCPLAY_ALIYUN_ENDPOINT
 * (host:port, or http://host:port for plain HTTP).
 */

type EcsClient = import('@alicloud/ecs20140526').default;
type EcsClientClass = typeof import('@alicloud/ecs20140526').default;
type CredentialClass = typeof import('@alicloud/credentials').default;
/** The fields of a DescribeSecurityGroupAttribute permission we read (the SDK model has more). */
interface Permission {
  direction?: string;
  ipProtocol?: string;
  portRange?: string;
  sourceCidrIp?: string;
  ipv6SourceCidrIp?: string;
  sourceGroupId?: string;
  destCidrIp?: string;
  ipv6DestCidrIp?: string;
  destGroupId?: string;
  policy?: string;
  priority?: string;
  description?: string;
  securityGroupRuleId?: string;
}

/** Aliyun answers a duplicate authorize with success (documented); these codes mean "already gone" on revoke. */
const NOT_FOUND = new Set(['InvalidParam.SecurityGroupRuleId', 'InvalidSecurityGroupId.NotFound', 'InvalidSecurityGroup.NotFound']);

export function classifyAliyunError(err: unknown): CloudFailure {
  const code = errField(err, 'code') ?? 'Unknown';
  const data = (err as { data?: Record<string, unknown> } | null)?.data;
  const message = (typeof data?.['Message'] === 'string' ? data['Message'] : undefined) ?? errField(err, 'message') ?? String(err);
  const f: CloudFailure = { kind: 'fatal', code, message };
  const rid = (typeof data?.['RequestId'] === 'string' ? data['RequestId'] : undefined) ?? errField(err, 'requestId');
  if (rid && rid !== 'undefined') f.requestId = rid;
  const status = Number(errField(err, 'statusCode'));
  if (Number.isFinite(status) && status > 0) f.httpStatus = status;
  if (code === 'InvalidPermission.Duplicate') f.kind = 'duplicate';
  else if (NOT_FOUND.has(code)) f.kind = 'not-found';
  else if (isTransient(code, f.httpStatus)) f.kind = 'retry';
  return f;
}

/** The ECS client every Aliyun adapter uses (security groups, instances): one attempt per call, withRetry does the rest. */
export async function ecsClient(opts: AdapterOptions): Promise<EcsClient> {
  const [ecs, core, cred] = await Promise.all([
    import('@alicloud/ecs20140526'),
    import('@alicloud/openapi-core'),
    import('@alicloud/credentials'),
  ]);
  const config = new core.$OpenApiUtil.Config({ regionId: opts.region, readTimeout: 30_000, connectTimeout: 10_000 });
  if (opts.endpoint) {
    const m = /^(https?):\/\/(.+?)\/?$/.exec(opts.endpoint);
    config.endpoint = m ? m[2]! : opts.endpoint;
    config.protocol = m ? m[1]! : 'https';
  }
  if (opts.credentials) {
    config.accessKeyId = opts.credentials.accessKey;
    config.accessKeySecret = opts.credentials.secretKey;
    if (opts.credentials.sessionToken) config.securityToken = opts.credentials.sessionToken;
  } else {
    // No config → the package's default provider chain, the same one the aliyun CLI and SDK samples use.
    config.credential = new (cjsDefault<CredentialClass>(cred))();
  }
  // No retryOptions: the SDK makes exactly one attempt and our withRetry does the rest.
  return new (cjsDefault<EcsClientClass>(ecs))(config);
}

export async function createAliyunAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<SecurityGroupAdapter> {
  const client = await ecsClient(opts);
  const ecs = await import('@alicloud/ecs20140526');
  const region = opts.region;

  const call = <T>(label: string, fn: () => Promise<T>, signal: AbortSignal) =>
    withRetry(fn, { provider: 'aliyun', label: `ecs ${label}`, classify: classifyAliyunError, signal, secrets });

  async function readGroup(groupId: string, signal: AbortSignal): Promise<GroupState | undefined> {
    const perms: Permission[] = [];
    let head: import('@alicloud/ecs20140526').DescribeSecurityGroupAttributeResponseBody | undefined;
    let nextToken: string | undefined;
    do {
      const req = new ecs.DescribeSecurityGroupAttributeRequest({ regionId: region, securityGroupId: groupId, direction: 'all' });
      if (nextToken) {
        req.nextToken = nextToken;
        req.maxResults = 1000;
      }
      const r = await call('DescribeSecurityGroupAttribute', () => client.describeSecurityGroupAttribute(req), signal);
      if (!r.ok) return undefined;
      head ??= r.value.body;
      perms.push(...(r.value.body?.permissions?.permission ?? []));
      nextToken = r.value.body?.nextToken || undefined;
    } while (nextToken);
    const s: GroupState = {
      id: groupId,
      name: head?.securityGroupName ?? '',
      description: head?.description ?? '',
      ingress: fromPermissions(perms, 'ingress'),
      egress: fromPermissions(perms, 'egress'),
    };
    if (head?.vpcId) s.vpcId = head.vpcId;
    return s;
  }

  const adapter: SecurityGroupAdapter = {
    provider: 'aliyun',
    async find(ref, signal) {
      if (ref.groupId) return readGroup(ref.groupId, signal);
      // One page of up to 100: the name filter may also match other groups, which are dropped below.
      const req = new ecs.DescribeSecurityGroupsRequest({ regionId: region, securityGroupName: ref.name, maxResults: 100 });
      if (ref.vpcId) req.vpcId = ref.vpcId;
      const r = await call('DescribeSecurityGroups', () => client.describeSecurityGroups(req), signal);
      if (!r.ok) return undefined;
      // The name filter is a prefix match on some API versions; keep exact matches only.
      const found = (r.value.body?.securityGroups?.securityGroup ?? []).filter((g) => g.securityGroupName === ref.name);
      if (found.length > 1) {
        throw new ModuleError('E_SG_AMBIGUOUS', `${found.length} Aliyun security groups are named '${ref.name}'`, {
          hint: 'give vpc_id or group_id to pick one',
        });
      }
      const id = found[0]?.securityGroupId;
      return id ? readGroup(id, signal) : undefined;
    },
    async create(spec, signal) {
      const req = new ecs.CreateSecurityGroupRequest({ regionId: region, securityGroupName: spec.name, description: spec.description });
      if (spec.vpcId) req.vpcId = spec.vpcId;
      const r = await call('CreateSecurityGroup', () => client.createSecurityGroup(req), signal);
      const id = r.ok ? r.value.body?.securityGroupId : undefined;
      if (!id) throw new ModuleError('E_CLOUD_API', 'aliyun ecs CreateSecurityGroup returned no SecurityGroupId');
      return id;
    },
    async remove(groupId, signal) {
      const req = new ecs.DeleteSecurityGroupRequest({ regionId: region, securityGroupId: groupId });
      await call('DeleteSecurityGroup', () => client.deleteSecurityGroup(req), signal);
    },
    async authorize(groupId, direction, rules, signal) {
      if (rules.length === 0) return;
      // ECS answers a duplicate with success; should one ever fail the batch, the rest go in one by one.
      if (direction === 'ingress') {
        const permissions = rules.map((r) => new ecs.AuthorizeSecurityGroupRequestPermissions(ingressPermission(r)));
        const req = new ecs.AuthorizeSecurityGroupRequest({ regionId: region, securityGroupId: groupId, permissions });
        const r = await call('AuthorizeSecurityGroup', () => client.authorizeSecurityGroup(req), signal);
        if (!r.ok && rules.length > 1) for (const one of rules) await adapter.authorize(groupId, direction, [one], signal);
      } else {
        const permissions = rules.map((r) => new ecs.AuthorizeSecurityGroupEgressRequestPermissions(egressPermission(r)));
        const req = new ecs.AuthorizeSecurityGroupEgressRequest({ regionId: region, securityGroupId: groupId, permissions });
        const r = await call('AuthorizeSecurityGroupEgress', () => client.authorizeSecurityGroupEgress(req), signal);
        if (!r.ok && rules.length > 1) for (const one of rules) await adapter.authorize(groupId, direction, [one], signal);
      }
    },
    async revoke(groupId, direction, rules, signal) {
      const ids = rules.flatMap((r) => (r.handle ? [r.handle] : []));
      if (ids.length === 0) return;
      const base = { regionId: region, securityGroupId: groupId, securityGroupRuleId: ids };
      const r =
        direction === 'ingress'
          ? await call('RevokeSecurityGroup', () => client.revokeSecurityGroup(new ecs.RevokeSecurityGroupRequest(base)), signal)
          : await call('RevokeSecurityGroupEgress', () => client.revokeSecurityGroupEgress(new ecs.RevokeSecurityGroupEgressRequest(base)), signal);
      if (r.ok || ids.length === 1) return;
      // One rule already gone fails the batch; revoke the rest one by one.
      for (const id of ids) {
        const one = { ...base, securityGroupRuleId: [id] };
        if (direction === 'ingress') await call('RevokeSecurityGroup', () => client.revokeSecurityGroup(new ecs.RevokeSecurityGroupRequest(one)), signal);
        else await call('RevokeSecurityGroupEgress', () => client.revokeSecurityGroupEgress(new ecs.RevokeSecurityGroupEgressRequest(one)), signal);
      }
    },
    initialRules() {
      return { ingress: [], egress: [] };
    },
  };
  return adapter;
}

const WIRE_PROTO: Record<NormRule['proto'], string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6', all: 'ALL' };

function common(r: NormRule): Record<string, string> {
  const p: Record<string, string> = {
    ipProtocol: WIRE_PROTO[r.proto],
    portRange: aliyunPortRange(r),
    policy: r.policy,
    priority: String(r.priority ?? 1),
  };
  if (r.description) p['description'] = r.description;
  return p;
}

function ingressPermission(r: NormRule): Record<string, string> {
  const p = common(r);
  if (r.peer.kind === 'cidr') p['sourceCidrIp'] = r.peer.value;
  else if (r.peer.kind === 'cidr6') p['ipv6SourceCidrIp'] = r.peer.value;
  else p['sourceGroupId'] = r.peer.value;
  return p;
}

function egressPermission(r: NormRule): Record<string, string> {
  const p = common(r);
  if (r.peer.kind === 'cidr') p['destCidrIp'] = r.peer.value;
  else if (r.peer.kind === 'cidr6') p['ipv6DestCidrIp'] = r.peer.value;
  else p['destGroupId'] = r.peer.value;
  return p;
}

export function fromPermissions(perms: Permission[], direction: Direction): NormRule[] {
  const out: NormRule[] = [];
  for (const p of perms) {
    if ((p.direction ?? 'ingress') !== direction) continue;
    const proto = parseProto(p.ipProtocol ?? '');
    if (!proto) continue;
    const ports = proto === 'tcp' || proto === 'udp' ? parsePorts(p.portRange) : null;
    if (ports === undefined) continue;
    const peer =
      direction === 'ingress'
        ? peerFrom(p.sourceCidrIp, p.ipv6SourceCidrIp, p.sourceGroupId)
        : peerFrom(p.destCidrIp, p.ipv6DestCidrIp, p.destGroupId);
    if (!peer) continue;
    const r: NormRule = {
      proto,
      from: ports?.from ?? null,
      to: ports?.to ?? null,
      peer,
      policy: parsePolicy(p.policy),
      priority: Number(p.priority) || 1,
    };
    if (p.description) r.description = p.description;
    if (p.securityGroupRuleId) r.handle = p.securityGroupRuleId;
    out.push(r);
  }
  return out;
}


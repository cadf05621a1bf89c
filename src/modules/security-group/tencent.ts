import { ModuleError } from '../../errors.js';
import { cjsDefault } from './cjs.js';
import { parsePolicy, parsePorts, parseProto, peerFrom, tencentPort } from './normalize.js';
import { type CloudFailure, errField, isTransient, withRetry } from './retry.js';
import type { AdapterOptions, Direction, GroupState, NormRule, SecurityGroupAdapter } from './types.js';

/**
 * Tencent Cloud VPC adapter (API 3.0, version 2017-03-12, TC3-HMAC-SHA256 via the official SDK).
 * Calls: DescribeSecurityGroups (by name or id), DescribeSecurityGroupPolicies, CreateSecurityGroup,
 * DeleteSecurityGroup, CreateSecurityGroupPolicies, DeleteSecurityGroupPolicies (by PolicyIndex guarded by the policy
 * set Version, one direction per request, as the API requires). Credentials: TENCENTCLOUD_SECRET_ID/KEY(/SESSION_TOKEN), ~/.tencentcloud/credentials,
 * then the CVM role. Endpoint override: VNCPLAY_TENCENT_ENDPOINT (host:port, or http://host:port).
 */

type Policy = NonNullable<import('tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js').SecurityGroupPolicy>;
type CvmRoleClass = typeof import('tencentcloud-sdk-nodejs/tencentcloud/common/cvm_role_credential.js').default;
type TcCredential = import('tencentcloud-sdk-nodejs/tencentcloud/common/interface.js').Credential;

const NOT_FOUND = new Set(['ResourceNotFound', 'InvalidSecurityGroupID.NotFound', 'InvalidParameterValue.SecurityGroupIdNotFound']);

export function classifyTencentError(err: unknown): CloudFailure {
  const message = errField(err, 'message') ?? String(err);
  // Transport failures arrive without a code; name them after the socket error so they are retried.
  const code =
    errField(err, 'code') ??
    /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up/.exec(message)?.[0] ??
    (message.startsWith('no Tencent Cloud credentials') ? 'NoCredentials' : 'Unknown');
  const f: CloudFailure = { kind: 'fatal', code, message };
  const rid = errField(err, 'requestId');
  if (rid) f.requestId = rid;
  const status = Number(errField(err, 'httpCode'));
  if (Number.isFinite(status) && status > 0) f.httpStatus = status;
  if (code === 'UnsupportedOperation.DuplicatePolicy') f.kind = 'duplicate';
  else if (NOT_FOUND.has(code)) f.kind = 'not-found';
  else if (isTransient(code, f.httpStatus)) f.kind = 'retry';
  return f;
}

/** env, profile file, CVM role — the SDK's own order, without its console.error on each miss. */
export async function defaultTencentCredential(): Promise<{ getCredential(): Promise<TcCredential> }> {
  const [cred, cvm] = await Promise.all([
    import('tencentcloud-sdk-nodejs/tencentcloud/common/credential.js'),
    import('tencentcloud-sdk-nodejs/tencentcloud/common/cvm_role_credential.js'),
  ]);
  const chain = [new cred.EnvironmentVariableCredential(), new cred.ProfileCredential(), new (cjsDefault<CvmRoleClass>(cvm))()];
  return {
    async getCredential() {
      for (const p of chain) {
        try {
          const c = await p.getCredential();
          if (c.secretId && c.secretKey) return c;
        } catch {
          // try the next place, as the SDK's DefaultCredentialProvider does
        }
      }
      // Signing with empty keys would only earn an AuthFailure from the API; say what is missing instead.
      throw Object.assign(new Error('no Tencent Cloud credentials found in TENCENTCLOUD_SECRET_ID/KEY, ~/.tencentcloud/credentials or a CVM role'), {
        code: 'NoCredentials',
      });
    },
  };
}

/** What every Tencent Cloud service client is made with (VPC here, CVM for instances): endpoint, keys or the chain. */
export async function tencentClientOptions(opts: AdapterOptions): Promise<{
  credential: { secretId?: string; secretKey?: string; token?: string | undefined } | { getCredential(): Promise<TcCredential> };
  region: string;
  profile: { httpProfile: { endpoint?: string; protocol?: string; reqTimeout: number } };
}> {
  const httpProfile: { endpoint?: string; protocol?: string; reqTimeout: number } = { reqTimeout: 30 };
  if (opts.endpoint) {
    const m = /^(https?:\/\/)(.+?)\/?$/.exec(opts.endpoint);
    httpProfile.endpoint = m ? m[2]! : opts.endpoint;
    httpProfile.protocol = m ? m[1]! : 'https://';
  }
  const credential = opts.credentials
    ? { secretId: opts.credentials.accessKey, secretKey: opts.credentials.secretKey, token: opts.credentials.sessionToken }
    : await defaultTencentCredential();
  return { credential, region: opts.region, profile: { httpProfile } };
}

export async function createTencentAdapter(opts: AdapterOptions, secrets: readonly string[]): Promise<SecurityGroupAdapter> {
  // Only the VPC service: the package's index would load every Tencent Cloud product.
  const vpc = await import('tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js');
  // The SDK has no retry loop of its own; withRetry is the only one.
  const client = new vpc.Client(await tencentClientOptions(opts));

  const call = <T>(label: string, fn: () => Promise<T>, signal: AbortSignal) =>
    withRetry(fn, { provider: 'tencent', label: `vpc ${label}`, classify: classifyTencentError, signal, secrets });

  // The policy set's Version as last read, advanced by one for each change we make (the API's rule). Deletes are by
  // PolicyIndex, so they carry it: if someone else changed the group since our read, the API refuses
  // (UnsupportedOperation.VersionMismatch) instead of deleting whatever rule now sits at that index.
  const versions = new Map<string, number>();
  const bump = (id: string) => {
    const v = versions.get(id);
    if (v !== undefined) versions.set(id, v + 1);
  };

  async function readPolicies(id: string, name: string, description: string, signal: AbortSignal): Promise<GroupState | undefined> {
    const r = await call('DescribeSecurityGroupPolicies', () => client.DescribeSecurityGroupPolicies({ SecurityGroupId: id }), signal);
    if (!r.ok) return undefined;
    const set = r.value.SecurityGroupPolicySet;
    const version = Number(set?.Version);
    if (set?.Version !== undefined && Number.isInteger(version)) versions.set(id, version);
    else versions.delete(id);
    return { id, name, description, ingress: fromPolicies(set?.Ingress ?? []), egress: fromPolicies(set?.Egress ?? []) };
  }

  function policySet(direction: Direction, policies: Policy[], version?: number) {
    const set = direction === 'ingress' ? { Ingress: policies } : { Egress: policies };
    return version === undefined ? set : { ...set, Version: String(version) };
  }

  return {
    provider: 'tencent',
    async find(ref, signal) {
      const req = ref.groupId
        ? { SecurityGroupIds: [ref.groupId] }
        : { Filters: [{ Name: 'security-group-name', Values: [ref.name ?? ''] }], Limit: '100' };
      const r = await call('DescribeSecurityGroups', () => client.DescribeSecurityGroups(req), signal);
      if (!r.ok) return undefined;
      const groups = (r.value.SecurityGroupSet ?? []).filter((g) => (ref.groupId ? g.SecurityGroupId === ref.groupId : g.SecurityGroupName === ref.name));
      if (groups.length > 1) {
        throw new ModuleError('E_SG_AMBIGUOUS', `${groups.length} Tencent Cloud security groups are named '${ref.name}'`, {
          hint: 'give group_id to pick one',
        });
      }
      const g = groups[0];
      if (!g?.SecurityGroupId) return undefined;
      return readPolicies(g.SecurityGroupId, g.SecurityGroupName ?? '', g.SecurityGroupDesc ?? '', signal);
    },
    async create(spec, signal) {
      const r = await call(
        'CreateSecurityGroup',
        () => client.CreateSecurityGroup({ GroupName: spec.name, GroupDescription: spec.description }),
        signal,
      );
      const id = r.ok ? r.value.SecurityGroup?.SecurityGroupId : undefined;
      if (!id) throw new ModuleError('E_CLOUD_API', 'tencent vpc CreateSecurityGroup returned no SecurityGroupId');
      return id;
    },
    async remove(groupId, signal) {
      await call('DeleteSecurityGroup', () => client.DeleteSecurityGroup({ SecurityGroupId: groupId }), signal);
    },
    async authorize(groupId, direction, rules, signal) {
      if (rules.length === 0) return;
      const send = async (rs: NormRule[]) =>
        call(
          'CreateSecurityGroupPolicies',
          () => client.CreateSecurityGroupPolicies({ SecurityGroupId: groupId, SecurityGroupPolicySet: policySet(direction, rs.map(toPolicy)) }),
          signal,
        ).then((r) => {
          if (r.ok) bump(groupId);
          return r;
        });
      const r = await send(rules);
      if (r.ok || r.failure.kind !== 'duplicate' || rules.length === 1) return;
      // A duplicate fails the whole batch: add one by one so the rest still get in.
      for (const rule of rules) await send([rule]);
    },
    async revoke(groupId, direction, rules, signal) {
      const indexes = rules.flatMap((r) => (r.handle === undefined ? [] : [{ PolicyIndex: Number(r.handle) }]));
      if (indexes.length === 0) return;
      try {
        const r = await call(
          'DeleteSecurityGroupPolicies',
          () => client.DeleteSecurityGroupPolicies({ SecurityGroupId: groupId, SecurityGroupPolicySet: policySet(direction, indexes, versions.get(groupId)) }),
          signal,
        );
        if (r.ok) bump(groupId);
      } catch (err) {
        versions.delete(groupId);
        throw err;
      }
    },
    initialRules() {
      return { ingress: [], egress: [] };
    },
    // Deletion is by index as read; adding first could move the indexes under us.
    revokeFirst: true,
  };
}

const WIRE_PROTO: Record<NormRule['proto'], string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6', all: 'ALL' };

export function toPolicy(r: NormRule): Policy {
  const p: Policy = { Protocol: WIRE_PROTO[r.proto], Action: r.policy === 'drop' ? 'DROP' : 'ACCEPT' };
  // Port is accepted only with TCP and UDP.
  if (r.proto === 'tcp' || r.proto === 'udp') p.Port = tencentPort(r);
  if (r.peer.kind === 'cidr') p.CidrBlock = r.peer.value;
  else if (r.peer.kind === 'cidr6') p.Ipv6CidrBlock = r.peer.value;
  else p.SecurityGroupId = r.peer.value;
  if (r.description) p.PolicyDescription = r.description;
  return p;
}

export function fromPolicies(policies: Policy[]): NormRule[] {
  const out: NormRule[] = [];
  for (const p of policies) {
    const proto = parseProto(p.Protocol ?? '');
    if (!proto) continue;
    const ports = proto === 'tcp' || proto === 'udp' ? parsePorts(p.Port) : null;
    if (ports === undefined) continue;
    const peer = peerFrom(p.CidrBlock, p.Ipv6CidrBlock, p.SecurityGroupId);
    if (!peer) continue;
    const r: NormRule = { proto, from: ports?.from ?? null, to: ports?.to ?? null, peer, policy: parsePolicy(p.Action), priority: null };
    if (p.PolicyDescription) r.description = p.PolicyDescription;
    if (p.PolicyIndex !== undefined) r.handle = String(p.PolicyIndex);
    out.push(r);
  }
  return out;
}


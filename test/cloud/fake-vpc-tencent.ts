import type { IncomingMessage } from 'node:http';
import {
  fakeCloud,
  type FakeCloud,
  type FaultKind,
  FaultQueue,
  type Handler,
  header,
  hmac,
  isMutating,
  listen,
  newId,
  newRequestId,
  type RecordedCall,
  sha256hex,
} from './fake-server.js';

/**
 * Fake Tencent Cloud VPC API 3.0 (version 2017-03-12): POST / with a JSON body, the action in X-TC-Action and a
 * verified TC3-HMAC-SHA256 Authorization header. Answers {"Response": {...,"RequestId"}} with HTTP 200, errors as
 * {"Response": {"Error": {"Code","Message"}, "RequestId"}} (HTTP 200 too, as the real API does) except the injected
 * server error, which is a bare HTTP 500. Calls: DescribeSecurityGroups, DescribeSecurityGroupPolicies,
 * CreateSecurityGroup, DeleteSecurityGroup, CreateSecurityGroupPolicies, DeleteSecurityGroupPolicies.
 */

export interface TcPolicy {
  Protocol: string;
  Port: string;
  CidrBlock: string;
  Ipv6CidrBlock: string;
  SecurityGroupId: string;
  Action: string;
  PolicyDescription: string;
}

export interface TcGroup {
  id: string;
  name: string;
  description: string;
  version: number;
  ingress: TcPolicy[];
  egress: TcPolicy[];
}

export interface FakeTencentVpc extends FakeCloud {
  readonly groups: Map<string, TcGroup>;
  addGroup(g: Partial<TcGroup> & { name: string }): TcGroup;
  policy(p: Partial<TcPolicy> & { Protocol: string }): TcPolicy;
}

export class TcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FAULTS: Record<Exclude<FaultKind, 'server-error'>, [string, string]> = {
  throttle: ['RequestLimitExceeded', 'Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second.'],
  duplicate: ['UnsupportedOperation.DuplicatePolicy', 'The security group policies are repeated.'],
  auth: ['AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.'],
};

function policy(p: Partial<TcPolicy> & { Protocol: string }): TcPolicy {
  const proto = p.Protocol.toUpperCase() === 'ICMPV6' ? 'ICMPv6' : p.Protocol.toUpperCase();
  return {
    Protocol: proto,
    // The API reports ALL for protocols without ports and for an omitted port.
    Port: proto === 'TCP' || proto === 'UDP' ? (p.Port ?? 'ALL') : 'ALL',
    CidrBlock: p.CidrBlock ?? '',
    Ipv6CidrBlock: p.Ipv6CidrBlock ?? '',
    SecurityGroupId: p.SecurityGroupId ?? '',
    Action: (p.Action ?? 'ACCEPT').toUpperCase(),
    PolicyDescription: p.PolicyDescription ?? '',
  };
}

const sameRule = (a: TcPolicy, b: TcPolicy): boolean =>
  a.Protocol === b.Protocol &&
  a.Port === b.Port &&
  a.CidrBlock === b.CidrBlock &&
  a.Ipv6CidrBlock === b.Ipv6CidrBlock &&
  a.SecurityGroupId === b.SecurityGroupId &&
  a.Action === b.Action;

export async function startFakeTencentVpc(accounts: Record<string, string>): Promise<FakeTencentVpc> {
  const groups = new Map<string, TcGroup>();
  const calls: RecordedCall[] = [];
  const faults = new FaultQueue();
  const addGroup = (g: Partial<TcGroup> & { name: string }): TcGroup => {
    const full: TcGroup = {
      id: g.id ?? newId('sg', 8),
      name: g.name,
      description: g.description ?? '',
      version: g.version ?? 1,
      ingress: g.ingress ?? [],
      egress: g.egress ?? [],
    };
    groups.set(full.id, full);
    return full;
  };

  const handle = tencentApiHandler(accounts, calls, faults, FAULTS, (action, params) => dispatch(action, params, groups, addGroup));
  const srv = await listen(handle);
  return {
    ...fakeCloud(srv, calls, faults),
    groups,
    addGroup,
    policy,
  };
}

/**
 * The wire of every Tencent Cloud API 3.0 fake (VPC here, CVM in fake-cvm-tencent.ts): records the call, verifies
 * the TC3 signature, plays an injected fault (a bare HTTP 500, or the error `faultErrors` gives the fault), and
 * answers `dispatch`'s result or its TcError inside an HTTP 200, with the request id in X-TC-TraceId and the body.
 */
export function tencentApiHandler(
  accounts: Record<string, string>,
  calls: RecordedCall[],
  faults: FaultQueue,
  faultErrors: Partial<Record<FaultKind, [code: string, message: string]>>,
  dispatch: (action: string, params: Record<string, unknown>) => Record<string, unknown>,
): Handler {
  return async (req, body, res) => {
    const action = header(req, 'x-tc-action') ?? '';
    const requestId = newRequestId().toLowerCase();
    let params: Record<string, unknown> = {};
    try {
      params = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      params = {};
    }
    const call: RecordedCall = { action, params, mutating: isMutating(action), status: 200, requestId };
    calls.push(call);
    const send = (obj: Record<string, unknown>): void => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-tc-traceid': requestId });
      res.end(JSON.stringify({ Response: { ...obj, RequestId: requestId } }));
    };
    try {
      call.accessKeyId = verifyTc3(req, body, accounts);
      const fault = faults.take(action);
      if (fault === 'server-error') {
        call.status = 500;
        call.errorCode = 'HTTP500';
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal Server Error');
        return;
      }
      const error = fault ? faultErrors[fault] : undefined;
      if (error) throw new TcError(...error);
      send(dispatch(action, params));
    } catch (e) {
      if (!(e instanceof TcError)) throw e;
      call.errorCode = e.code;
      send({ Error: { Code: e.code, Message: e.message } });
    }
  };
}

/** TC3-HMAC-SHA256 over content-type and host, as the SDK signs a JSON POST. */
export function verifyTc3(req: IncomingMessage, body: Buffer, accounts: Record<string, string>): string {
  const auth = header(req, 'authorization') ?? '';
  const m = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new TcError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
  const [, secretId, date, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
  const secret = accounts[secretId];
  if (secret === undefined) throw new TcError(...FAULTS.auth);
  const hostname = (header(req, 'host') ?? '').replace(/:\d+$/, '');
  const values: Record<string, string> = { 'content-type': header(req, 'content-type') ?? '', host: hostname };
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((n) => `${n}:${values[n] ?? header(req, n) ?? ''}\n`)
    .join('');
  const canonical = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256hex(body)].join('\n');
  const timestamp = header(req, 'x-tc-timestamp') ?? '';
  const toSign = ['TC3-HMAC-SHA256', timestamp, `${date}/${service}/tc3_request`, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(`TC3${secret}`, date), service), 'tc3_request');
  if (hmac(key, toSign).toString('hex') !== signature) {
    throw new TcError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
  }
  return secretId;
}

type PolicySetArg = { Version?: string; Ingress?: Array<Record<string, unknown>>; Egress?: Array<Record<string, unknown>> };

function oneDirection(set: PolicySetArg | undefined): ['ingress' | 'egress', Array<Record<string, unknown>>] {
  const ing = set?.Ingress ?? [];
  const eg = set?.Egress ?? [];
  if (ing.length && eg.length) throw new TcError('InvalidParameter.Coexist', 'Ingress and Egress cannot be set in one request.');
  if (!ing.length && !eg.length) throw new TcError('MissingParameter', 'SecurityGroupPolicySet has no policy.');
  return ing.length ? ['ingress', ing] : ['egress', eg];
}

function asPolicy(raw: Record<string, unknown>): TcPolicy {
  const s = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const p: Partial<TcPolicy> & { Protocol: string } = { Protocol: s('Protocol') ?? '' };
  for (const k of ['Port', 'CidrBlock', 'Ipv6CidrBlock', 'SecurityGroupId', 'Action', 'PolicyDescription'] as const) {
    const v = s(k);
    if (v !== undefined) p[k] = v;
  }
  return policy(p);
}

function dispatch(
  action: string,
  params: Record<string, unknown>,
  groups: Map<string, TcGroup>,
  addGroup: (g: Partial<TcGroup> & { name: string }) => TcGroup,
): Record<string, unknown> {
  const groupOf = (): TcGroup => {
    const id = String(params['SecurityGroupId'] ?? '');
    const g = groups.get(id);
    if (!g) throw new TcError('ResourceNotFound', `The resource ${id} is not found.`);
    return g;
  };
  const groupView = (g: TcGroup) => ({
    SecurityGroupId: g.id,
    SecurityGroupName: g.name,
    SecurityGroupDesc: g.description,
    ProjectId: '0',
    IsDefault: false,
    CreatedTime: '2026-11-25 00:00:00',
    UpdateTime: '2026-11-25 00:00:00',
    TagSet: [],
  });
  switch (action) {
    case 'DescribeSecurityGroups': {
      let found = [...groups.values()];
      const ids = params['SecurityGroupIds'] as string[] | undefined;
      if (ids?.length) {
        const missing = ids.find((id) => !groups.has(id));
        if (missing) throw new TcError('ResourceNotFound', `The resource ${missing} is not found.`);
        found = found.filter((g) => ids.includes(g.id));
      }
      for (const f of (params['Filters'] as Array<{ Name: string; Values: string[] }> | undefined) ?? []) {
        if (f.Name === 'security-group-name') found = found.filter((g) => f.Values.includes(g.name));
        if (f.Name === 'security-group-id') found = found.filter((g) => f.Values.includes(g.id));
      }
      return { SecurityGroupSet: found.map(groupView), TotalCount: found.length };
    }
    case 'DescribeSecurityGroupPolicies': {
      const g = groupOf();
      const view = (list: TcPolicy[]) =>
        list.map((p, i) => ({
          PolicyIndex: i,
          ...p,
          ServiceTemplate: { ServiceId: '', ServiceGroupId: '' },
          AddressTemplate: { AddressId: '', AddressGroupId: '' },
          ModifyTime: '2026-11-25 00:00:00',
        }));
      return {
        SecurityGroupPolicySet: {
          Version: String(g.version),
          Ingress: view(g.ingress),
          Egress: view(g.egress),
          PolicyStatistics: { IngressIPv4TotalCount: g.ingress.length, EgressIPv4TotalCount: g.egress.length },
        },
      };
    }
    case 'CreateSecurityGroup': {
      const g = addGroup({ name: String(params['GroupName'] ?? ''), description: String(params['GroupDescription'] ?? '') });
      return { SecurityGroup: groupView(g) };
    }
    case 'DeleteSecurityGroup':
      groups.delete(groupOf().id);
      return {};
    case 'CreateSecurityGroupPolicies': {
      const g = groupOf();
      const [direction, raw] = oneDirection(params['SecurityGroupPolicySet'] as PolicySetArg | undefined);
      const add = raw.map(asPolicy);
      if (add.some((p) => g[direction].some((x) => sameRule(x, p)))) throw new TcError(...FAULTS.duplicate);
      g[direction].push(...add);
      g.version++;
      return {};
    }
    case 'DeleteSecurityGroupPolicies': {
      const g = groupOf();
      const set = params['SecurityGroupPolicySet'] as PolicySetArg | undefined;
      const [direction, raw] = oneDirection(set);
      if (set?.Version !== undefined && set.Version !== String(g.version)) {
        throw new TcError('UnsupportedOperation.VersionMismatch', 'The security group version does not match.');
      }
      const indexes = new Set<number>();
      for (const r of raw) {
        if (typeof r['PolicyIndex'] === 'number') indexes.add(r['PolicyIndex']);
        else {
          const i = g[direction].findIndex((x) => sameRule(x, asPolicy(r)));
          if (i >= 0) indexes.add(i);
        }
      }
      if ([...indexes].some((i) => i >= g[direction].length)) throw new TcError('InvalidParameterValue.Range', 'PolicyIndex out of range.');
      g[direction] = g[direction].filter((_, i) => !indexes.has(i));
      g.version++;
      return {};
    }
    default:
      throw new TcError('InvalidAction', `The requested action \`${action}\` does not exist.`);
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  fakeCloud,
  type FakeCloud,
  type FaultKind,
  FaultQueue,
  header,
  hmac,
  isMutating,
  listen,
  newId,
  newRequestId,
  type RecordedCall,
  sha256hex,
} from './fake-server.js';
import { type FakeInstance, InstanceFleet, type LifeState } from './fake-instances.js';

/**
 * Fake Aliyun ECS RPC API (2014-05-26). The current SDK sends RPC calls as POST /?<params> with x-acs-action and an
 * ACS3-HMAC-SHA256 Authorization header, which is verified; the older signature-v2 style (Action=…&Signature=… in
 * the query) is accepted with an AccessKeyId check only. JSON answers and JSON errors as ECS sends them.
 * Calls: DescribeSecurityGroups, DescribeSecurityGroupAttribute, CreateSecurityGroup, DeleteSecurityGroup,
 * AuthorizeSecurityGroup(Egress), RevokeSecurityGroup(Egress); for instances DescribeInstances, StartInstance,
 * StopInstance and RebootInstance (fake-instances.ts's life cycle, ECS's state names and errors).
 */

export interface EcsPermission {
  SecurityGroupRuleId: string;
  Direction: 'ingress' | 'egress';
  IpProtocol: string;
  PortRange: string;
  SourceCidrIp: string;
  Ipv6SourceCidrIp: string;
  SourceGroupId: string;
  DestCidrIp: string;
  Ipv6DestCidrIp: string;
  DestGroupId: string;
  Policy: string;
  Priority: string;
  Description: string;
  NicType: string;
  CreateTime: string;
}

export interface EcsGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  permissions: EcsPermission[];
}

export interface FakeEcs extends FakeCloud {
  readonly groups: Map<string, EcsGroup>;
  addGroup(g: Partial<EcsGroup> & { name: string }): EcsGroup;
  /** Make a permission record for seeding state (fills the fields ECS always returns). */
  permission(p: Partial<EcsPermission> & { Direction: 'ingress' | 'egress'; IpProtocol: string; PortRange: string }): EcsPermission;
  readonly instances: InstanceFleet;
}

class EcsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const FAULTS: Record<FaultKind, [string, string, number]> = {
  throttle: ['Throttling.User', 'Request was denied due to user flow control.', 400],
  // ECS answers a duplicate authorize with success; the closest real error is this one, kept for completeness.
  duplicate: ['InvalidPermission.Duplicate', 'The specified rule already exists.', 400],
  auth: ['InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404],
  'server-error': ['InternalError', 'The request processing has failed due to some unknown error, exception or failure.', 500],
};

function permission(p: Partial<EcsPermission> & { Direction: 'ingress' | 'egress'; IpProtocol: string; PortRange: string }): EcsPermission {
  return {
    SecurityGroupRuleId: p.SecurityGroupRuleId ?? newId('sgr', 20),
    Direction: p.Direction,
    IpProtocol: p.IpProtocol.toUpperCase() === 'ICMPV6' ? 'ICMPv6' : p.IpProtocol.toUpperCase(),
    PortRange: p.PortRange,
    SourceCidrIp: p.SourceCidrIp ?? '',
    Ipv6SourceCidrIp: p.Ipv6SourceCidrIp ?? '',
    SourceGroupId: p.SourceGroupId ?? '',
    DestCidrIp: p.DestCidrIp ?? '',
    Ipv6DestCidrIp: p.Ipv6DestCidrIp ?? '',
    DestGroupId: p.DestGroupId ?? '',
    // ECS reports policies capitalised whatever the request said.
    Policy: /^drop$/i.test(p.Policy ?? '') ? 'Drop' : 'Accept',
    Priority: p.Priority ?? '1',
    Description: p.Description ?? '',
    NicType: 'intranet',
    CreateTime: '2026-11-25T00:00:00Z',
  };
}

const sameRule = (a: EcsPermission, b: EcsPermission): boolean =>
  a.Direction === b.Direction &&
  a.IpProtocol === b.IpProtocol &&
  a.PortRange === b.PortRange &&
  a.SourceCidrIp === b.SourceCidrIp &&
  a.Ipv6SourceCidrIp === b.Ipv6SourceCidrIp &&
  a.SourceGroupId === b.SourceGroupId &&
  a.DestCidrIp === b.DestCidrIp &&
  a.Ipv6DestCidrIp === b.Ipv6DestCidrIp &&
  a.DestGroupId === b.DestGroupId &&
  a.Policy === b.Policy &&
  a.Priority === b.Priority;

export async function startFakeEcs(accounts: Record<string, string>): Promise<FakeEcs> {
  const groups = new Map<string, EcsGroup>();
  const calls: RecordedCall[] = [];
  const faults = new FaultQueue();
  const instances = new InstanceFleet();
  const addGroup = (g: Partial<EcsGroup> & { name: string }): EcsGroup => {
    const full: EcsGroup = {
      id: g.id ?? newId('sg', 20),
      name: g.name,
      description: g.description ?? '',
      vpcId: g.vpcId ?? '',
      permissions: g.permissions ?? [],
    };
    groups.set(full.id, full);
    return full;
  };

  const handle = async (req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const params = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
    const action = header(req, 'x-acs-action') ?? params.get('Action') ?? '';
    const requestId = newRequestId();
    const call: RecordedCall = { action, params: Object.fromEntries(params), mutating: isMutating(action), status: 200, requestId };
    calls.push(call);
    const send = (status: number, obj: Record<string, unknown>) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId });
      res.end(JSON.stringify({ RequestId: requestId, ...obj }));
    };
    try {
      call.accessKeyId = verifyAcs(req, url, body, params, accounts);
      const fault = faults.take(action);
      if (fault) {
        const [code, msg, status] = FAULTS[fault];
        throw new EcsError(code, msg, status);
      }
      send(200, instanceDispatch(action, params, instances) ?? dispatch(action, params, groups, addGroup));
    } catch (e) {
      if (!(e instanceof EcsError)) throw e;
      call.errorCode = e.code;
      send(e.status, {
        HostId: 'ecs.aliyuncs.com',
        Code: e.code,
        Message: e.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${e.code}&product=Ecs`,
      });
    }
  };

  const srv = await listen(handle);
  return {
    ...fakeCloud(srv, calls, faults),
    groups,
    addGroup,
    permission,
    instances,
  };
}

const acsEncode = (s: string): string =>
  encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\*/g, '%2A');

/** ACS3-HMAC-SHA256 (the SDK's default); returns the access key id or throws the ECS auth errors. */
function verifyAcs(req: IncomingMessage, url: URL, body: Buffer, params: URLSearchParams, accounts: Record<string, string>): string {
  const auth = header(req, 'authorization');
  if (!auth) {
    const akid = params.get('AccessKeyId');
    if (!akid || !params.get('Signature')) throw new EcsError('MissingAccessKeyId', 'AccessKeyId is mandatory for this action.', 400);
    if (accounts[akid] === undefined) throw new EcsError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);
    return akid;
  }
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new EcsError('IncompleteSignature', 'The request signature does not conform to Aliyun standards.', 400);
  const [, akid, signedHeaders, signature] = m as unknown as [string, string, string, string];
  const secret = accounts[akid];
  if (secret === undefined) throw new EcsError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);
  const query = new URLSearchParams(url.search);
  const canonicalQuery = [...query.keys()]
    .filter((k, i, all) => all.indexOf(k) === i)
    .sort()
    .map((k) => `${acsEncode(k)}=${acsEncode(query.get(k) ?? '')}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${(header(req, n) ?? '').trim()}\n`).join('');
  const payloadHash = header(req, 'x-acs-content-sha256') ?? '';
  if (payloadHash !== sha256hex(body)) throw new EcsError('SignatureDoesNotMatch', 'The request body hash does not match.', 400);
  const canonical = [req.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const expected = hmac(secret, `ACS3-HMAC-SHA256\n${sha256hex(canonical)}`).toString('hex');
  if (expected !== signature) {
    throw new EcsError('SignatureDoesNotMatch', 'Specified signature does not match our calculation.', 400);
  }
  return akid;
}

/** Permissions.N.* (1-based, as the SDK flattens them) into records. */
function permissionsFrom(params: URLSearchParams, direction: 'ingress' | 'egress'): EcsPermission[] {
  const out: EcsPermission[] = [];
  for (let i = 1; params.has(`Permissions.${i}.IpProtocol`); i++) {
    const g = (k: string) => params.get(`Permissions.${i}.${k}`) ?? undefined;
    const p: Parameters<typeof permission>[0] = { Direction: direction, IpProtocol: g('IpProtocol')!, PortRange: g('PortRange') ?? '-1/-1' };
    for (const k of ['SourceCidrIp', 'Ipv6SourceCidrIp', 'SourceGroupId', 'DestCidrIp', 'Ipv6DestCidrIp', 'DestGroupId', 'Policy', 'Priority', 'Description'] as const) {
      const v = g(k);
      if (v !== undefined) p[k] = v;
    }
    out.push(permission(p));
  }
  return out;
}

function dispatch(
  action: string,
  params: URLSearchParams,
  groups: Map<string, EcsGroup>,
  addGroup: (g: Partial<EcsGroup> & { name: string }) => EcsGroup,
): Record<string, unknown> {
  const groupOf = (): EcsGroup => {
    const id = params.get('SecurityGroupId') ?? '';
    const g = groups.get(id);
    if (!g) throw new EcsError('InvalidSecurityGroupId.NotFound', 'The specified SecurityGroupId does not exist.', 404);
    return g;
  };
  switch (action) {
    case 'DescribeSecurityGroups': {
      const name = params.get('SecurityGroupName');
      const vpc = params.get('VpcId');
      const found = [...groups.values()].filter((g) => (name === null || g.name === name) && (vpc === null || g.vpcId === vpc));
      return {
        RegionId: params.get('RegionId'),
        TotalCount: found.length,
        PageNumber: 1,
        PageSize: 10,
        SecurityGroups: {
          SecurityGroup: found.map((g) => ({
            SecurityGroupId: g.id,
            SecurityGroupName: g.name,
            Description: g.description,
            VpcId: g.vpcId,
            SecurityGroupType: 'normal',
            CreationTime: '2026-11-25T00:00:00Z',
            Tags: { Tag: [] },
          })),
        },
      };
    }
    case 'DescribeSecurityGroupAttribute': {
      const g = groupOf();
      const dir = params.get('Direction') ?? 'all';
      return {
        RegionId: params.get('RegionId'),
        SecurityGroupId: g.id,
        SecurityGroupName: g.name,
        Description: g.description,
        VpcId: g.vpcId,
        InnerAccessPolicy: 'Accept',
        Permissions: { Permission: g.permissions.filter((p) => dir === 'all' || p.Direction === dir) },
      };
    }
    case 'CreateSecurityGroup': {
      const g = addGroup({
        name: params.get('SecurityGroupName') ?? '',
        description: params.get('Description') ?? '',
        vpcId: params.get('VpcId') ?? '',
      });
      return { SecurityGroupId: g.id };
    }
    case 'DeleteSecurityGroup':
      groups.delete(groupOf().id);
      return {};
    case 'AuthorizeSecurityGroup':
    case 'AuthorizeSecurityGroupEgress': {
      const g = groupOf();
      const direction = action.endsWith('Egress') ? 'egress' : 'ingress';
      // Documented: "if the specified rule already exists, the call succeeds but no rule is added".
      for (const p of permissionsFrom(params, direction)) {
        if (!g.permissions.some((x) => sameRule(x, p))) g.permissions.push(p);
      }
      return {};
    }
    case 'RevokeSecurityGroup':
    case 'RevokeSecurityGroupEgress': {
      const g = groupOf();
      const direction = action.endsWith('Egress') ? 'egress' : 'ingress';
      const ids: string[] = [];
      for (let i = 1; params.has(`SecurityGroupRuleId.${i}`); i++) ids.push(params.get(`SecurityGroupRuleId.${i}`)!);
      const byContent = permissionsFrom(params, direction);
      for (const id of ids) {
        if (!g.permissions.some((p) => p.SecurityGroupRuleId === id && p.Direction === direction)) {
          throw new EcsError('InvalidParam.SecurityGroupRuleId', `The specified SecurityGroupRuleId ${id} does not exist.`, 400);
        }
      }
      g.permissions = g.permissions.filter((p) => !ids.includes(p.SecurityGroupRuleId) && !byContent.some((c) => sameRule(c, p)));
      return {};
    }
    default:
      throw new EcsError('InvalidAction.NotFound', `Specified api is not found, please check your url and method.`, 404);
  }
}

/** ECS shows a reboot as Stopping then Starting; the fake folds both into Starting. */
const ECS_STATE: Record<LifeState, string> = {
  pending: 'Starting',
  running: 'Running',
  rebooting: 'Starting',
  stopping: 'Stopping',
  stopped: 'Stopped',
  terminated: 'Deleted',
};

/** The instance actions, or undefined for any other action. */
function instanceDispatch(action: string, params: URLSearchParams, fleet: InstanceFleet): Record<string, unknown> | undefined {
  if (!['DescribeInstances', 'StartInstance', 'StopInstance', 'RebootInstance'].includes(action)) return undefined;
  if (action === 'DescribeInstances') {
    // InstanceIds is a JSON list in a string; unknown ids are simply not in the answer.
    const ids = JSON.parse(params.get('InstanceIds') ?? '[]') as string[];
    const shown = [...fleet.instances.values()].filter((i) => ids.length === 0 || ids.includes(i.id));
    for (const i of shown) fleet.observe(i);
    return {
      TotalCount: shown.length,
      PageNumber: 1,
      PageSize: 10,
      Instances: {
        Instance: shown.map((i) => ({
          InstanceId: i.id,
          RegionId: params.get('RegionId'),
          Status: ECS_STATE[i.state],
          InstanceNetworkType: 'vpc',
          VpcAttributes: { VpcId: 'vpc-vncplay', PrivateIpAddress: { IpAddress: [i.privateIp] } },
          PublicIpAddress: { IpAddress: i.state === 'running' ? [i.publicIp] : [] },
          InnerIpAddress: { IpAddress: [] },
          EipAddress: { IpAddress: '', AllocationId: '' },
        })),
      },
    };
  }
  const id = params.get('InstanceId') ?? '';
  const i: FakeInstance | undefined = fleet.instances.get(id);
  if (!i) throw new EcsError('InvalidInstanceId.NotFound', 'The specified InstanceId does not exist.', 404);
  const wrong = () => new EcsError('IncorrectInstanceStatus', 'The current status of the resource does not support this operation.', 403);
  const forced = params.get('ForceStop') === 'true';
  if (action === 'StartInstance') {
    if (i.state !== 'stopped') throw wrong();
    fleet.begin(i, 'pending');
  } else if (action === 'StopInstance') {
    if (i.state !== 'running') throw wrong();
    fleet.begin(i, 'stopping', forced);
  } else {
    if (i.state !== 'running') throw wrong();
    fleet.begin(i, 'rebooting', forced);
  }
  return {};
}

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
 * Fake AWS EC2 Query API (version 2016-11-15): form-encoded POST with Action=…, SigV4-verified, XML answers in the
 * real namespace. Calls: DescribeSecurityGroups, CreateSecurityGroup, DeleteSecurityGroup,
 * AuthorizeSecurityGroupIngress/Egress, RevokeSecurityGroupIngress/Egress; for instances DescribeInstances,
 * StartInstances, StopInstances and RebootInstances (instances.ts's life cycle, EC2's state names and codes).
 */

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const OWNER = '123456789012';

export interface Ec2Rule {
  proto: string;
  from?: number;
  to?: number;
  cidr?: string;
  cidr6?: string;
  group?: string;
  description?: string;
}

export interface Ec2Group {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: Ec2Rule[];
  egress: Ec2Rule[];
}

export interface FakeEc2 extends FakeCloud {
  readonly groups: Map<string, Ec2Group>;
  addGroup(g: Partial<Ec2Group> & { name: string }): Ec2Group;
  readonly instances: InstanceFleet;
}

class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const FAULTS: Record<FaultKind, [string, string, number]> = {
  throttle: ['RequestLimitExceeded', 'Request limit exceeded.', 503],
  duplicate: ['InvalidPermission.Duplicate', 'the specified rule already exists', 400],
  auth: ['AuthFailure', 'AWS was not able to validate the provided access credentials', 401],
  'server-error': ['InternalError', 'An internal error has occurred', 500],
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function startFakeEc2(accounts: Record<string, string>): Promise<FakeEc2> {
  const groups = new Map<string, Ec2Group>();
  const calls: RecordedCall[] = [];
  const faults = new FaultQueue();
  const instances = new InstanceFleet();

  const addGroup = (g: Partial<Ec2Group> & { name: string }): Ec2Group => {
    const full: Ec2Group = {
      id: g.id ?? newId('sg'),
      name: g.name,
      description: g.description ?? '',
      vpcId: g.vpcId ?? 'vpc-0default',
      ingress: g.ingress ?? [],
      egress: g.egress ?? [{ proto: '-1', cidr: '0.0.0.0/0' }],
    };
    groups.set(full.id, full);
    return full;
  };

  const handle = async (req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> => {
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const requestId = newRequestId();
    const call: RecordedCall = { action, params: Object.fromEntries(params), mutating: isMutating(action), status: 200, requestId };
    calls.push(call);
    const send = (status: number, xml: string) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const fail = (e: Ec2Error) => {
      call.errorCode = e.code;
      send(
        e.status,
        `<Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
    };
    try {
      const akid = verifySigV4(req, body, accounts);
      call.accessKeyId = akid;
      const fault = faults.take(action);
      if (fault) {
        const [code, msg, status] = FAULTS[fault];
        throw new Ec2Error(code, msg, status);
      }
      const inner = instanceDispatch(action, params, instances) ?? dispatch(action, params, groups, addGroup);
      send(200, `<${action}Response xmlns="${NS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`);
    } catch (e) {
      if (e instanceof Ec2Error) fail(e);
      else throw e;
    }
  };

  const srv = await listen(handle);
  return {
    ...fakeCloud(srv, calls, faults),
    groups,
    addGroup,
    instances,
  };
}

/** SigV4 as the SDK signs a Query API POST; returns the access key id or throws AuthFailure. */
function verifySigV4(req: IncomingMessage, body: Buffer, accounts: Record<string, string>): string {
  const auth = header(req, 'authorization') ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new Ec2Error('AuthFailure', 'Authorization header missing or malformed', 401);
  const [, akid, date, region, service, signedHeaders, signature] = m as unknown as string[];
  const secret = accounts[akid!];
  if (secret === undefined) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = header(req, 'x-amz-content-sha256') ?? sha256hex(body);
  const url = new URL(req.url ?? '/', 'http://x');
  const canonical = [req.method, url.pathname, url.search.slice(1), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const amzDate = header(req, 'x-amz-date') ?? '';
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  const expected = hmac(key, toSign).toString('hex');
  if (expected !== signature) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  }
  return akid!;
}

function list(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`)!);
  return out;
}

/** IpPermissions.N.* flattened to one rule per peer, as the API stores them. */
function permissionsFrom(params: URLSearchParams): Ec2Rule[] {
  const rules: Ec2Rule[] = [];
  for (let i = 1; params.has(`IpPermissions.${i}.IpProtocol`); i++) {
    const p = `IpPermissions.${i}`;
    const proto = params.get(`${p}.IpProtocol`)!;
    const base: Ec2Rule = { proto };
    if (proto !== '-1') {
      if (params.has(`${p}.FromPort`)) base.from = Number(params.get(`${p}.FromPort`));
      if (params.has(`${p}.ToPort`)) base.to = Number(params.get(`${p}.ToPort`));
    }
    const withDesc = (r: Ec2Rule, key: string): Ec2Rule => {
      const d = params.get(`${key}.Description`);
      return d ? { ...r, description: d } : r;
    };
    for (let j = 1; params.has(`${p}.IpRanges.${j}.CidrIp`); j++) {
      rules.push(withDesc({ ...base, cidr: params.get(`${p}.IpRanges.${j}.CidrIp`)! }, `${p}.IpRanges.${j}`));
    }
    for (let j = 1; params.has(`${p}.Ipv6Ranges.${j}.CidrIpv6`); j++) {
      rules.push(withDesc({ ...base, cidr6: params.get(`${p}.Ipv6Ranges.${j}.CidrIpv6`)! }, `${p}.Ipv6Ranges.${j}`));
    }
    for (let j = 1; params.has(`${p}.Groups.${j}.GroupId`) || params.has(`${p}.UserIdGroupPairs.${j}.GroupId`); j++) {
      const g = params.get(`${p}.Groups.${j}.GroupId`) ?? params.get(`${p}.UserIdGroupPairs.${j}.GroupId`)!;
      const key = params.has(`${p}.Groups.${j}.GroupId`) ? `${p}.Groups.${j}` : `${p}.UserIdGroupPairs.${j}`;
      rules.push(withDesc({ ...base, group: g }, key));
    }
  }
  return rules;
}

const sameRule = (a: Ec2Rule, b: Ec2Rule): boolean =>
  a.proto === b.proto && a.from === b.from && a.to === b.to && a.cidr === b.cidr && a.cidr6 === b.cidr6 && a.group === b.group;

function dispatch(
  action: string,
  params: URLSearchParams,
  groups: Map<string, Ec2Group>,
  addGroup: (g: Partial<Ec2Group> & { name: string }) => Ec2Group,
): string {
  const groupOf = (): Ec2Group => {
    const id = params.get('GroupId') ?? '';
    const g = groups.get(id);
    if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  };
  switch (action) {
    case 'DescribeSecurityGroups': {
      let found = [...groups.values()];
      const ids = list(params, 'GroupId');
      if (ids.length) {
        const missing = ids.find((id) => !groups.has(id));
        if (missing) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${missing}' does not exist`);
        found = found.filter((g) => ids.includes(g.id));
      }
      for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
        const name = params.get(`Filter.${i}.Name`);
        const values = list(params, `Filter.${i}.Value`);
        if (name === 'group-name') found = found.filter((g) => values.includes(g.name));
        else if (name === 'vpc-id') found = found.filter((g) => values.includes(g.vpcId));
        else if (name === 'group-id') found = found.filter((g) => values.includes(g.id));
      }
      return `<securityGroupInfo>${found.map(groupXml).join('')}</securityGroupInfo>`;
    }
    case 'CreateSecurityGroup': {
      const name = params.get('GroupName') ?? '';
      const vpcId = params.get('VpcId') ?? 'vpc-0default';
      if ([...groups.values()].some((g) => g.name === name && g.vpcId === vpcId)) {
        throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
      }
      const g = addGroup({ name, description: params.get('GroupDescription') ?? params.get('Description') ?? '', vpcId });
      return `<return>true</return><groupId>${g.id}</groupId>`;
    }
    case 'DeleteSecurityGroup': {
      groups.delete(groupOf().id);
      return '<return>true</return>';
    }
    case 'AuthorizeSecurityGroupIngress':
    case 'AuthorizeSecurityGroupEgress': {
      const g = groupOf();
      const target = action.endsWith('Ingress') ? g.ingress : g.egress;
      const rules = permissionsFrom(params);
      const dup = rules.find((r) => target.some((t) => sameRule(r, t)));
      if (dup) throw new Ec2Error('InvalidPermission.Duplicate', `the specified rule "peer: ${dup.cidr ?? dup.cidr6 ?? dup.group}, ${dup.proto}, ALLOW" already exists`);
      target.push(...rules);
      return '<return>true</return>';
    }
    case 'RevokeSecurityGroupIngress':
    case 'RevokeSecurityGroupEgress': {
      const g = groupOf();
      const key = action.endsWith('Ingress') ? 'ingress' : 'egress';
      const rules = permissionsFrom(params);
      const missing = rules.find((r) => !g[key].some((t) => sameRule(r, t)));
      if (missing) throw new Ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
      g[key] = g[key].filter((t) => !rules.some((r) => sameRule(r, t)));
      return '<return>true</return>';
    }
    default:
      throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
}

function groupXml(g: Ec2Group): string {
  return (
    `<item><ownerId>${OWNER}</ownerId><groupId>${g.id}</groupId><groupName>${esc(g.name)}</groupName>` +
    `<groupDescription>${esc(g.description)}</groupDescription><vpcId>${g.vpcId}</vpcId>` +
    `<ipPermissions>${permissionsXml(g.ingress)}</ipPermissions>` +
    `<ipPermissionsEgress>${permissionsXml(g.egress)}</ipPermissionsEgress></item>`
  );
}

/** EC2 groups peers under one item per (protocol, from, to), as DescribeSecurityGroups does. */
function permissionsXml(rules: Ec2Rule[]): string {
  const byKey = new Map<string, Ec2Rule[]>();
  for (const r of rules) {
    const k = `${r.proto}|${r.from ?? ''}|${r.to ?? ''}`;
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }
  return [...byKey.values()]
    .map((rs) => {
      const r0 = rs[0]!;
      const ports = r0.proto === '-1' || r0.from === undefined ? '' : `<fromPort>${r0.from}</fromPort><toPort>${r0.to}</toPort>`;
      const desc = (r: Ec2Rule) => (r.description ? `<description>${esc(r.description)}</description>` : '');
      const v4 = rs.filter((r) => r.cidr).map((r) => `<item><cidrIp>${r.cidr}</cidrIp>${desc(r)}</item>`);
      const v6 = rs.filter((r) => r.cidr6).map((r) => `<item><cidrIpv6>${r.cidr6}</cidrIpv6>${desc(r)}</item>`);
      const grp = rs.filter((r) => r.group).map((r) => `<item><userId>${OWNER}</userId><groupId>${r.group}</groupId>${desc(r)}</item>`);
      return (
        `<item><ipProtocol>${r0.proto}</ipProtocol>${ports}<groups>${grp.join('')}</groups>` +
        `<ipRanges>${v4.join('')}</ipRanges><ipv6Ranges>${v6.join('')}</ipv6Ranges><prefixListIds/></item>`
      );
    })
    .join('');
}

/** EC2's state names and codes (the low byte of instanceState.code). */
const EC2_STATE: Record<LifeState, [string, number]> = {
  pending: ['pending', 0],
  running: ['running', 16],
  // EC2 reports a rebooting instance as running: the reboot happens inside it.
  rebooting: ['running', 16],
  stopping: ['stopping', 64],
  stopped: ['stopped', 80],
  terminated: ['terminated', 48],
};

const stateXml = (tag: string, s: LifeState): string => `<${tag}><code>${EC2_STATE[s][1]}</code><name>${EC2_STATE[s][0]}</name></${tag}>`;

/** The instance actions, or undefined for any other action. */
function instanceDispatch(action: string, params: URLSearchParams, fleet: InstanceFleet): string | undefined {
  if (!['DescribeInstances', 'StartInstances', 'StopInstances', 'RebootInstances'].includes(action)) return undefined;
  const ids = list(params, 'InstanceId');
  const found: FakeInstance[] = ids.map((id) => {
    const i = fleet.instances.get(id);
    if (!i) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  });
  if (action === 'DescribeInstances') {
    const shown = ids.length ? found : [...fleet.instances.values()];
    for (const i of shown) fleet.observe(i);
    const items = shown.map((i) => {
      const pub = i.state === 'running' || i.state === 'rebooting' ? `<ipAddress>${i.publicIp}</ipAddress>` : '';
      return (
        `<item><instanceId>${i.id}</instanceId><imageId>ami-0vncplay</imageId>${stateXml('instanceState', i.state)}` +
        `<privateIpAddress>${i.privateIp}</privateIpAddress>${pub}<instanceType>t3.micro</instanceType>` +
        `<networkInterfaceSet><item><networkInterfaceId>eni-0${i.id.slice(2)}</networkInterfaceId><privateIpAddress>${i.privateIp}</privateIpAddress>` +
        `<privateIpAddressesSet><item><privateIpAddress>${i.privateIp}</privateIpAddress><primary>true</primary></item></privateIpAddressesSet></item></networkInterfaceSet></item>`
      );
    });
    return `<reservationSet><item><reservationId>r-0vncplay</reservationId><ownerId>${OWNER}</ownerId><groupSet/><instancesSet>${items.join('')}</instancesSet></item></reservationSet>`;
  }
  if (action === 'RebootInstances') {
    const off = found.find((i) => i.state !== 'running' && i.state !== 'rebooting');
    if (off) throw new Ec2Error('IncorrectState', `The instance '${off.id}' is not in a state from which it can be rebooted.`);
    for (const i of found) fleet.begin(i, 'rebooting', false);
    return '<return>true</return>';
  }
  const changes = found.map((i) => {
    const before = i.state;
    if (action === 'StartInstances') {
      if (i.state === 'stopping') throw new Ec2Error('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
      if (i.state === 'stopped') fleet.begin(i, 'pending');
    } else {
      if (i.state === 'pending') throw new Ec2Error('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be stopped.`);
      if (i.state === 'running' || i.state === 'rebooting') fleet.begin(i, 'stopping', params.get('Force') === 'true');
    }
    return `<item><instanceId>${i.id}</instanceId>${stateXml('currentState', i.state)}${stateXml('previousState', before)}</item>`;
  });
  return `<instancesSet>${changes.join('')}</instancesSet>`;
}

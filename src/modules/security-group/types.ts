import type { TaskScope } from '../types.js';
/** The providers security_group speaks to; each has one adapter file. */
export type Provider = 'aws' | 'aliyun' | 'tencent';
export type Direction = 'ingress' | 'egress';
/** Canonical protocol names after normalisation (icmpv6 appears only when read back from a provider). */
export type Proto = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all';
export type Policy = 'accept' | 'drop';

/**
 * One rule as the user writes it in `rules` / `rules_egress`. `cidr`, `cidr_ipv6`, `group_id` and `ports` may be
 * lists (as in Ansible's cidr_ip), so `cidr: "{{ vnc_allowed_cidrs }}"` is one rule per range.
 */
export interface RuleArg {
  proto: string;
  ports?: string | number | Array<string | number>;
  cidr?: string | string[];
  cidr_ipv6?: string | string[];
  group_id?: string | string[];
  description?: string;
  policy?: 'accept' | 'drop';
  priority?: number;
}

/** A RuleArg with every list expanded: one peer, one port range. */
export interface ScalarRuleArg extends Omit<RuleArg, 'ports' | 'cidr' | 'cidr_ipv6' | 'group_id'> {
  ports?: string | number;
  cidr?: string;
  cidr_ipv6?: string;
  group_id?: string;
}

export interface SecurityGroupArgs {
  provider: Provider;
  region: string;
  group_id?: string;
  name?: string;
  vpc_id?: string;
  description?: string;
  state?: 'present' | 'absent';
  rules?: RuleArg[];
  rules_egress?: RuleArg[];
  purge_rules?: boolean;
  purge_rules_egress?: boolean;
  /** Optional explicit credentials; normally they come from each provider's standard places. */
  access_key?: string;
  secret_key?: string;
  session_token?: string;
}

/** The peer of a rule: exactly one kind. CIDRs are canonical (host bits cleared, IPv6 compressed, lower case). */
export type Peer = { kind: 'cidr'; value: string } | { kind: 'cidr6'; value: string } | { kind: 'group'; value: string };

/**
 * A rule in the one shape every provider is diffed in. `from`/`to` are null when the rule covers all ports
 * (or the protocol has none); `priority` only matters on Aliyun (1 is its default).
 */
export interface NormRule {
  proto: Proto;
  from: number | null;
  to: number | null;
  peer: Peer;
  policy: Policy;
  priority: number | null;
  description?: string;
  /** Provider handle to remove exactly this rule (Aliyun SecurityGroupRuleId); never part of the identity. */
  handle?: string;
}

/** What gather read: the group (undefined when it does not exist) and the group key it was read under. */
export interface GroupState {
  id: string;
  name: string;
  description: string;
  vpcId?: string;
  ingress: NormRule[];
  egress: NormRule[];
}

/** Where a read is shared: the task's scope (ModuleContext.task), the group's key in it, and which read this was. */
export interface SharedRead {
  task: TaskScope;
  groupKey: string;
  /** Distinguishes this read from a later one of the same group, so steps planned from each stay apart. */
  serial: number;
}

export interface SecurityGroupFacts {
  provider: Provider;
  region: string;
  group?: GroupState;
  /** Rules a freshly created group starts with (AWS VPC groups get allow-all egress), so plan stays pure. */
  initialRules: { ingress: NormRule[]; egress: NormRule[] };
  /** The read the plan was made from: identical steps planned from one read run once for the task's hosts. */
  read: SharedRead;
  /** Copied from the adapter so plan stays pure: remove before add on this provider. */
  revokeFirst?: boolean;
}

export interface CreateSpec {
  name: string;
  description: string;
  vpcId?: string;
}

/** Where a group is looked up: by id, or by name within a VPC. */
export interface GroupRef {
  groupId?: string;
  name?: string;
  vpcId?: string;
}

/**
 * One provider's SDK calls. Every method is a single logical API operation, already wrapped in the shared retry
 * helper; duplicates on authorize and "already gone" on revoke are not errors.
 */
export interface SecurityGroupAdapter {
  readonly provider: Provider;
  find(ref: GroupRef, signal: AbortSignal): Promise<GroupState | undefined>;
  create(spec: CreateSpec, signal: AbortSignal): Promise<string>;
  remove(groupId: string, signal: AbortSignal): Promise<void>;
  authorize(groupId: string, direction: Direction, rules: NormRule[], signal: AbortSignal): Promise<void>;
  revoke(groupId: string, direction: Direction, rules: NormRule[], signal: AbortSignal): Promise<void>;
  /** Rules the provider puts into a new group by itself. */
  initialRules(spec: CreateSpec): { ingress: NormRule[]; egress: NormRule[] };
  /** Remove unwanted rules before adding new ones (Tencent deletes by index, which an add could shift). */
  readonly revokeFirst?: boolean;
}

export interface AdapterOptions {
  region: string;
  /** host:port or URL of an alternative endpoint (the fake servers in tests, a private endpoint in production). */
  endpoint?: string;
  credentials?: { accessKey: string; secretKey: string; sessionToken?: string };
}

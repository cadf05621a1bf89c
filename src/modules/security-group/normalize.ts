import { isIPv4, isIPv6 } from 'node:net';
import type { Direction, NormRule, Peer, Policy, Proto, Provider, RuleArg, ScalarRuleArg } from './types.js';

/**
 * Normalisation: every provider spelling of a rule (and every way a user may write one) becomes one NormRule,
 * so the diff compares like with like. Pure functions only; the adapters call the parse* helpers on what they read.
 */

const PROTO_ALIASES: Record<string, Proto> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
  all: 'all',
  '-1': 'all',
  any: 'all',
};

export function parseProto(raw: string | number): Proto | undefined {
  return PROTO_ALIASES[String(raw).trim().toLowerCase()];
}

/** Ports that mean "every port": an absent value, ALL, -1, -1/-1, or the full 0/1–65535 span. */
function isAllPorts(from: number, to: number): boolean {
  return (from <= 1 && to === 65535) || (from === -1 && to === -1);
}

/**
 * Port ranges in every spelling: 5901, "5901", "5900-5999", Aliyun "5900/5999", Tencent "ALL", "-1/-1".
 * Returns null for all ports, undefined when unparseable.
 */
export function parsePorts(raw: string | number | undefined | null): { from: number; to: number } | null | undefined {
  if (raw === undefined || raw === null) return null;
  const s = String(raw).trim().toLowerCase();
  if (s === '' || s === 'all' || s === '-1' || s === '-1/-1' || s === '-1--1') return null;
  const m = /^(\d{1,5})(?:\s*[-/:]\s*(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 65535 || to > 65535 || from > to) return undefined;
  return isAllPorts(from, to) ? null : { from, to };
}

/** Normalise numeric from/to as AWS reports them (-1 or 0–65535 = all). */
export function portsFromNumbers(
  proto: Proto,
  from: number | undefined,
  to: number | undefined,
): { from: number; to: number } | null {
  if (!protoHasPorts(proto) || from === undefined || to === undefined) return null;
  return isAllPorts(from, to) ? null : { from, to };
}

export function protoHasPorts(proto: Proto): boolean {
  return proto === 'tcp' || proto === 'udp';
}

/** "10.1.2.3" → "10.1.2.3/32", "10.1.2.3/8" → "10.0.0.0/8"; undefined when not an IPv4 CIDR. */
export function normCidr4(raw: string): string | undefined {
  const [addr, lenRaw, extra] = raw.trim().split('/');
  if (addr === undefined || extra !== undefined || !isIPv4(addr)) return undefined;
  const len = lenRaw === undefined ? 32 : Number(lenRaw);
  if (!Number.isInteger(len) || len < 0 || len > 32 || (lenRaw !== undefined && !/^\d+$/.test(lenRaw))) return undefined;
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  const net = Number((BigInt(n) & BigInt(mask)).toString());
  const octets = [24, 16, 8, 0].map((sh) => Math.floor(net / 2 ** sh) % 256);
  return `${octets.join('.')}/${len}`;
}

/** IPv6 CIDR in RFC 5952 form with host bits cleared; a bare address gets /128. */
export function normCidr6(raw: string): string | undefined {
  const [addr, lenRaw, extra] = raw.trim().split('/');
  if (addr === undefined || extra !== undefined || !isIPv6(addr) || addr.includes('.')) return undefined;
  const len = lenRaw === undefined ? 128 : Number(lenRaw);
  if (!Number.isInteger(len) || len < 0 || len > 128 || (lenRaw !== undefined && !/^\d+$/.test(lenRaw))) return undefined;
  const words = expand6(addr);
  let value = words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
  const hostBits = 128n - BigInt(len);
  value = (value >> hostBits) << hostBits;
  const out: number[] = [];
  for (let i = 7; i >= 0; i--) out.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return `${compress6(out)}/${len}`;
}

function expand6(addr: string): number[] {
  const [head, tail] = addr.toLowerCase().split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => parseInt(x, 16));
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥2) of zero words becomes "::". */
function compress6(words: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** A peer as a provider reports it; undefined when it is of a kind we do not manage (prefix lists, templates). */
export function peerFrom(cidr4?: string, cidr6?: string, group?: string): Peer | undefined {
  if (cidr4) {
    const v = normCidr4(cidr4);
    return v ? { kind: 'cidr', value: v } : undefined;
  }
  if (cidr6) {
    const v = normCidr6(cidr6);
    return v ? { kind: 'cidr6', value: v } : undefined;
  }
  if (group) return { kind: 'group', value: group };
  return undefined;
}

export function parsePolicy(raw: string | undefined): Policy {
  return raw !== undefined && /^(drop|deny)$/i.test(raw.trim()) ? 'drop' : 'accept';
}

/** A rule whose peers or ports are lists becomes one rule per (peer, ports) pair; an empty list gives none. */
export function expandRuleArg(arg: RuleArg): ScalarRuleArg[] {
  const asList = <T>(v: T | T[] | undefined): Array<T | undefined> => (v === undefined ? [undefined] : Array.isArray(v) ? v : [v]);
  const out: ScalarRuleArg[] = [];
  for (const cidr of asList(arg.cidr)) {
    for (const cidr6 of asList(arg.cidr_ipv6)) {
      for (const group of asList(arg.group_id)) {
        for (const ports of asList(arg.ports)) {
          const r: ScalarRuleArg = { ...arg } as ScalarRuleArg;
          delete r.cidr;
          delete r.cidr_ipv6;
          delete r.group_id;
          delete r.ports;
          if (cidr !== undefined) r.cidr = cidr;
          if (cidr6 !== undefined) r.cidr_ipv6 = cidr6;
          if (group !== undefined) r.group_id = group;
          if (ports !== undefined) r.ports = ports;
          out.push(r);
        }
      }
    }
  }
  return out;
}

/** What is wrong with a rule, and the key of the rule it is about (none: the rule as a whole). */
export interface RuleProblem {
  error: string;
  key?: keyof ScalarRuleArg;
}

/** Turn one (expanded) user rule into a NormRule, or explain what is wrong with it. */
export function normaliseRuleArg(
  arg: ScalarRuleArg,
  provider: Provider,
  where: string,
): { rule: NormRule } | RuleProblem {
  const proto = parseProto(arg.proto);
  if (!proto || proto === 'icmpv6') return { error: `${where}: proto must be tcp, udp, icmp or all (got '${arg.proto}')`, key: 'proto' };
  const sources = [arg.cidr, arg.cidr_ipv6, arg.group_id].filter((s) => s !== undefined);
  if (sources.length !== 1) return { error: `${where}: give exactly one of cidr, cidr_ipv6, group_id` };
  let peer: Peer | undefined;
  if (arg.group_id !== undefined) peer = { kind: 'group', value: arg.group_id.trim() };
  else {
    // A v6 range written under `cidr` is accepted: people paste whatever their office range is.
    const raw = (arg.cidr ?? arg.cidr_ipv6)!;
    peer = raw.includes(':') ? peerFrom(undefined, raw) : peerFrom(raw);
    if (!peer) return { error: `${where}: '${raw}' is not a valid CIDR`, key: arg.cidr === undefined ? 'cidr_ipv6' : 'cidr' };
  }
  let ports: { from: number; to: number } | null = null;
  if (protoHasPorts(proto)) {
    const p = parsePorts(arg.ports);
    if (p === undefined) return { error: `${where}: ports '${String(arg.ports)}' is not a port or range (5901, 5900-5999)`, key: 'ports' };
    ports = p;
  } else if (arg.ports !== undefined && parsePorts(arg.ports) !== null) {
    return { error: `${where}: ports only apply to tcp and udp`, key: 'ports' };
  }
  const policy: Policy = arg.policy ?? 'accept';
  if (provider === 'aws' && policy !== 'accept') return { error: `${where}: AWS security groups only allow (policy: accept)`, key: 'policy' };
  if (arg.priority !== undefined && provider !== 'aliyun') return { error: `${where}: priority is an Aliyun setting`, key: 'priority' };
  const rule: NormRule = {
    // ICMP to an IPv6 peer is ICMPv6 on every provider; keep the user's spelling out of the identity.
    proto: proto === 'icmp' && peer.kind === 'cidr6' ? 'icmpv6' : proto,
    from: ports?.from ?? null,
    to: ports?.to ?? null,
    peer,
    policy,
    priority: provider === 'aliyun' ? (arg.priority ?? 1) : null,
  };
  if (arg.description !== undefined) rule.description = arg.description;
  return { rule };
}

/** Identity of a rule for the diff. Descriptions are not part of it: changing one is not worth a revoke window. */
export function ruleKey(r: NormRule): string {
  const ports = r.from === null ? 'all' : r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;
  const prio = r.priority === null ? '' : ` prio ${r.priority}`;
  return `${r.proto} ${ports} ${r.peer.kind === 'group' ? 'group:' : ''}${r.peer.value} ${r.policy}${prio}`;
}

/** One line per rule for --diff and summaries: "tcp 5900-5999 from 10.0.0.0/8 accept". */
export function formatRule(r: NormRule, direction: Direction): string {
  const [proto, ports, peer, ...rest] = ruleKey(r).split(' ');
  const word = direction === 'ingress' ? 'from' : 'to';
  const desc = r.description ? ` (${r.description})` : '';
  return `${proto} ${ports} ${word} ${peer} ${rest.join(' ')}${desc}`;
}

/** Port spelling each provider expects on the wire. */
export function aliyunPortRange(r: NormRule): string {
  if (r.from === null) return protoHasPorts(r.proto) ? '1/65535' : '-1/-1';
  return `${r.from}/${r.to}`;
}

export function tencentPort(r: NormRule): string {
  if (r.from === null) return 'ALL';
  return r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;
}

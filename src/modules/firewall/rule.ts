import net from 'node:net';

/**
 * The firewall module's rule model, shared by every backend. A task describes one rule per source; each rule is
 * identified on the host by a tag (an nft/iptables/ufw comment) that encodes the whole match, so a re-run finds
 * exactly its own rule and never touches another tool's.
 */

export type Proto = 'tcp' | 'udp';
export type FwAction = 'accept' | 'drop' | 'reject';

export interface Cidr {
  family: 4 | 6;
  /** Network address, canonical text (host bits cleared). */
  addr: string;
  prefix: number;
}

export interface FwRule {
  proto: Proto;
  portFrom: number;
  portTo: number;
  /** null: any source (both families). */
  source: Cidr | null;
  action: FwAction;
  /** User comment, appended to the tag; not part of the rule's identity. */
  comment?: string;
}

const TAG_PREFIX = 'vncplay/1';

/** Comments are pasted into nft scripts and iptables-restore input, so only plainly safe characters pass. */
export const COMMENT_RE = /^[A-Za-z0-9 _.,:/@+=()-]{0,64}$/;

export function parsePort(port: string | number): { from: number; to: number } | undefined {
  const s = String(port).trim();
  const m = /^(\d{1,5})(?:\s*[-:]\s*(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) return undefined;
  return { from, to };
}

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

function v6ToBig(a: string): bigint {
  let s = a;
  // Embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4ToBig(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function bigToV6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** "198.18.0.12", "198.18.0.0/24", "2001:db8::/32" → canonical Cidr; undefined when not an address. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([0-9A-Fa-f:.]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const ip = m[1]!;
  const fam = net.isIPv4(ip) ? 4 : net.isIPv6(ip) ? 6 : 0;
  if (fam === 0) return undefined;
  const bits = fam === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) return undefined;
  const n = fam === 4 ? v4ToBig(ip) : v6ToBig(ip);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  const net_ = n & mask;
  return { family: fam, addr: fam === 4 ? bigToV4(net_) : bigToV6(net_), prefix };
}

export function cidrText(c: Cidr): string {
  return `${c.addr}/${c.prefix}`;
}

/** Does `cidr` contain the address `ip`? An IPv4-mapped IPv6 address counts as its IPv4 address. */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  let addr = ip.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) addr = mapped[1]!;
  const fam = net.isIPv4(addr) ? 4 : net.isIPv6(addr) ? 6 : 0;
  if (fam !== cidr.family) return false;
  const probe = parseCidr(`${addr}/${cidr.prefix}`);
  return probe !== undefined && probe.addr === cidr.addr;
}

export function portText(r: Pick<FwRule, 'portFrom' | 'portTo'>): string {
  return r.portFrom === r.portTo ? String(r.portFrom) : `${r.portFrom}-${r.portTo}`;
}

/** The identity of a rule: everything that matches packets and what happens to them. */
export function ruleKey(r: FwRule): string {
  return `${TAG_PREFIX} ${r.proto} ${portText(r)} ${r.source ? cidrText(r.source) : 'any'} ${r.action}`;
}

/** The full tag stored as the rule's comment: the key, then the user's comment. */
export function ruleTag(r: FwRule): string {
  return r.comment ? `${ruleKey(r)} # ${r.comment}` : ruleKey(r);
}

export const tagsOf = (rules: readonly FwRule[]): string[] => rules.map(ruleTag);
export const sameTags = (a: readonly FwRule[], b: readonly FwRule[]): boolean => tagsOf(a).join('\n') === tagsOf(b).join('\n');

/** A comment read back from the host → the rule it describes; undefined for comments that are not ours. */
export function parseTag(tag: string): FwRule | undefined {
  const [key = '', ...rest] = tag.split(' # ');
  const p = key.split(' ');
  if (p.length !== 5 || p[0] !== TAG_PREFIX) return undefined;
  const proto = p[1];
  const ports = parsePort(p[2] ?? '');
  const source = p[3] === 'any' ? null : parseCidr(p[3] ?? '');
  const action = p[4];
  if ((proto !== 'tcp' && proto !== 'udp') || !ports || source === undefined) return undefined;
  if (action !== 'accept' && action !== 'drop' && action !== 'reject') return undefined;
  const rule: FwRule = { proto, portFrom: ports.from, portTo: ports.to, source, action };
  if (rest.length) rule.comment = rest.join(' # ');
  return rule;
}

/** Accepts first, then reject, then drop: an accept exempts its source from every drop of the same port. */
export function ruleOrder(r: FwRule): number {
  return r.action === 'accept' ? 0 : r.action === 'reject' ? 1 : 2;
}

export function sortRules(rules: readonly FwRule[]): FwRule[] {
  return rules.map((r, i) => ({ r, i })).sort((a, b) => ruleOrder(a.r) - ruleOrder(b.r) || a.i - b.i).map((x) => x.r);
}

/** Does the rule match a packet from `srcIp` to `proto`/`port`? */
export function ruleMatches(r: FwRule, srcIp: string, proto: Proto, port: number): boolean {
  if (r.proto !== proto || port < r.portFrom || port > r.portTo) return false;
  return r.source === null || cidrContains(r.source, srcIp);
}

/** First matching rule decides (the chain's order); no match means the packet passes our chain. */
export function verdict(rules: readonly FwRule[], srcIp: string, proto: Proto, port: number): FwAction | 'pass' {
  for (const r of rules) if (ruleMatches(r, srcIp, proto, port)) return r.action;
  return 'pass';
}

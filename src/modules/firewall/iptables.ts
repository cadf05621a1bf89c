import { cidrText, parseTag, ruleTag, type FwRule } from './rule.js';
import type { TaggedEntry } from './nftables.js';

/**
 * iptables backend: vncplay owns chain VNCPLAY in the filter table of iptables (IPv4) and ip6tables (IPv6), jumped
 * to from the top of INPUT. A rule with an IPv4 source goes to iptables, an IPv6 source to ip6tables, and a rule for
 * any source to both (otherwise "drop 5901" would leave VNC open over IPv6).
 * Accept is `-j RETURN` (it exempts the packet from vncplay's drops but lets INPUT's own rules decide, the same
 * meaning as the nftables backend); drop/reject are final. A change re-states the chain in one
 * `iptables-restore --noflush` (atomic per table), checked beforehand with `iptables-save`.
 */

export const IPT_CHAIN = 'VNCPLAY';
export const IPT_PERSIST_FILE = '/etc/iptables/rules.v4';
export const IP6T_PERSIST_FILE = '/etc/iptables/rules.v6';

/** The rules one family's table holds. */
export function forFamily(rules: readonly FwRule[], family: 4 | 6): FwRule[] {
  return rules.filter((r) => r.source === null || r.source.family === family);
}

export interface IptState {
  chain: boolean;
  jump: boolean;
  entries: TaggedEntry[];
}

/** The comment of an iptables-save line (`--comment "a b"` or `--comment word`). */
function commentOf(line: string): string | undefined {
  const m = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(line);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

/** `iptables-save` text (filter table) → VNCPLAY's state. */
export function parseIptablesSave(text: string): IptState {
  const state: IptState = { chain: false, jump: false, entries: [] };
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) inFilter = line === '*filter';
    if (!inFilter) continue;
    if (line.startsWith(`:${IPT_CHAIN} `)) state.chain = true;
    if (/^-A INPUT (.* )?-j VNCPLAY$/.test(line)) state.jump = true;
    if (line.startsWith(`-A ${IPT_CHAIN} `)) {
      const tag = commentOf(line) ?? '';
      const rule = parseTag(tag);
      state.entries.push(rule ? { tag, rule } : { tag });
    }
  }
  return state;
}

/** The VNCPLAY lines of a saved rule file, for comparing a persistent file with what it should hold. */
export function vncplayLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`-A ${IPT_CHAIN} `));
}

export function iptablesRuleLine(r: FwRule, family: 4 | 6 = 4): string {
  const parts = [`-A ${IPT_CHAIN}`];
  if (r.source) parts.push(`-s ${cidrText(r.source)}`);
  parts.push(`-p ${r.proto} -m ${r.proto} --dport ${r.portFrom === r.portTo ? r.portFrom : `${r.portFrom}:${r.portTo}`}`);
  parts.push(`-m comment --comment "${ruleTag(r)}"`);
  if (r.action === 'accept') parts.push('-j RETURN');
  else if (r.action === 'drop') parts.push('-j DROP');
  else if (r.proto === 'tcp') parts.push('-j REJECT --reject-with tcp-reset');
  else parts.push(family === 4 ? '-j REJECT --reject-with icmp-port-unreachable' : '-j REJECT --reject-with icmp6-port-unreachable');
  return parts.join(' ');
}

/** iptables-restore --noflush input that re-states VNCPLAY (and adds the INPUT jump when missing). */
export function iptablesRestoreInput(rules: readonly FwRule[], haveJump: boolean, family: 4 | 6 = 4): string {
  const lines = ['*filter', `:${IPT_CHAIN} - [0:0]`, `-F ${IPT_CHAIN}`, ...forFamily(rules, family).map((r) => iptablesRuleLine(r, family))];
  if (!haveJump) lines.push(`-I INPUT 1 -j ${IPT_CHAIN}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

import { ModuleError } from '../../errors.js';
import type { Change, Step } from '../types.js';
import { restoreFileLine, type FirewallBackend, type IptFacts } from './backend.js';
import type { TaggedEntry } from './nftables.js';
import { cidrText, parseTag, ruleTag, sameTags, sortRules, type FwRule } from './rule.js';

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

const rulesOf = (state: IptState | undefined): FwRule[] => (state?.entries ?? []).flatMap((e) => (e.rule ? [e.rule] : []));

/** rules.v4 (and rules.v6) re-saved from the running rules. */
function iptPersistChange(facts: IptFacts, after: readonly FwRule[]): Change {
  if (facts.persisted == null) {
    throw new ModuleError('E_FIREWALL_NO_PERSIST', `firewall: persistent: true with iptables needs ${IPT_PERSIST_FILE}`, {
      hint: 'install iptables-persistent (netfilter-persistent) on the host, or use the nftables backend',
    });
  }
  const save = (cmd: string, file: string): string => `${cmd} > ${file}.vncplay-tmp && mv -f ${file}.vncplay-tmp ${file}`;
  const steps: Step[] = [{ kind: 'exec', argv: ['sh', '-c', save('iptables-save', IPT_PERSIST_FILE)] }];
  if (facts.persisted6 != null) steps.push({ kind: 'exec', argv: ['sh', '-c', save('ip6tables-save', IP6T_PERSIST_FILE)] });
  return {
    summary: `persist the running iptables rules in ${IPT_PERSIST_FILE}${facts.persisted6 != null ? ` and ${IP6T_PERSIST_FILE}` : ''}`,
    diff: {
      path: IPT_PERSIST_FILE,
      before: vncplayLines(facts.persisted).join('\n') + '\n',
      after: forFamily(after, 4).map((r) => iptablesRuleLine(r, 4)).join('\n') + '\n',
    },
    steps,
  };
}

export const iptablesBackend: FirewallBackend<'iptables'> = {
  name: 'iptables',
  detect: 'have iptables-save',
  readScript: String.raw`
  have iptables-save || { echo "@@error iptables is not installed"; exit 0; }
  out=$(iptables-save -t filter 2>&1) || { echo "@@error iptables-save: $out"; exit 0; }
  echo "@@ipt"; printf '%s\n' "$out"
  if have ip6tables-save; then
    out=$(ip6tables-save -t filter 2>&1) || { echo "@@error ip6tables-save: $out"; exit 0; }
    echo "@@ip6t"; printf '%s\n' "$out"
  fi
  if [ -f ${IPT_PERSIST_FILE} ]; then echo "@@persist"; cat ${IPT_PERSIST_FILE}; fi
  if [ -f ${IP6T_PERSIST_FILE} ]; then echo "@@persist6"; cat ${IP6T_PERSIST_FILE}; fi`,
  readState(s) {
    const facts: IptFacts = { backend: 'iptables', ipt: parseIptablesSave(s.get('ipt') ?? ''), persisted: s.get('persist') ?? null, persisted6: s.get('persist6') ?? null };
    if (s.has('ip6t')) facts.ip6t = parseIptablesSave(s.get('ip6t') ?? '');
    return facts;
  },
  currentRules(facts) {
    // One list over both families: a rule for any source sits in both tables under the same tag.
    const seen = new Set<string>();
    const all: FwRule[] = [];
    for (const e of [...facts.ipt.entries, ...(facts.ip6t?.entries ?? [])]) {
      if (e.rule && !seen.has(e.tag)) {
        seen.add(e.tag);
        all.push(e.rule);
      }
    }
    return sortRules(all);
  },
  runtimeDiffers: (facts, _before, after) =>
    !sameTags(rulesOf(facts.ipt), forFamily(after, 4)) || (facts.ip6t !== undefined && !sameTags(rulesOf(facts.ip6t), forFamily(after, 6))),
  refuse(facts, wanted) {
    if (!facts.ip6t && wanted.some((r) => r.source?.family === 6)) {
      throw new ModuleError('E_FIREWALL_IPV6', 'firewall: an IPv6 source needs ip6tables, which this host does not have', {
        hint: 'install ip6tables (package iptables) or use backend: nftables',
      });
    }
  },
  runtimeSteps({ facts, transition }) {
    const steps: Step[] = [{ kind: 'exec', argv: ['iptables-restore', '--noflush'], stdin: iptablesRestoreInput(transition.after, facts.ipt.jump, 4) }];
    if (facts.ip6t) steps.push({ kind: 'exec', argv: ['ip6tables-restore', '--noflush'], stdin: iptablesRestoreInput(transition.after, facts.ip6t.jump, 6) });
    return steps;
  },
  persistence: {
    differs(facts, _wanted, _state, after) {
      const saved = (text: string | null | undefined, fam: 4 | 6): boolean =>
        text != null && vncplayLines(text).join('\n') === forFamily(after, fam).map((r) => iptablesRuleLine(r, fam)).join('\n');
      return !saved(facts.persisted, 4) || (facts.persisted6 != null && !saved(facts.persisted6, 6));
    },
    change: ({ facts, transition }) => iptPersistChange(facts, transition.after),
  },
  diffHeader: 'iptables chain VNCPLAY',
  recovery: {
    kind: 'armed',
    rollbackLines(facts, before, persistChanges) {
      const lines = ["iptables-restore --noflush <<'VNCPLAY_EOF'", iptablesRestoreInput(before, true, 4).trimEnd(), 'VNCPLAY_EOF'];
      if (facts.ip6t) lines.push("ip6tables-restore --noflush <<'VNCPLAY_EOF'", iptablesRestoreInput(before, true, 6).trimEnd(), 'VNCPLAY_EOF');
      if (persistChanges && facts.persisted != null) lines.push(restoreFileLine(IPT_PERSIST_FILE, facts.persisted, ''));
      if (persistChanges && facts.persisted6 != null) lines.push(restoreFileLine(IP6T_PERSIST_FILE, facts.persisted6, ''));
      return lines;
    },
  },
};

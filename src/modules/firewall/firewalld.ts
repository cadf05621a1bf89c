import type { Step } from '../types.js';
import type { FirewallBackend } from './backend.js';
import { cidrText, parseCidr, parsePort, ruleKey, ruleTag, type FwRule } from './rule.js';

/**
 * firewalld backend: one rich rule per vncplay rule in the default zone, runtime and (persistent: true) permanent.
 * Rich rules carry no comment, so a rule is recognized by its match and action. Accept rules get priority -10 so
 * that, as in the other backends, an accepted source is exempt from a drop of the same port (firewalld otherwise
 * evaluates deny before allow).
 */

export function richRule(r: FwRule): string {
  const parts = ['rule'];
  if (r.action === 'accept') parts.push('priority="-10"');
  if (r.source) parts.push(`family="${r.source.family === 4 ? 'ipv4' : 'ipv6'}"`, `source address="${cidrText(r.source)}"`);
  parts.push(`port port="${r.portFrom === r.portTo ? r.portFrom : `${r.portFrom}-${r.portTo}`}" protocol="${r.proto}"`);
  parts.push(r.action);
  return parts.join(' ');
}

/** A rich rule as firewall-cmd prints it → our rule; undefined for rich rules vncplay does not express. */
export function parseRichRule(line: string): FwRule | undefined {
  const t = line.trim();
  if (!t.startsWith('rule ')) return undefined;
  const attr = (re: RegExp): string | undefined => re.exec(t)?.[1];
  if (/\b(destination|service|icmp-block|forward-port|masquerade|log|audit|limit)\b/.test(t)) return undefined;
  const port = attr(/\bport port="([^"]+)"/);
  const proto = attr(/\bprotocol="([^"]+)"/);
  const src = attr(/\bsource address="([^"]+)"/);
  const action = attr(/\s(accept|drop|reject)(?:\s|$)/);
  if (/\bsource (not )?(ipset|mac)=/.test(t) || / source NOT /.test(t)) return undefined;
  const ports = port === undefined ? undefined : parsePort(port);
  if (!ports || (proto !== 'tcp' && proto !== 'udp') || action === undefined) return undefined;
  const source = src === undefined ? null : parseCidr(src);
  if (source === undefined) return undefined;
  return { proto, portFrom: ports.from, portTo: ports.to, source, action: action as FwRule['action'] };
}

export function parseRichRules(text: string): FwRule[] {
  return text.split('\n').map(parseRichRule).filter((r): r is FwRule => r !== undefined);
}

export function hasRule(rules: readonly FwRule[], r: FwRule): boolean {
  return rules.some((x) => ruleKey(x) === ruleKey(r));
}

export function firewallCmd(op: 'add' | 'remove', r: FwRule, permanent: boolean): string[] {
  const argv = ['firewall-cmd'];
  if (permanent) argv.push('--permanent');
  argv.push(`--${op}-rich-rule=${richRule(r)}`);
  return argv;
}

function firewalldSteps(wanted: readonly FwRule[], have: readonly FwRule[], state: 'present' | 'absent', permanent: boolean): Step[] {
  const steps: Step[] = [];
  for (const w of wanted) {
    const present = hasRule(have, w);
    if (state === 'present' && !present) steps.push({ kind: 'exec', argv: firewallCmd('add', w, permanent) });
    if (state === 'absent' && present) steps.push({ kind: 'exec', argv: firewallCmd('remove', w, permanent) });
  }
  return steps;
}

const keysOf = (rules: readonly FwRule[]): string => rules.map(ruleKey).join('\n');

export const firewalldBackend: FirewallBackend<'firewalld'> = {
  name: 'firewalld',
  detect: 'have firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null',
  readScript: String.raw`
  have firewall-cmd || { echo "@@error firewall-cmd is not installed"; exit 0; }
  echo "@@fwd-runtime"; firewall-cmd --list-rich-rules 2>&1
  echo "@@fwd-permanent"; firewall-cmd --permanent --list-rich-rules 2>&1`,
  readState: (s) => ({
    backend: 'firewalld',
    firewalld: { runtime: parseRichRules(s.get('fwd-runtime') ?? ''), permanent: parseRichRules(s.get('fwd-permanent') ?? '') },
  }),
  currentRules: (facts) => facts.firewalld.runtime,
  // Rich rules carry no comment: only the match and the action count.
  runtimeDiffers: (_facts, before, after) => keysOf(before) !== keysOf(after),
  runtimeSteps: ({ facts, wanted, state }) => firewalldSteps(wanted, facts.firewalld.runtime, state, false),
  persistence: {
    differs: (facts, wanted, state) => wanted.some((w) => hasRule(facts.firewalld.permanent, w) !== (state === 'present')),
    change: ({ facts, wanted, state }) => ({
      summary: `persist ${wanted.map(ruleTag).join(', ')} (firewalld permanent)`,
      steps: firewalldSteps(wanted, facts.firewalld.permanent, state, true),
    }),
  },
  diffHeader: 'firewalld rich rules',
  recovery: { kind: 'inverse', assumeApplied: (facts, after) => ({ ...facts, firewalld: { runtime: [...after], permanent: facts.firewalld.permanent } }) },
};

import { ModuleError } from '../../errors.js';
import type { Change, Step } from '../types.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type SpecProblem } from '../spec/types.js';
import { sections } from './backend.js';

/**
 * ansible.builtin.iptables: one rule in one chain of iptables or ip6tables, present or absent (checked with
 * `iptables -C`, added with -A or -I, removed with -D), a chain's policy, a flush, a user chain created and deleted
 * (chain_management). The rule's argv is built in Ansible's order (construct_rule), so the registered `rule` and what
 * `-C` compares are Ansible's. Unlike the firewall module it touches exactly what the task names, as Ansible does.
 */

const str = (description: string): { type: 'str'; description: string } => ({ type: 'str', description });
const strList = (description: string): { type: 'list'; elements: 'str'; default: never[]; description: string } => ({ type: 'list', elements: 'str', default: [], description });

const spec = defineSpec({
  description: 'Add, insert or remove one iptables/ip6tables rule, set a chain policy, flush a chain or table, or create/delete a user chain (Ansible semantics: iptables -C decides).',
  options: {
    table: { type: 'str', choices: ['filter', 'nat', 'mangle', 'raw', 'security'], default: 'filter', description: 'The table.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the rule should be there.' },
    action: { type: 'str', choices: ['append', 'insert'], default: 'append', description: 'Append the rule at the end of the chain or insert it (at rule_num, else first).' },
    ip_version: { type: 'str', choices: ['ipv4', 'ipv6'], default: 'ipv4', description: 'iptables or ip6tables.' },
    chain: str('The chain (INPUT, FORWARD, OUTPUT, … or a user chain).'),
    rule_num: { type: 'str', pattern: '^[0-9]+$', patternText: 'a rule number', description: 'Where action: insert puts the rule (1 = first).' },
    protocol: str('-p: tcp, udp, icmp, all, … ("!" first negates).'),
    wait: str('-w: seconds to wait for the xtables lock.'),
    source: str('-s: a source address or network ("!" first negates).'),
    destination: str('-d: a destination address or network.'),
    match: strList('-m: match extensions to load, in order.'),
    jump: str('-j: the target (ACCEPT, DROP, REJECT, LOG, a chain …).'),
    goto: str('-g: continue in this chain.'),
    in_interface: str('-i: the incoming interface.'),
    out_interface: str('-o: the outgoing interface.'),
    fragment: str('-f: match second and further fragments.'),
    source_port: str('--source-port: a port or range.'),
    destination_port: str('--destination-port: a port or range (needs protocol tcp or udp).'),
    destination_ports: strList('--dports of the multiport match: up to 15 ports or ranges.'),
    to_ports: str('--to-ports: the destination port(s) of REDIRECT/MASQUERADE.'),
    ctstate: strList('Connection states (NEW, ESTABLISHED, RELATED, INVALID, …) through the conntrack match.'),
    limit: str('--limit of the limit match (5/sec).'),
    limit_burst: str('--limit-burst of the limit match.'),
    log_prefix: str('--log-prefix (jump LOG).'),
    log_level: { type: 'str', choices: ['0', '1', '2', '3', '4', '5', '6', '7', 'emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'], description: '--log-level (jump LOG).' },
    reject_with: str('--reject-with (implies jump REJECT when no jump is given).'),
    icmp_type: str('--icmp-type (ipv4) or --icmpv6-type (ipv6).'),
    comment: str('--comment of the comment match.'),
    syn: { type: 'str', choices: ['ignore', 'match', 'negate'], default: 'ignore', description: '--syn: match (or with negate, exclude) TCP SYN packets.' },
    flush: { type: 'bool', default: false, description: 'Flush the chain (or the whole table when no chain is given).' },
    policy: { type: 'str', choices: ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'], description: "The chain's policy." },
    chain_management: { type: 'bool', default: false, description: 'Create the chain when a rule needs it; delete it with state: absent and no rule.' },
  },
  mutually_exclusive: [['flush', 'policy']],
  check: iptablesProblem,
});

interface IptablesArgs {
  table: string;
  state: 'present' | 'absent';
  action: 'append' | 'insert';
  ip_version: 'ipv4' | 'ipv6';
  chain?: string;
  rule_num?: string;
  protocol?: string;
  wait?: string;
  source?: string;
  destination?: string;
  match: string[];
  jump?: string;
  goto?: string;
  in_interface?: string;
  out_interface?: string;
  fragment?: string;
  source_port?: string;
  destination_port?: string;
  destination_ports: string[];
  to_ports?: string;
  ctstate: string[];
  limit?: string;
  limit_burst?: string;
  log_prefix?: string;
  log_level?: string;
  reject_with?: string;
  icmp_type?: string;
  comment?: string;
  syn: 'ignore' | 'match' | 'negate';
  flush: boolean;
  policy?: string;
  chain_management: boolean;
}

function iptablesProblem(args: IptablesArgs): SpecProblem | undefined {
  if (!args.flush && args.chain === undefined) return { param: 'chain', message: 'Either chain or flush parameter must be specified.' };
  if ((args.log_prefix !== undefined || args.log_level !== undefined) && args.jump !== undefined && args.jump !== 'LOG') {
    return { param: 'jump', message: 'Logging options can only be used with the LOG jump target.' };
  }
  return undefined;
}

/** `value`, or `! value` for Ansible's leading "!" (negation). */
function param(rule: string[], value: string | undefined, flag: string): void {
  if (value === undefined || value === '') return;
  if (value.startsWith('!')) rule.push('!', flag, value.slice(1));
  else rule.push(flag, value);
}

/** Ansible's construct_rule, for the parameters vncplay takes, in Ansible's order. */
export function constructRule(args: IptablesArgs, jump = args.jump): string[] {
  const rule: string[] = [];
  if (args.wait) rule.push('-w', args.wait);
  param(rule, args.protocol, '-p');
  param(rule, args.source, '-s');
  param(rule, args.destination, '-d');
  for (const m of args.match) param(rule, m, '-m');
  param(rule, jump, '-j');
  param(rule, args.log_prefix, '--log-prefix');
  param(rule, args.log_level, '--log-level');
  if (args.destination_ports.length) rule.push('-m', 'multiport', '--dports', args.destination_ports.join(','));
  param(rule, args.goto, '-g');
  param(rule, args.in_interface, '-i');
  param(rule, args.out_interface, '-o');
  param(rule, args.fragment, '-f');
  param(rule, args.source_port, '--source-port');
  param(rule, args.destination_port, '--destination-port');
  param(rule, args.to_ports, '--to-ports');
  if (args.syn === 'match') rule.push('--syn');
  if (args.syn === 'negate') rule.push('!', '--syn');
  if (args.ctstate.length) {
    if (args.match.includes('conntrack')) rule.push('--ctstate', args.ctstate.join(','));
    else if (args.match.includes('state')) rule.push('--state', args.ctstate.join(','));
    else rule.push('-m', 'conntrack', '--ctstate', args.ctstate.join(','));
  }
  if (args.limit || args.limit_burst) rule.push('-m', 'limit');
  param(rule, args.limit, '--limit');
  param(rule, args.limit_burst, '--limit-burst');
  if (jump === undefined && args.reject_with) rule.push('-j', 'REJECT');
  param(rule, args.reject_with, '--reject-with');
  param(rule, args.icmp_type, args.ip_version === 'ipv4' ? '--icmp-type' : '--icmpv6-type');
  if (args.comment) rule.push('-m', 'comment', '--comment', args.comment);
  return rule;
}

/** Ansible sets jump LOG when logging options come without a jump. */
const effectiveJump = (args: IptablesArgs): string | undefined =>
  args.jump ?? (args.log_prefix !== undefined || args.log_level !== undefined ? 'LOG' : undefined);

const binary = (args: IptablesArgs): string => (args.ip_version === 'ipv4' ? 'iptables' : 'ip6tables');

export interface IptablesFacts {
  /** `-L CHAIN` succeeded. */
  chainPresent: boolean;
  /** The policy in `-L CHAIN`'s header (built-in chains only). */
  policy?: string;
  /** `-C CHAIN RULE` succeeded (read only when a rule is checked). */
  rulePresent?: boolean;
}

/** One remote command: `-L CHAIN` (presence, policy) and `-C CHAIN RULE…` when given. */
export const IPTABLES_GATHER = String.raw`
bin=$1; table=$2; chain=$3; check=$4; shift 4
command -v "$bin" >/dev/null 2>&1 || { echo "@@error $bin is not installed"; exit 0; }
if [ -n "$chain" ]; then
  if out=$("$bin" -t "$table" -L "$chain" -n 2>&1); then echo "@@chain"; printf '%s\n' "$out" | head -n 1; fi
  if [ "$check" = check ]; then "$bin" -t "$table" -C "$chain" "$@" >/dev/null 2>&1 && echo "@@rule"; fi
fi
exit 0
`;

/** What this task does: flush, policy, delete a chain, or one rule present/absent. */
type Operation = 'flush' | 'policy' | 'chain' | 'rule';

function operationOf(args: IptablesArgs): Operation {
  if (args.flush) return 'flush';
  if (args.policy !== undefined) return 'policy';
  if (args.state === 'absent' && constructRule(args).length === 0) return 'chain';
  return 'rule';
}

export function planIptables(args: IptablesArgs, facts: IptablesFacts): Change[] {
  const head = [binary(args), '-t', args.table];
  const exec = (...argv: string[]): Step => ({ kind: 'exec', argv: [...head, ...argv] });
  const chain = args.chain ?? '';
  const rule = constructRule(args, effectiveJump(args));
  switch (operationOf(args)) {
    case 'flush':
      return [{ summary: `flush ${args.chain ?? `table ${args.table}`}`, steps: [exec('-F', ...(args.chain !== undefined ? [chain] : []))] }];
    case 'policy': {
      if (!facts.policy) throw new ModuleError('E_IPTABLES_POLICY', "iptables: Can't detect current policy", { hint: `${chain} is not a built-in chain of table ${args.table}` });
      if (facts.policy === args.policy) return [];
      return [{ summary: `policy of ${chain}: ${facts.policy} → ${args.policy}`, steps: [exec('-P', chain, args.policy!)] }];
    }
    case 'chain':
      // Ansible reports a present chain as changed even when chain_management is off and nothing is deleted.
      if (!facts.chainPresent) return [];
      return [{ summary: `delete chain ${chain}`, steps: args.chain_management ? [exec('-X', chain)] : [] }];
    case 'rule': {
      const want = args.state === 'present';
      if (facts.rulePresent === want) return [];
      if (!want) return [{ summary: `remove from ${chain}: ${rule.join(' ')}`, steps: [exec('-D', chain, ...rule)] }];
      const steps: Step[] = [];
      if (!facts.chainPresent && args.chain_management) steps.push(exec('-N', chain));
      const place = args.action === 'insert' ? ['-I', chain, ...(args.rule_num ? [args.rule_num] : [])] : ['-A', chain];
      steps.push(exec(...place, ...rule));
      return [{ summary: `${args.action} to ${chain}: ${rule.join(' ')}`, steps }];
    }
  }
}

function report(args: IptablesArgs): Record<string, unknown> {
  return {
    ip_version: args.ip_version,
    table: args.table,
    chain: args.chain ?? null,
    flush: args.flush,
    rule: constructRule(args).join(' '),
    state: args.state,
    chain_management: args.chain_management,
  };
}

export const iptablesModule = plannedModule(spec, {
  kind: 'planned',
  name: 'iptables',
  where: 'host',
  async gather(args, ctx): Promise<IptablesFacts> {
    const op = operationOf(args);
    const rule = op === 'rule' ? constructRule(args, effectiveJump(args)) : [];
    const res = await ctx.exec(['sh', '-c', IPTABLES_GATHER, 'sh', binary(args), args.table, args.chain ?? '', op === 'rule' ? 'check' : '', ...rule]);
    const s = sections(res.stdout);
    const err = s.get('error');
    if (res.rc !== 0 || err !== undefined) {
      throw new ModuleError('E_IPTABLES', `iptables: ${(err ?? res.stderr).trim()}`, { hint: 'the iptables module needs root on the host: set become: true' });
    }
    const facts: IptablesFacts = { chainPresent: s.has('chain') };
    const policy = /\(policy ([A-Z]+)/.exec(s.get('chain') ?? '')?.[1];
    if (policy) facts.policy = policy;
    if (op === 'rule') facts.rulePresent = s.has('rule');
    return facts;
  },
  plan: planIptables,
  report,
});

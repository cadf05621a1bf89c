import { createHash } from 'node:crypto';
import { ModuleError } from '../../errors.js';
import type { Change, ModuleContext, ModuleReturn, Step, StepOutcome } from '../types.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type SpecProblem } from '../spec/types.js';
import { firewallCmd, hasRule, parseRichRules } from './firewalld.js';
import {
  IP6T_PERSIST_FILE,
  IPT_PERSIST_FILE,
  forFamily,
  iptablesRestoreInput,
  iptablesRuleLine,
  parseIptablesSave,
  vncplayLines,
  type IptState,
} from './iptables.js';
import {
  NFT_INCLUDE_LINE,
  NFT_MAIN_CONF,
  NFT_PERSIST_FILE,
  nftApplyScript,
  nftDropTableScript,
  nftPersistFile,
  parseNftJson,
  type NftState,
  type TaggedEntry,
} from './nftables.js';
import { COMMENT_RE, parseCidr, parsePort, ruleKey, ruleTag, sortRules, verdict, type Cidr, type FwAction, type FwRule, type Proto } from './rule.js';
import { parseUfwAdded, ufwAdd, ufwDelete } from './ufw.js';

/**
 * firewall: vncplay's declarative rule over whatever firewall the host runs (nftables, iptables, firewalld, ufw).
 * One task = one rule per source. Safety: a change that would drop the SSH connection vncplay is using is refused
 * unless allow_lockout; on nftables/iptables every change is armed with a rollback the HOST runs by itself after
 * rollback_timeout seconds, which finish() cancels only after a fresh connection (ctx.probeNewConnection) works.
 */

export type Backend = 'nftables' | 'iptables' | 'firewalld' | 'ufw';

export interface FirewallArgs {
  port: string | number;
  proto?: Proto;
  source?: string | string[];
  action?: FwAction;
  state?: 'present' | 'absent';
  comment?: string;
  persistent?: boolean;
  backend?: 'auto' | Backend;
  allow_lockout?: boolean;
  rollback_timeout?: number;
}

export interface SshEndpoint {
  clientIp: string;
  serverPort: number;
}

export interface FirewallFacts {
  backend: Backend;
  /** From $SSH_CONNECTION on the host; absent when vncplay is not connected over SSH. */
  ssh?: SshEndpoint;
  nft?: NftState;
  ipt?: IptState;
  /** ip6tables' view; undefined when the host has no ip6tables-save. */
  ip6t?: IptState;
  /** iptables: /etc/iptables/rules.v6 text, null when it does not exist. */
  persisted6?: string | null;
  firewalld?: { runtime: FwRule[]; permanent: FwRule[] };
  ufw?: TaggedEntry[];
  /** Current persistent file text (nftables: our include file; iptables: rules.v4); null when it does not exist. */
  persisted?: string | null;
  /** nftables: /etc/nftables.conf already includes our file. */
  nftInclude?: boolean;
}

const BACKENDS: readonly Backend[] = ['nftables', 'iptables', 'firewalld', 'ufw'];
const DEFAULT_ROLLBACK_S = 30;

const spec = defineSpec({
  description:
    "One declarative host firewall rule (nftables, iptables, firewalld or ufw) in vncplay's own table; refuses to cut the SSH connection in use and rolls back a change after which the host cannot be reached.",
  options: {
    port: { type: 'str', required: true, description: 'A port ("5901") or an inclusive range ("5900-5999").' },
    proto: { type: 'str', choices: ['tcp', 'udp'], default: 'tcp', description: 'The protocol.' },
    source: { type: 'list', elements: 'str', description: 'Source address or CIDR, or a list of them; omitted = any source.' },
    action: { type: 'str', choices: ['accept', 'drop', 'reject'], default: 'accept', description: 'What happens to matching packets.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the rule should be there.' },
    comment: { type: 'str', description: 'Up to 64 letters, digits, spaces and _ . , : / @ + = ( ) -, kept with the rule.' },
    persistent: { type: 'bool', default: false, description: 'Also write the rule where the backend keeps it across reboots.' },
    backend: { type: 'str', choices: ['auto', ...BACKENDS], default: 'auto', description: 'The firewall to use; auto finds the one the host runs.' },
    allow_lockout: { type: 'bool', default: false, description: "Allow a rule set that drops vncplay's own SSH connection." },
    rollback_timeout: { type: 'int', min: 5, max: 3600, default: DEFAULT_ROLLBACK_S, description: 'Seconds after which the host undoes a change vncplay could not confirm (nftables, iptables).' },
  },
  check: firewallProblem,
});

function sources(args: FirewallArgs): string[] | null {
  if (args.source === undefined) return null;
  return Array.isArray(args.source) ? args.source : [args.source];
}

/** What the declarations cannot say: the port and each source parse, the comment is safe to pass to a backend. */
function firewallProblem(args: FirewallArgs): SpecProblem | undefined {
  if (!parsePort(args.port)) return { param: 'port', message: `port must be a port 1-65535 or a range like "5900-5999", got ${JSON.stringify(args.port)}` };
  const list = sources(args);
  if (list?.length === 0) return { param: 'source', message: 'source is an empty list', hint: 'omit source for any source' };
  const bad = (list ?? []).findIndex((s) => !parseCidr(s));
  if (bad >= 0) return { param: 'source', at: Array.isArray(args.source) ? [bad] : [], message: `source must be an IP address or CIDR, got ${JSON.stringify(list![bad])}` };
  if (args.comment !== undefined && !COMMENT_RE.test(args.comment)) {
    return { param: 'comment', message: 'comment may hold up to 64 letters, digits, spaces and _ . , : / @ + = ( ) - (no quotes or newlines)' };
  }
  return undefined;
}

/** The rules this task describes: one per source (or one for any source). */
export function rulesFromArgs(args: FirewallArgs): FwRule[] {
  const ports = parsePort(args.port);
  if (!ports) throw new ModuleError('E_FIREWALL_ARGS', firewallProblem(args)?.message ?? 'bad port');
  const srcs: (Cidr | null)[] = (sources(args) ?? [null]).map((s) => {
    if (s === null) return null;
    const c = parseCidr(s);
    if (!c) throw new ModuleError('E_FIREWALL_ARGS', `firewall: bad source ${JSON.stringify(s)}`);
    return c;
  });
  return srcs.map((source) => {
    const r: FwRule = { proto: args.proto ?? 'tcp', portFrom: ports.from, portTo: ports.to, source, action: args.action ?? 'accept' };
    if (args.comment) r.comment = args.comment;
    return r;
  });
}

/** The chain after this task: present replaces a same-key rule in place or adds it (accepts first); absent removes. */
export function applyTask(current: readonly FwRule[], wanted: readonly FwRule[], state: 'present' | 'absent'): FwRule[] {
  let after = [...current];
  for (const w of wanted) {
    const key = ruleKey(w);
    if (state === 'absent') {
      after = after.filter((r) => ruleKey(r) !== key);
      continue;
    }
    const idx = after.findIndex((r) => ruleKey(r) === key);
    if (idx >= 0) after[idx] = w;
    else if (w.action === 'accept') after.unshift(w);
    else after.push(w);
  }
  return after;
}

const tagsOf = (rules: readonly FwRule[]): string[] => rules.map(ruleTag);
const sameTags = (a: readonly FwRule[], b: readonly FwRule[]): boolean => tagsOf(a).join('\n') === tagsOf(b).join('\n');

/** $SSH_CONNECTION = "client_ip client_port server_ip server_port". */
export function parseSshConnection(text: string): SshEndpoint | undefined {
  const p = text.trim().split(/\s+/);
  if (p.length !== 4) return undefined;
  const port = Number(p[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { clientIp: p[0]!, serverPort: port };
}

/** Refuse a rule set that drops the controller's SSH connection (unless the play explicitly allows it). */
export function checkLockout(args: FirewallArgs, facts: FirewallFacts, before: readonly FwRule[], after: readonly FwRule[]): void {
  if (!facts.ssh || args.allow_lockout) return;
  const { clientIp, serverPort } = facts.ssh;
  const v = verdict(after, clientIp, 'tcp', serverPort);
  if (v === 'drop' || v === 'reject') {
    const was = verdict(before, clientIp, 'tcp', serverPort);
    throw new ModuleError(
      'E_FIREWALL_LOCKOUT',
      `firewall: refusing a rule set that would ${v} vncplay's own SSH connection (from ${clientIp} to port ${serverPort})` +
        (was === v ? ' (the current rules already would: fix them with allow_lockout: true)' : ''),
      { hint: 'add an accept rule for the controller first, narrow source/port, or set allow_lockout: true if you really mean it' },
    );
  }
}

/** One remote command that detects the backend and prints its current state in @@sections. */
export const GATHER_SCRIPT = String.raw`
want=$1
have() { command -v "$1" >/dev/null 2>&1; }
sel=$want
if [ "$sel" = auto ]; then
  if have firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null; then sel=firewalld
  elif have ufw && grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf; then sel=ufw
  elif have nft; then sel=nftables
  elif have iptables-save; then sel=iptables
  else echo "@@error no firewall tool found (nft, iptables, firewall-cmd, ufw)"; exit 0; fi
fi
echo "@@backend $sel"
case $sel in
nftables)
  have nft || { echo "@@error nft is not installed"; exit 0; }
  out=$(nft -j list table inet vncplay 2>&1); rc=$?
  echo "@@nft"
  if [ $rc -eq 0 ]; then printf '%s\n' "$out"; else case $out in *"No such file"*) ;; *) echo "@@error nft: $out"; exit 0;; esac; fi
  grep -qxF "$2" /etc/nftables.conf 2>/dev/null && echo "@@include"
  if [ -f /etc/nftables.d/vncplay.nft ]; then echo "@@persist"; cat /etc/nftables.d/vncplay.nft; fi ;;
iptables)
  have iptables-save || { echo "@@error iptables is not installed"; exit 0; }
  out=$(iptables-save -t filter 2>&1) || { echo "@@error iptables-save: $out"; exit 0; }
  echo "@@ipt"; printf '%s\n' "$out"
  if have ip6tables-save; then
    out=$(ip6tables-save -t filter 2>&1) || { echo "@@error ip6tables-save: $out"; exit 0; }
    echo "@@ip6t"; printf '%s\n' "$out"
  fi
  if [ -f /etc/iptables/rules.v4 ]; then echo "@@persist"; cat /etc/iptables/rules.v4; fi
  if [ -f /etc/iptables/rules.v6 ]; then echo "@@persist6"; cat /etc/iptables/rules.v6; fi ;;
firewalld)
  have firewall-cmd || { echo "@@error firewall-cmd is not installed"; exit 0; }
  echo "@@fwd-runtime"; firewall-cmd --list-rich-rules 2>&1
  echo "@@fwd-permanent"; firewall-cmd --permanent --list-rich-rules 2>&1 ;;
ufw)
  have ufw || { echo "@@error ufw is not installed"; exit 0; }
  echo "@@ufw"; ufw show added 2>&1 ;;
esac
exit 0
`;

/** Split the gather output into its @@sections. */
export function sections(out: string): Map<string, string> {
  const map = new Map<string, string>();
  let name: string | undefined;
  let buf: string[] = [];
  const flush = (): void => {
    if (name !== undefined) map.set(name, buf.join('\n'));
  };
  for (const line of out.split('\n')) {
    const m = /^@@(\S+)(?: (.*))?$/.exec(line);
    if (m) {
      flush();
      name = m[1]!;
      buf = m[2] === undefined ? [] : [m[2]];
    } else buf.push(line);
  }
  flush();
  return map;
}

export function factsFromGather(out: string, ssh: SshEndpoint | undefined): FirewallFacts {
  const s = sections(out);
  const err = s.get('error');
  if (err !== undefined) {
    const perm = /not permitted|permission denied|must be root/i.test(err);
    throw new ModuleError('E_FIREWALL_GATHER', `firewall: ${err.trim()}`, {
      hint: perm ? 'the firewall module needs root with CAP_NET_ADMIN on the host: set become: true (containers must grant CAP_NET_ADMIN)' : 'check that the chosen backend is installed and running',
    });
  }
  const backend = (s.get('backend') ?? '').trim() as Backend;
  if (!BACKENDS.includes(backend)) throw new ModuleError('E_FIREWALL_GATHER', `firewall: could not detect a backend (${out.slice(0, 200)})`);
  const facts: FirewallFacts = { backend };
  if (ssh) facts.ssh = ssh;
  const persist = s.get('persist');
  if (backend === 'nftables') {
    facts.nft = parseNftJson(s.get('nft') ?? '');
    facts.nftInclude = s.has('include');
    facts.persisted = persist === undefined ? null : persist;
  } else if (backend === 'iptables') {
    facts.ipt = parseIptablesSave(s.get('ipt') ?? '');
    if (s.has('ip6t')) facts.ip6t = parseIptablesSave(s.get('ip6t') ?? '');
    facts.persisted = persist === undefined ? null : persist;
    const persist6 = s.get('persist6');
    facts.persisted6 = persist6 === undefined ? null : persist6;
  } else if (backend === 'firewalld') {
    facts.firewalld = { runtime: parseRichRules(s.get('fwd-runtime') ?? ''), permanent: parseRichRules(s.get('fwd-permanent') ?? '') };
  } else {
    facts.ufw = parseUfwAdded(s.get('ufw') ?? '');
  }
  return facts;
}

async function gather(args: FirewallArgs, ctx: ModuleContext): Promise<FirewallFacts> {
  // sudo drops SSH_CONNECTION, so the login's own view is read without become.
  const sshRes = await ctx.exec(['sh', '-c', 'echo "$SSH_CONNECTION"'], { become: false });
  const ssh = parseSshConnection(sshRes.stdout);
  const res = await ctx.exec(['sh', '-c', GATHER_SCRIPT, 'sh', args.backend ?? 'auto', NFT_INCLUDE_LINE]);
  if (res.rc !== 0) {
    throw new ModuleError('E_FIREWALL_GATHER', `firewall: reading the rules failed on ${ctx.hostName}: ${(res.stderr || res.stdout).trim()}`, {
      hint: 'the firewall module needs root on the host: set become: true',
    });
  }
  return factsFromGather(res.stdout, ssh);
}

const ROLLBACK_DIR = '/run/vncplay';

/** Stable id of one transition (before → after), so finish() names the same armed rollback as the plan did. */
export function transitionId(backend: Backend, before: readonly FwRule[], after: readonly FwRule[]): string {
  return createHash('sha256').update(`${backend}\n${tagsOf(before).join('\n')}\n--\n${tagsOf(after).join('\n')}`).digest('hex').slice(0, 12);
}

/** Arms the host-side rollback: the script arrives on stdin; a transient systemd timer (or a detached sleep) runs it. */
export const ARM_SCRIPT = String.raw`
id=$1; t=$2; d=${ROLLBACK_DIR}
mkdir -p -m 0700 "$d" || exit 1
f="$d/fw-rollback-$id.sh"
cat > "$f" || exit 1
if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop "vncplay-fw-rollback-$id.timer" "vncplay-fw-rollback-$id.service" >/dev/null 2>&1
  systemctl reset-failed "vncplay-fw-rollback-$id.service" >/dev/null 2>&1
  systemd-run --quiet --unit="vncplay-fw-rollback-$id" --on-active="$t" --timer-property=AccuracySec=1s /bin/sh "$f" || exit 1
else
  setsid sh -c 'sleep "$1"; exec sh "$2"' sh "$t" "$f" </dev/null >/dev/null 2>&1 &
  echo $! > "$d/fw-rollback-$id.pid"
fi
`;

export const CANCEL_SCRIPT = String.raw`
id=$1; d=${ROLLBACK_DIR}
if [ -f "$d/fw-rollback-$id.pid" ]; then kill "$(cat "$d/fw-rollback-$id.pid")" 2>/dev/null; rm -f "$d/fw-rollback-$id.pid"; fi
systemctl stop "vncplay-fw-rollback-$id.timer" >/dev/null 2>&1
rm -f "$d/fw-rollback-$id.sh"
if systemctl is-active --quiet "vncplay-fw-rollback-$id.timer" 2>/dev/null; then echo "rollback timer still active" >&2; exit 1; fi
exit 0
`;

function b64restore(path: string, content: string | null | undefined, fallback: string): string {
  const text = content ?? fallback;
  return `printf '%s' '${Buffer.from(text).toString('base64')}' | base64 -d > '${path}'`;
}

/** The shell script the host runs to return to `before` (runtime rules, and the persistent file when it changes). */
export function rollbackScript(facts: FirewallFacts, before: readonly FwRule[], persistChanges: boolean): string {
  const lines = ['# vncplay firewall rollback: restores the rules from before the change'];
  if (facts.backend === 'nftables') {
    const nft = facts.nft?.table ? nftApplyScript(before) : nftDropTableScript();
    lines.push("nft -f - <<'VNCPLAY_EOF'", nft.trimEnd(), 'VNCPLAY_EOF');
    if (persistChanges) lines.push(b64restore(NFT_PERSIST_FILE, facts.persisted, '# vncplay: no persistent rules\n'));
  } else {
    lines.push("iptables-restore --noflush <<'VNCPLAY_EOF'", iptablesRestoreInput(before, true, 4).trimEnd(), 'VNCPLAY_EOF');
    if (facts.ip6t) lines.push("ip6tables-restore --noflush <<'VNCPLAY_EOF'", iptablesRestoreInput(before, true, 6).trimEnd(), 'VNCPLAY_EOF');
    if (persistChanges && facts.persisted != null) lines.push(b64restore(IPT_PERSIST_FILE, facts.persisted, ''));
    if (persistChanges && facts.persisted6 != null) lines.push(b64restore(IP6T_PERSIST_FILE, facts.persisted6, ''));
  }
  lines.push('rm -f "$0"', '');
  return lines.join('\n');
}

function currentRules(facts: FirewallFacts): FwRule[] {
  switch (facts.backend) {
    case 'nftables':
      return (facts.nft?.entries ?? []).flatMap((e) => (e.rule ? [e.rule] : []));
    case 'iptables': {
      // One list over both families: a rule for any source sits in both tables under the same tag.
      const seen = new Set<string>();
      const all: FwRule[] = [];
      for (const e of [...(facts.ipt?.entries ?? []), ...(facts.ip6t?.entries ?? [])]) {
        if (e.rule && !seen.has(e.tag)) {
          seen.add(e.tag);
          all.push(e.rule);
        }
      }
      return sortRules(all);
    }
    case 'firewalld':
      return facts.firewalld?.runtime ?? [];
    case 'ufw':
      return (facts.ufw ?? []).flatMap((e) => (e.rule ? [e.rule] : []));
  }
}

function diffOf(before: readonly FwRule[], after: readonly FwRule[], header: string): Change['diff'] {
  const text = (rules: readonly FwRule[]): string => (rules.length ? tagsOf(rules).join('\n') + '\n' : '');
  return { before: text(before), after: text(after), beforeHeader: header, afterHeader: header };
}

/** What plan() and finish() both derive from facts: the transition and whether it is armed. */
export interface Transition {
  before: FwRule[];
  after: FwRule[];
  runtime: boolean;
  persist: boolean;
  armed: boolean;
  id: string;
}

export function transition(args: FirewallArgs, facts: FirewallFacts): Transition {
  const wanted = rulesFromArgs(args);
  const state = args.state ?? 'present';
  const before = currentRules(facts);
  const after = applyTask(before, wanted, state);
  let runtime: boolean;
  let persist = false;
  if (facts.backend === 'nftables') {
    runtime = !sameTags(before, after);
    if (args.persistent) persist = facts.persisted !== nftPersistFile(after) || !facts.nftInclude;
  } else if (facts.backend === 'iptables') {
    const tableRules = (st: IptState | undefined): FwRule[] => (st?.entries ?? []).flatMap((e) => (e.rule ? [e.rule] : []));
    runtime = !sameTags(tableRules(facts.ipt), forFamily(after, 4)) || (facts.ip6t !== undefined && !sameTags(tableRules(facts.ip6t), forFamily(after, 6)));
    if (args.persistent) {
      const saved = (text: string | null | undefined, fam: 4 | 6): boolean =>
        text != null && vncplayLines(text).join('\n') === forFamily(after, fam).map((r) => iptablesRuleLine(r, fam)).join('\n');
      persist = !saved(facts.persisted, 4) || (facts.persisted6 != null && !saved(facts.persisted6, 6));
    }
  } else if (facts.backend === 'firewalld') {
    // Rich rules carry no comment: only the match and the action count.
    runtime = before.map(ruleKey).join('\n') !== after.map(ruleKey).join('\n');
    if (args.persistent) {
      const perm = facts.firewalld?.permanent ?? [];
      persist = wanted.some((w) => hasRule(perm, w) !== (state === 'present'));
    }
  } else {
    runtime = !sameTags(before, after);
  }
  const armed = runtime && facts.ssh !== undefined && (facts.backend === 'nftables' || facts.backend === 'iptables');
  return { before, after, runtime, persist, armed, id: transitionId(facts.backend, before, after) };
}

/** Facts → changes. Pure: every command is an argv array, every script a constant with data as arguments or stdin. */
export function planFirewall(args: FirewallArgs, facts: FirewallFacts): Change[] {
  const wanted = rulesFromArgs(args);
  if (facts.backend === 'iptables' && !facts.ip6t && wanted.some((r) => r.source?.family === 6)) {
    throw new ModuleError('E_FIREWALL_IPV6', 'firewall: an IPv6 source needs ip6tables, which this host does not have', {
      hint: 'install ip6tables (package iptables) or use backend: nftables',
    });
  }
  const t = transition(args, facts);
  const state = args.state ?? 'present';
  if (t.runtime) checkLockout(args, facts, t.before, t.after);
  const changes: Change[] = [];
  const summaryRules = wanted.map(ruleTag).join(', ');
  const header = {
    nftables: 'nftables table inet vncplay',
    iptables: 'iptables chain VNCPLAY',
    firewalld: 'firewalld rich rules',
    ufw: 'ufw rules',
  }[facts.backend];
  switch (facts.backend) {
    case 'nftables':
    case 'iptables': {
      if (t.runtime) {
        const steps: Step[] = [];
        if (t.armed) {
          steps.push({
            kind: 'exec',
            argv: ['sh', '-c', ARM_SCRIPT, 'sh', t.id, String(args.rollback_timeout ?? DEFAULT_ROLLBACK_S)],
            stdin: rollbackScript(facts, t.before, t.persist),
          });
        }
        if (facts.backend === 'nftables') steps.push({ kind: 'exec', argv: ['nft', '-f', '-'], stdin: nftApplyScript(t.after) });
        else {
          steps.push({ kind: 'exec', argv: ['iptables-restore', '--noflush'], stdin: iptablesRestoreInput(t.after, facts.ipt?.jump ?? false, 4) });
          if (facts.ip6t) steps.push({ kind: 'exec', argv: ['ip6tables-restore', '--noflush'], stdin: iptablesRestoreInput(t.after, facts.ip6t.jump, 6) });
        }
        changes.push({ summary: `${state === 'present' ? 'add' : 'remove'} ${summaryRules}`, diff: diffOf(t.before, t.after, header), steps });
      }
      if (t.persist) changes.push(persistChange(facts, t.after));
      break;
    }
    case 'firewalld': {
      const runtimeSteps = firewalldSteps(wanted, facts.firewalld?.runtime ?? [], state, false);
      if (runtimeSteps.length) changes.push({ summary: `${state === 'present' ? 'add' : 'remove'} ${summaryRules}`, diff: diffOf(t.before, t.after, header), steps: runtimeSteps });
      if (args.persistent) {
        const permSteps = firewalldSteps(wanted, facts.firewalld?.permanent ?? [], state, true);
        if (permSteps.length) changes.push({ summary: `persist ${summaryRules} (firewalld permanent)`, steps: permSteps });
      }
      break;
    }
    case 'ufw': {
      const steps: Step[] = [];
      for (const w of wanted) {
        const existing = (facts.ufw ?? []).find((e) => e.rule && ruleKey(e.rule) === ruleKey(w));
        if (state === 'absent') {
          if (existing?.rule) steps.push({ kind: 'exec', argv: ufwDelete(existing.rule) });
        } else if (!existing) steps.push({ kind: 'exec', argv: ufwAdd(w) });
        else if (existing.tag !== ruleTag(w) && existing.rule) {
          steps.push({ kind: 'exec', argv: ufwDelete(existing.rule) }, { kind: 'exec', argv: ufwAdd(w) });
        }
      }
      if (steps.length) changes.push({ summary: `${state === 'present' ? 'add' : 'remove'} ${summaryRules}`, diff: diffOf(t.before, t.after, header), steps });
      break;
    }
  }
  return changes;
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

/** nftables: our include file + the include line; iptables: rules.v4 re-saved from the running rules. */
function persistChange(facts: FirewallFacts, after: readonly FwRule[]): Change {
  if (facts.backend === 'nftables') {
    const script = [
      'mkdir -p /etc/nftables.d || exit 1',
      `cat > ${NFT_PERSIST_FILE}.vncplay-tmp && chmod 0644 ${NFT_PERSIST_FILE}.vncplay-tmp && mv -f ${NFT_PERSIST_FILE}.vncplay-tmp ${NFT_PERSIST_FILE} || exit 1`,
      `grep -qxF "$1" ${NFT_MAIN_CONF} 2>/dev/null || printf '%s\\n' "$1" >> ${NFT_MAIN_CONF}`,
    ].join('\n');
    return {
      summary: `persist table inet vncplay in ${NFT_PERSIST_FILE}`,
      diff: { path: NFT_PERSIST_FILE, before: facts.persisted ?? '', after: nftPersistFile(after) },
      steps: [{ kind: 'exec', argv: ['sh', '-c', script, 'sh', NFT_INCLUDE_LINE], stdin: nftPersistFile(after) }],
    };
  }
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

async function freshConnectionWorks(ctx: ModuleContext): Promise<{ ok: boolean; how: string }> {
  if (ctx.probeNewConnection) {
    try {
      return { ok: await ctx.probeNewConnection(), how: 'a fresh SSH connection' };
    } catch {
      return { ok: false, how: 'a fresh SSH connection' };
    }
  }
  // Without the runner's help only the existing connection can be checked (weaker: it may be an established flow).
  try {
    const r = await ctx.exec(['true'], { timeoutMs: 15_000, become: false });
    return { ok: r.rc === 0, how: 'the existing connection (the runner offers no fresh-connection probe)' };
  } catch {
    return { ok: false, how: 'the existing connection' };
  }
}

function report(args: FirewallArgs, facts: FirewallFacts): Record<string, unknown> {
  const t = transition(args, facts);
  return { backend: facts.backend, rules: tagsOf(t.after), lockout_checked: facts.ssh !== undefined };
}

/** After the steps: prove the host is still reachable, then cancel the armed rollback; otherwise undo now. */
async function finish(args: FirewallArgs, facts: FirewallFacts, _o: StepOutcome[], ctx: ModuleContext): Promise<ModuleReturn> {
  const t = transition(args, facts);
  const data = report(args, facts);
  const msg = planFirewall({ ...args, allow_lockout: true }, facts).map((c) => c.summary).join('; ');
  if (!t.runtime || facts.ssh === undefined) return { changed: true, data, msg };
  const probe = await freshConnectionWorks(ctx);
  data['verified_by'] = probe.how;
  if (probe.ok) {
    if (!t.armed) return { changed: true, data, msg };
    const res = await ctx.exec(['sh', '-c', CANCEL_SCRIPT, 'sh', t.id]);
    if (res.rc === 0) return { changed: true, data, msg };
    return {
      changed: true,
      failed: true,
      data,
      msg: `firewall: the change works but cancelling its armed rollback failed (${res.stderr.trim()}); the host will undo it within ${args.rollback_timeout ?? DEFAULT_ROLLBACK_S}s`,
    };
  }
  let undone = t.armed ? `the host undoes it by itself within ${args.rollback_timeout ?? DEFAULT_ROLLBACK_S}s (armed rollback)` : 'nothing was armed to undo it';
  if (t.armed) {
    const r = await ctx.exec(['sh', `${ROLLBACK_DIR}/fw-rollback-${t.id}.sh`], { timeoutMs: 15_000 }).catch(() => undefined);
    if (r?.rc === 0) {
      undone = 'rolled back now';
      // The armed timer has nothing left to do; stop it so it does not fire on a later change.
      await ctx.exec(['sh', '-c', CANCEL_SCRIPT, 'sh', t.id], { timeoutMs: 15_000 }).catch(() => undefined);
    }
  } else if (facts.backend === 'firewalld' || facts.backend === 'ufw') {
    undone = (await undoCommands(args, facts, ctx)) ? 'rolled back now' : 'rollback FAILED: fix the host by hand';
  }
  return {
    changed: true,
    failed: true,
    data,
    msg: `firewall: after the change ${probe.how} to ${ctx.hostName} failed; ${undone}`,
  };
}

/** firewalld/ufw have no armed rollback: best effort inverse commands over the existing connection. */
async function undoCommands(args: FirewallArgs, facts: FirewallFacts, ctx: ModuleContext): Promise<boolean> {
  const inverse: FirewallArgs = { ...args, state: (args.state ?? 'present') === 'present' ? 'absent' : 'present' };
  const after = transition(args, facts).after;
  const fakeFacts: FirewallFacts = { ...facts, ssh: undefined };
  if (facts.backend === 'firewalld') fakeFacts.firewalld = { runtime: after, permanent: facts.firewalld?.permanent ?? [] };
  if (facts.backend === 'ufw') fakeFacts.ufw = after.map((r) => ({ tag: ruleTag(r), rule: r }));
  try {
    for (const c of planFirewall({ ...inverse, persistent: false }, fakeFacts)) {
      for (const s of c.steps) if (s.kind === 'exec' && (await ctx.exec(s.argv)).rc !== 0) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export const firewall = plannedModule(spec, {
  kind: 'planned',
  name: 'firewall',
  where: 'host',
  gather,
  plan: planFirewall,
  finish,
  report,
});

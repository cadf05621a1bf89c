import { createHash } from 'node:crypto';
import { ModuleError } from '../../errors.js';
import type { Change, ModuleContext, ModuleReturn, StepOutcome } from '../types.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type SpecProblem } from '../spec/types.js';
import { sections, type Backend, type BackendPlan, type FactsOf, type FirewallArgs, type FirewallBackend, type FirewallFacts, type SshEndpoint, type Transition } from './backend.js';
import { firewalldBackend } from './firewalld.js';
import { iptablesBackend } from './iptables.js';
import { nftablesBackend } from './nftables.js';
import { COMMENT_RE, parseCidr, parsePort, ruleKey, ruleTag, tagsOf, verdict, type Cidr, type FwRule } from './rule.js';
import { ufwBackend } from './ufw.js';

export type { Backend, FirewallArgs, FirewallFacts, SshEndpoint, Transition } from './backend.js';

/**
 * firewall: vncplay's declarative rule over whatever firewall the host runs (nftables, iptables, firewalld, ufw).
 * One task = one rule per source. Safety: a change that would drop the SSH connection vncplay is using is refused
 * unless allow_lockout; on nftables/iptables every change is armed with a rollback the HOST runs by itself after
 * rollback_timeout seconds, which finish() cancels only after a fresh connection (ctx.probeNewConnection) works.
 */

/** `backend: auto` tries them in this order: a running firewalld, an enabled ufw, nft, iptables. */
const DETECTION_ORDER = [firewalldBackend, ufwBackend, nftablesBackend, iptablesBackend] as const;
const BACKEND_OF: { [B in Backend]: FirewallBackend<B> } = {
  nftables: nftablesBackend,
  iptables: iptablesBackend,
  firewalld: firewalldBackend,
  ufw: ufwBackend,
};

/** The backend that reads and changes these facts. */
function backendFor<B extends Backend>(facts: FactsOf<B>): FirewallBackend<B> {
  // BACKEND_OF maps each name to the backend of that name, so the facts' own tag picks the matching backend.
  return BACKEND_OF[facts.backend as B] as unknown as FirewallBackend<B>;
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
export const GATHER_SCRIPT = [
  'want=$1',
  'have() { command -v "$1" >/dev/null 2>&1; }',
  'sel=$want',
  'if [ "$sel" = auto ]; then',
  ...DETECTION_ORDER.map((b, i) => `  ${i === 0 ? 'if' : 'elif'} ${b.detect}; then sel=${b.name}`),
  '  else echo "@@error no firewall tool found (nft, iptables, firewall-cmd, ufw)"; exit 0; fi',
  'fi',
  'echo "@@backend $sel"',
  'case $sel in',
  ...BACKENDS.map((name) => `${name})${BACKEND_OF[name].readScript} ;;`),
  'esac',
  'exit 0',
  '',
].join('\n');

export function factsFromGather(out: string, ssh: SshEndpoint | undefined): FirewallFacts {
  const s = sections(out);
  const err = s.get('error');
  if (err !== undefined) {
    const perm = /not permitted|permission denied|must be root/i.test(err);
    throw new ModuleError('E_FIREWALL_GATHER', `firewall: ${err.trim()}`, {
      hint: perm ? 'the firewall module needs root with CAP_NET_ADMIN on the host: set become: true (containers must grant CAP_NET_ADMIN)' : 'check that the chosen backend is installed and running',
    });
  }
  const name = (s.get('backend') ?? '').trim();
  const backend = BACKENDS.find((b) => b === name);
  if (!backend) throw new ModuleError('E_FIREWALL_GATHER', `firewall: could not detect a backend (${out.slice(0, 200)})`);
  const facts = BACKEND_OF[backend].readState(s);
  if (ssh) facts.ssh = ssh;
  return facts;
}

async function gather(args: FirewallArgs, ctx: ModuleContext): Promise<FirewallFacts> {
  // sudo drops SSH_CONNECTION, so the login's own view is read without become.
  const sshRes = await ctx.exec(['sh', '-c', 'echo "$SSH_CONNECTION"'], { become: false });
  const ssh = parseSshConnection(sshRes.stdout);
  const res = await ctx.exec(['sh', '-c', GATHER_SCRIPT, 'sh', args.backend ?? 'auto']);
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

/** The shell script the host runs to return to `before` (runtime rules, and the persistent file when it changes). */
export function rollbackScript(facts: FirewallFacts, before: readonly FwRule[], persistChanges: boolean): string {
  const { recovery } = backendFor(facts);
  const restore = recovery.kind === 'armed' ? recovery.rollbackLines(facts, before, persistChanges) : [];
  return ['# vncplay firewall rollback: restores the rules from before the change', ...restore, 'rm -f "$0"', ''].join('\n');
}

function diffOf(before: readonly FwRule[], after: readonly FwRule[], header: string): Change['diff'] {
  const text = (rules: readonly FwRule[]): string => (rules.length ? tagsOf(rules).join('\n') + '\n' : '');
  return { before: text(before), after: text(after), beforeHeader: header, afterHeader: header };
}

export function transition(args: FirewallArgs, facts: FirewallFacts): Transition {
  const backend = backendFor(facts);
  const wanted = rulesFromArgs(args);
  const state = args.state ?? 'present';
  const before = backend.currentRules(facts);
  const after = applyTask(before, wanted, state);
  const runtime = backend.runtimeDiffers(facts, before, after);
  const persist = args.persistent === true && backend.persistence !== undefined && backend.persistence.differs(facts, wanted, state, after);
  const armed = runtime && facts.ssh !== undefined && backend.recovery.kind === 'armed';
  return { before, after, runtime, persist, armed, id: transitionId(facts.backend, before, after) };
}

/** Facts → changes. Pure: every command is an argv array, every script a constant with data as arguments or stdin. */
export function planFirewall(args: FirewallArgs, facts: FirewallFacts): Change[] {
  const backend = backendFor(facts);
  const wanted = rulesFromArgs(args);
  backend.refuse?.(facts, wanted);
  const t = transition(args, facts);
  const state = args.state ?? 'present';
  const plan: BackendPlan<Backend> = { facts, wanted, state, transition: t };
  const changes: Change[] = [];
  if (t.runtime) {
    checkLockout(args, facts, t.before, t.after);
    const steps = backend.runtimeSteps(plan);
    if (t.armed) {
      steps.unshift({
        kind: 'exec',
        argv: ['sh', '-c', ARM_SCRIPT, 'sh', t.id, String(args.rollback_timeout ?? DEFAULT_ROLLBACK_S)],
        stdin: rollbackScript(facts, t.before, t.persist),
      });
    }
    const summary = `${state === 'present' ? 'add' : 'remove'} ${wanted.map(ruleTag).join(', ')}`;
    if (steps.length) changes.push({ summary, diff: diffOf(t.before, t.after, backend.diffHeader), steps });
  }
  if (t.persist && backend.persistence) changes.push(backend.persistence.change(plan));
  return changes;
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
  } else if (backendFor(facts).recovery.kind === 'inverse') {
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
  const { recovery } = backendFor(facts);
  if (recovery.kind !== 'inverse') return false;
  const inverse: FirewallArgs = { ...args, state: (args.state ?? 'present') === 'present' ? 'absent' : 'present', persistent: false };
  const applied: FirewallFacts = { ...recovery.assumeApplied(facts, transition(args, facts).after), ssh: undefined };
  try {
    for (const c of planFirewall(inverse, applied)) {
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
  noop: (args, facts) => {
    const rules = rulesFromArgs(args).map(ruleTag).join(', ');
    const saved = args.persistent === true ? ' (running and saved rules)' : '';
    return `${facts.backend}${saved} has ${(args.state ?? 'present') === 'present' ? '' : 'no '}${rules}`;
  },
  finish,
  report,
});

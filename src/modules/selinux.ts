import { keyValues, SELINUX_STATUS_LINES, selinuxRuntime } from './selinux-common.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * selinux: ansible.posix.selinux. The running state comes from selinuxfs, the running policy from
 * /etc/selinux/config's SELINUXTYPE (libselinux's selinux_getpolicytype, "targeted" when unset), the configured
 * ones from `configfile`; `plan` is Ansible's main() as a pure function, and the file is rewritten line by line as
 * Ansible's set_config_state/set_config_policy do. On a host without SELinux only the configuration changes, and
 * the result says a reboot is needed.
 */
const spec = defineSpec({
  description: "Set SELinux's state (enforcing, permissive, disabled) and policy in its configuration file, and the running state where SELinux runs.",
  options: {
    state: { type: 'str', choices: ['enforcing', 'permissive', 'disabled'], required: true, description: 'The SELinux mode.' },
    policy: { type: 'str', description: 'The policy (targeted, mls …); required unless state is disabled.' },
    configfile: { type: 'str', default: '/etc/selinux/config', aliases: ['conf', 'file'], description: "SELinux's configuration file." },
    update_kernel_param: { type: 'bool', default: false, description: 'Also add or remove selinux=0 on the kernel command lines (grubby).' },
  },
});

type SelinuxArgs = ArgsOf<typeof spec.options>;

const GATHER = [
  ...SELINUX_STATUS_LINES,
  'conf=$1 policy=$2',
  'rt=$(sed -n "s/^SELINUXTYPE=//p" /etc/selinux/config 2>/dev/null | head -n 1)',
  'echo "runtime_policy=${rt:-targeted}"',
  'if [ -n "$policy" ] && [ -e "/etc/selinux/$policy/policy" ]; then echo policy_exists=1; fi',
  'if [ -f "$conf" ]; then echo config_exists=1; echo ---config---; cat -- "$conf"; fi',
].join('\n');

export interface SelinuxFacts {
  enabled: boolean;
  enforcing: boolean;
  runtimePolicy: string;
  policyExists: boolean;
  /** The configuration file's text, undefined when it does not exist. */
  config?: string;
}

/** get_config_state / get_config_policy: the value of the first `KEY=` line (split at '=', stripped). */
export function configValue(text: string, key: 'SELINUX' | 'SELINUXTYPE'): string | undefined {
  for (const line of text.split('\n')) if (new RegExp(`^${key}=`).test(line)) return (line.split('=')[1] ?? '').trim();
  return undefined;
}

/** set_config_state / set_config_policy: every `KEY=…` line replaced, or one appended; each line ends in \n. */
export function setConfigValue(text: string, key: 'SELINUX' | 'SELINUXTYPE', value: string): string {
  const lines = text.split('\n');
  // Python's readlines()+rstrip: no phantom line after a final newline.
  if (lines.at(-1) === '') lines.pop();
  let found = false;
  const out = lines.map((line) => {
    if (!new RegExp(`^${key}=`).test(line)) return line;
    found = true;
    return `${key}=${value}`;
  });
  if (!found) out.push(`${key}=${value}`);
  return `${out.join('\n')}\n`;
}

export interface SelinuxPlan {
  changed: boolean;
  msgs: string[];
  warnings: string[];
  rebootRequired: boolean;
  policy: string | undefined;
  /** The new configuration text, when it changes. */
  newConfig?: string;
  /** Set the running mode (setenforce) to this. */
  setenforce?: 'enforcing' | 'permissive';
  failure?: string;
  /** Check mode: Ansible returns `changed` alone as soon as a policy differs. */
  earlyExit?: boolean;
}

/** Ansible's main(), without update_kernel_param, as a pure function. */
export function planSelinux(args: Pick<SelinuxArgs, 'state' | 'policy' | 'configfile'>, facts: SelinuxFacts, check: boolean): SelinuxPlan {
  const plan: SelinuxPlan = { changed: false, msgs: [], warnings: [], rebootRequired: false, policy: args.policy };
  if (facts.config === undefined) return { ...plan, failure: `Unable to find file ${args.configfile}` };
  let config = facts.config;
  const configPolicy = configValue(config, 'SELINUXTYPE');
  const configState = configValue(config, 'SELINUX');
  const runtimeState = !facts.enabled ? 'disabled' : facts.enforcing ? 'enforcing' : 'permissive';
  if (args.state !== 'disabled' && !args.policy) return { ...plan, failure: "Policy is required if state is not 'disabled'" };
  const policy = args.policy || configPolicy;
  plan.policy = policy;
  if (policy !== facts.runtimePolicy) {
    if (check) return { ...plan, changed: true, earlyExit: true };
    plan.msgs.push(`Running SELinux policy changed from '${facts.runtimePolicy}' to '${String(policy)}'`);
    plan.changed = true;
  }
  if (policy !== configPolicy) {
    if (check) return { ...plan, changed: true, earlyExit: true };
    if (!facts.policyExists) return { ...plan, failure: `Policy ${String(policy)} does not exist in /etc/selinux/` };
    config = setConfigValue(config, 'SELINUXTYPE', String(policy));
    plan.msgs.push(`SELinux policy configuration in '${args.configfile}' changed from '${String(configPolicy)}' to '${String(policy)}'`);
    plan.changed = true;
  }
  if (args.state !== runtimeState) {
    if (facts.enabled) {
      if (args.state === 'disabled') {
        if (runtimeState !== 'permissive') {
          plan.setenforce = 'permissive';
          plan.warnings.push(`SELinux state temporarily changed from '${runtimeState}' to 'permissive'. State change will take effect next reboot.`);
          plan.changed = true;
        } else plan.warnings.push('SELinux state change will take effect next reboot');
        plan.rebootRequired = true;
      } else {
        plan.setenforce = args.state;
        plan.msgs.push(`SELinux state changed from '${runtimeState}' to '${args.state}'`);
        plan.changed = true;
      }
    } else {
      plan.warnings.push(`Reboot is required to set SELinux state to '${args.state}'`);
      plan.rebootRequired = true;
    }
  }
  if (args.state !== configState) {
    config = setConfigValue(config, 'SELINUX', args.state);
    plan.msgs.push(`Config SELinux state changed from '${String(configState)}' to '${args.state}'`);
    plan.changed = true;
  }
  if (config !== facts.config) plan.newConfig = config;
  return plan;
}

async function gather(args: SelinuxArgs, ctx: ModuleContext): Promise<SelinuxFacts | string> {
  const res = await ctx.exec(['sh', '-c', GATHER, 'sh', args.configfile, args.policy ?? '']);
  if (res.rc !== 0) return res.stderr.trim() || `reading the SELinux state failed (rc ${res.rc})`;
  const [head = '', config] = res.stdout.split(/^---config---\n/m);
  const kv = keyValues(head);
  const runtime = selinuxRuntime(kv);
  return {
    ...runtime,
    runtimePolicy: kv.get('runtime_policy') ?? 'targeted',
    policyExists: kv.get('policy_exists') === '1',
    ...(kv.get('config_exists') === '1' ? { config: config ?? '' } : {}),
  };
}

/** Replaces the file's content in place of a temporary file beside it, keeping its mode and owner. */
const WRITE_SCRIPT = 'f=$1; t=$(mktemp "$f.XXXXXX") || exit 1; cat > "$t" && chmod --reference="$f" "$t" && chown --reference="$f" "$t" && mv -f -- "$t" "$f" || { rm -f "$t"; exit 1; }';

export const selinuxModule = actionModule(spec, {
  kind: 'action',
  name: 'selinux',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    if (args.update_kernel_param) {
      return { failed: true, msg: "selinux: update_kernel_param (grubby) is not implemented by vncplay", data: { configfile: args.configfile } };
    }
    const facts = await gather(args, ctx);
    if (typeof facts === 'string') return { failed: true, msg: facts };
    const plan = planSelinux(args, facts, ctx.check);
    if (plan.failure) {
      const details = plan.failure.startsWith('Unable to find file') ? { details: 'Please install SELinux-policy package, if this package is not installed previously.' } : {};
      return { failed: true, msg: plan.failure, data: details };
    }
    for (const warning of plan.warnings) ctx.log(1, `warning: ${warning}`);
    if (plan.earlyExit) return { changed: true };
    if (!ctx.check) {
      if (plan.setenforce) {
        const res = await ctx.exec(['setenforce', plan.setenforce === 'enforcing' ? '1' : '0']);
        if (res.rc !== 0) return { failed: true, msg: `setenforce failed: ${res.stderr.trim()}` };
      }
      if (plan.newConfig !== undefined) {
        const res = await ctx.exec(['sh', '-c', WRITE_SCRIPT, 'sh', args.configfile], { stdin: plan.newConfig });
        if (res.rc !== 0) return { failed: true, msg: `writing ${args.configfile} failed: ${res.stderr.trim()}` };
      }
    }
    return {
      changed: plan.changed,
      msg: plan.msgs.join(', '),
      data: { configfile: args.configfile, policy: plan.policy ?? null, state: args.state, reboot_required: plan.rebootRequired },
    };
  },
});

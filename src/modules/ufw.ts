import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * community.general.ufw, as its own code does it (community.general 6, Debian's ansible): the ufw commands a task
 * asks for, in the order state, default, rule, logging; whether anything changed is what `ufw status verbose` and
 * the `### tuple` lines of ufw's user rules files say before and after. In check mode it runs the rule command with
 * `--dry-run` and compares the tuples it would write, and reads state, default and logging from the status.
 * The firewall module (vncplay.firewall, backend ufw) is the idempotent, lockout-safe way to open a VNC port; this one
 * is for playbooks written for Ansible.
 */
const options = {
  state: { type: 'str', choices: ['enabled', 'disabled', 'reloaded', 'reset'], description: '`enabled` starts ufw and enables it at boot; `disabled` stops it; `reloaded` reloads it; `reset` disables it and removes every rule.' },
  default: { type: 'str', choices: ['allow', 'deny', 'reject'], aliases: ['policy'], description: 'The default policy for `direction` (incoming when not given).' },
  logging: { type: 'str', choices: ['on', 'off', 'low', 'medium', 'high', 'full'], description: 'ufw logging, or its level.' },
  direction: { type: 'str', choices: ['in', 'incoming', 'out', 'outgoing', 'routed'], description: 'For `default`: incoming, outgoing or routed; for a rule: in or out.' },
  delete: { type: 'bool', default: false, description: 'Delete the rule instead of adding it.' },
  insert: { type: 'int', description: 'Insert the rule at this position (ufw numbers rules from 1), relative to `insert_relative_to`.' },
  insert_relative_to: { type: 'str', choices: ['first-ipv4', 'first-ipv6', 'last-ipv4', 'last-ipv6', 'zero'], default: 'zero', description: 'Where `insert` counts from.' },
  rule: { type: 'str', choices: ['allow', 'deny', 'limit', 'reject'], description: 'Add (or with `delete`, remove) a rule with this action.' },
  interface: { type: 'str', aliases: ['if'], description: 'The interface the rule applies to (with `direction`).' },
  interface_in: { type: 'str', aliases: ['if_in'], description: 'The incoming interface (route rules may name both).' },
  interface_out: { type: 'str', aliases: ['if_out'], description: 'The outgoing interface.' },
  log: { type: 'bool', default: false, description: 'Log new connections matched by the rule.' },
  from_ip: { type: 'str', default: 'any', aliases: ['from', 'src'], description: 'Source address or network.' },
  from_port: { type: 'str', description: 'Source port.' },
  to_ip: { type: 'str', default: 'any', aliases: ['dest', 'to'], description: 'Destination address or network.' },
  to_port: { type: 'str', aliases: ['port'], description: 'Destination port (or range, `5900:5910`).' },
  proto: { type: 'str', choices: ['any', 'tcp', 'udp', 'ipv6', 'esp', 'ah', 'gre', 'igmp'], aliases: ['protocol'], description: 'Protocol.' },
  name: { type: 'str', aliases: ['app'], description: 'An application profile (`ufw app list`).' },
  comment: { type: 'str', description: 'A comment kept with the rule.' },
  route: { type: 'bool', default: false, description: 'A route (forwarding) rule instead of an input/output rule.' },
} as const;

type UfwArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: 'Manage ufw, the uncomplicated firewall: its state, default policies, logging and rules (community.general.ufw).',
  options,
  required_one_of: [['state', 'default', 'rule', 'logging']],
  mutually_exclusive: [['name', 'proto', 'logging']],
  required_by: { interface_in: ['rule'], interface_out: ['rule'] },
  check(args) {
    if (args.default !== undefined && !['outgoing', 'incoming', 'routed', undefined].includes(args.direction)) {
      return { param: 'direction', message: 'For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.' };
    }
    if (args.rule !== undefined && !['in', 'out', undefined].includes(args.direction)) {
      return { param: 'direction', message: 'For rules, direction must be one of "in" and "out", or direction must not be specified.' };
    }
    if (args.rule !== undefined && !args.route && args.interface_in !== undefined && args.interface_out !== undefined) {
      return { param: 'interface_out', message: 'Only route rules can combine interface_in and interface_out' };
    }
    return undefined;
  },
});

const USER_RULES_FILES = ['/lib/ufw/user.rules', '/lib/ufw/user6.rules', '/etc/ufw/user.rules', '/etc/ufw/user6.rules', '/var/lib/ufw/user.rules', '/var/lib/ufw/user6.rules'];

/** A failed ufw command: the module stops there, with the commands it ran (as Ansible's fail_json does). */
class UfwFailure extends Error {}

interface Session {
  ctx: ModuleContext;
  commands: string[];
}

async function execute(s: Session, argv: string[], ignoreError = false): Promise<string> {
  s.commands.push(argv.join(' '));
  const res = await s.ctx.exec(['env', 'LANG=C', ...argv]);
  if (res.rc !== 0 && !ignoreError) throw new UfwFailure(res.stderr || res.stdout);
  return res.stdout;
}

const currentRules = (s: Session): Promise<string> => execute(s, ['grep', '-h', '^### tuple', ...USER_RULES_FILES], true);

/** Ansible's ufw_version(): (major, minor) of `ufw --version`. */
async function ufwVersion(s: Session): Promise<[number, number]> {
  const res = await s.ctx.exec(['ufw', '--version']);
  const m = /^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$/m.exec(res.stdout);
  if (res.rc !== 0 || !m) throw new UfwFailure('Failed to get ufw version.');
  return [Number(m[1]), Number(m[2])];
}

/** The rule number `insert` means once `insert_relative_to` is applied; undefined when past the last rule (append). */
async function insertPosition(args: UfwArgs, s: Session): Promise<number | undefined> {
  const insert = args.insert!;
  if (args.insert_relative_to === 'zero') return insert;
  const numbered = (await s.ctx.exec(['ufw', 'status', 'numbered'])).stdout;
  const lines = numbered.split('\n').flatMap((line) => {
    const m = /^\[ *([0-9]+)\] /.exec(line);
    return m ? [{ no: Number(m[1]), ipv6: line.includes('(v6)') }] : [];
  });
  const last = Math.max(0, ...lines.map((l) => l.no));
  const v4 = lines.filter((l) => !l.ipv6).map((l) => l.no);
  const hasV6 = lines.some((l) => l.ipv6);
  const relativeTo = {
    'first-ipv4': 1,
    'last-ipv4': v4.length > 0 ? Math.max(...v4) : 1,
    'first-ipv6': v4.length > 0 ? Math.max(...v4) + 1 : 1,
    'last-ipv6': hasV6 ? last : last + 1,
  }[args.insert_relative_to as 'first-ipv4' | 'last-ipv4' | 'first-ipv6' | 'last-ipv6'];
  const position = insert + relativeTo;
  return position > last ? undefined : position;
}

/** ufw [--dry-run] [route] [delete | insert NUM] RULE [in|out] [on IF] [log] from … [port …] to … [port …] [proto …] [app …] [comment …] */
async function ruleCommand(args: UfwArgs, s: Session, dryRun: string[]): Promise<string[]> {
  const argv = ['ufw', ...dryRun];
  if (args.route) argv.push('route');
  if (args.delete) argv.push('delete');
  if (args.insert !== undefined) {
    const position = await insertPosition(args, s);
    if (position !== undefined) argv.push('insert', String(position));
  }
  argv.push(args.rule!);
  if (args.direction) argv.push(args.direction);
  if (args.interface) argv.push('on', args.interface);
  if (args.interface_in) argv.push('in', 'on', args.interface_in);
  if (args.interface_out) argv.push('out', 'on', args.interface_out);
  if (args.log) argv.push('log');
  if (args.from_ip) argv.push('from', args.from_ip);
  if (args.from_port) argv.push('port', args.from_port);
  if (args.to_ip) argv.push('to', args.to_ip);
  if (args.to_port) argv.push('port', args.to_port);
  if (args.proto) argv.push('proto', args.proto);
  if (args.name) argv.push('app', args.name);
  const [major, minor] = await ufwVersion(s);
  // Comments are supported from ufw 0.35 on.
  if (args.comment && (major > 0 || minor >= 35)) argv.push('comment', args.comment);
  return argv;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*(?:\/\d{1,3})?/;
const tupleLines = (text: string): string[] => text.split(/(?<=\n)/).filter((l) => l.startsWith('### tuple'));
/** Ansible's filter_line_that_contains_ipv4/ipv6: tuple lines whose fields hold such an address. */
const linesWith = (text: string, family: RegExp): string => text.split(/(?<=\n)/).filter((l) => l.split(/\s+/).some((w) => family.test(w) && w !== 'any')).join('');

/** In check mode: would the rule change the tuples? (ufw's dry run prints the user rules it would write.) */
function ruleWouldChange(args: UfwArgs, preRules: string, dry: string): boolean {
  const lines = dry.split(/(?<=\n)/).filter((l) => l !== '');
  const skipping = lines.filter((l) => l.includes('Skipping')).length;
  if (skipping > 0 && skipping === lines.length) return false;
  const dryTuples = tupleLines(dry).join('');
  const isV4 = (ip: string | undefined): boolean => ip !== undefined && IPV4.test(ip);
  const isV6 = (ip: string | undefined): boolean => ip !== undefined && ip !== 'any' && IPV6.test(ip);
  if (isV4(args.from_ip) || isV4(args.to_ip)) return linesWith(preRules, IPV4) !== linesWith(dryTuples, IPV4);
  if (isV6(args.from_ip) || isV6(args.to_ip)) return linesWith(preRules, IPV6) !== linesWith(dryTuples, IPV6);
  return preRules !== dryTuples;
}

const STATE_COMMANDS = { enabled: 'enable', disabled: 'disable', reloaded: 'reload', reset: 'reset' } as const;

async function runUfw(args: UfwArgs, s: Session): Promise<ModuleReturn> {
  const check = s.ctx.check;
  const dryRun = check ? ['--dry-run'] : [];
  const preState = await execute(s, ['ufw', 'status', 'verbose']);
  const preRules = await currentRules(s);
  let changed = false;
  if (args.state !== undefined) {
    if (args.state === 'reloaded' || args.state === 'reset') changed = true;
    if (check) {
      // " active": "active" alone would also match "inactive".
      const enabled = preState.includes(' active');
      if ((args.state === 'disabled' && enabled) || (args.state === 'enabled' && !enabled)) changed = true;
    } else {
      await execute(s, ['ufw', '-f', STATE_COMMANDS[args.state]]);
    }
  }
  if (args.default !== undefined) {
    if (check) {
      const m = /Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)/.exec(preState);
      if (m) {
        const current = { incoming: m[1], outgoing: m[2], routed: m[3] }[(args.direction ?? 'incoming') as 'incoming' | 'outgoing' | 'routed'];
        if (current !== args.default && current !== 'disabled') changed = true;
      } else {
        changed = true;
      }
    } else {
      await execute(s, ['ufw', 'default', args.default, ...(args.direction ? [args.direction] : [])]);
    }
  }
  if (args.rule !== undefined) {
    const dry = await execute(s, await ruleCommand(args, s, dryRun));
    if (check && ruleWouldChange(args, preRules, dry)) changed = true;
  }
  if (args.logging !== undefined) {
    const m = /Logging: (on|off)(?: \(([a-z]+)\))?/.exec(preState);
    if (!m) changed = true;
    else if (args.logging !== 'off') changed ||= m[1] === 'off' || (args.logging !== 'on' && args.logging !== m[2]);
    else changed ||= m[1] !== 'off';
    if (!check) await execute(s, ['ufw', 'logging', args.logging]);
  }
  if (check) return { changed, data: { commands: s.commands } };
  const postState = await execute(s, ['ufw', 'status', 'verbose']);
  if (!changed) changed = preState !== postState || preRules !== (await currentRules(s));
  return { changed, msg: postState.trimEnd(), data: { commands: s.commands } };
}

export const ufwModule = actionModule(spec, {
  kind: 'action',
  name: 'ufw',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const session: Session = { ctx, commands: [] };
    try {
      return await runUfw(args, session);
    } catch (e) {
      if (!(e instanceof UfwFailure)) throw e;
      return { failed: true, msg: e.message, data: { commands: session.commands } };
    }
  },
});

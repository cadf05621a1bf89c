import { ModuleError } from '../errors.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * community.general.timezone, choosing its way as Ansible does: `timedatectl` when `timedatectl` (status) works —
 * as on the nspawn fleet hosts, where systemd-timedated runs — else Debian's files: /etc/timezone and the
 * /etc/localtime link (the hardware clock setting needs timedatectl here).
 */
const options = {
  name: { type: 'str', description: 'Time zone name from /usr/share/zoneinfo (Europe/Berlin, Etc/UTC).' },
  hwclock: { type: 'str', choices: ['local', 'UTC'], aliases: ['rtc'], description: 'Whether the hardware clock keeps local time or UTC.' },
} as const;

type TimezoneArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: "Set the host's time zone (and whether the hardware clock is in local time or UTC).",
  options,
  required_one_of: [['hwclock', 'name']],
});

export interface TimezoneFacts {
  /** timedatectl status worked: it sets the values; else the files do. */
  systemd: boolean;
  timedatectl: string;
  name: string;
  hwclock: 'local' | 'UTC';
  /** /usr/share/zoneinfo/NAME is a file. */
  known: boolean;
}

/** timedatectl's rc and path, its status, /etc/timezone, whether the zone file exists. */
const READ = [
  't=$(command -v timedatectl); s=$(LC_ALL=C timedatectl status 2>/dev/null); rc=$?; [ -n "$t" ] || rc=127',
  'printf "%s %s\\n" "$rc" "$t"; printf "%s" "$s" | base64 -w0; echo',
  'printf "%s\\n" "$(head -n1 /etc/timezone 2>/dev/null)"',
  '[ -z "$1" ] || [ -f "/usr/share/zoneinfo/$1" ] && echo known || echo unknown',
  'grep -qx LOCAL /etc/adjtime 2>/dev/null && echo local || echo UTC',
].join('\n');

export function parseTimezoneRead(stdout: string): TimezoneFacts {
  const [head = '', status = '', file = '', known = '', clock = ''] = stdout.split('\n');
  const [rc, timedatectl = ''] = head.split(' ');
  const text = Buffer.from(status, 'base64').toString('utf8');
  const systemd = rc === '0';
  const name = systemd ? (/^\s*Time ?zone\s*:\s*(\S+)/m.exec(text)?.[1] ?? '') : file.trim();
  const rtc = /^\s*RTC in local TZ\s*:\s*(\S+)/m.exec(text)?.[1];
  const hwclock = systemd ? (rtc === 'yes' ? 'local' : 'UTC') : clock === 'local' ? 'local' : 'UTC';
  return { systemd, timedatectl, name, hwclock, known: known === 'known' };
}

export function planTimezone(args: TimezoneArgs, facts: TimezoneFacts): Change[] {
  if (args.name !== undefined && !facts.known) throw new ModuleError('E_TIMEZONE_UNKNOWN', `given timezone "${args.name}" is not available`);
  const changes: Change[] = [];
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  if (args.name !== undefined && args.name !== facts.name) {
    before['name'] = facts.name;
    after['name'] = args.name;
    const steps: Step[] = facts.systemd
      ? [{ kind: 'exec', argv: [facts.timedatectl, 'set-timezone', args.name] }]
      : [
          { kind: 'write', path: '/etc/timezone', content: `${args.name}\n` },
          { kind: 'exec', argv: ['ln', '-sfn', `/usr/share/zoneinfo/${args.name}`, '/etc/localtime'] },
        ];
    const summary = facts.systemd ? `executed \`${facts.timedatectl} set-timezone ${args.name}\`` : `set the time zone to ${args.name} in /etc/timezone and /etc/localtime`;
    changes.push({ summary, diff: { before: { name: facts.name }, after: { name: args.name } }, steps });
  }
  if (args.hwclock !== undefined && args.hwclock !== facts.hwclock) {
    if (!facts.systemd) throw new ModuleError('E_TIMEZONE_HWCLOCK', 'setting hwclock needs timedatectl on this host', { hint: 'leave hwclock out, or set it where systemd-timedated runs' });
    const local = args.hwclock === 'local' ? 'yes' : 'no';
    changes.push({
      summary: `executed \`${facts.timedatectl} set-local-rtc ${local}\``,
      diff: { before: { hwclock: facts.hwclock }, after: { hwclock: args.hwclock } },
      steps: [{ kind: 'exec', argv: [facts.timedatectl, 'set-local-rtc', local] }],
    });
  }
  return changes;
}

export const timezoneModule = plannedModule(spec, {
  kind: 'planned',
  name: 'timezone',
  where: 'host',
  async gather(args, ctx): Promise<TimezoneFacts> {
    const res = await ctx.exec(['sh', '-c', READ, 'sh', args.name ?? '']);
    if (res.rc !== 0) throw new ModuleError('E_TIMEZONE_READ', `could not read the time zone: ${res.stderr.trim()}`);
    return parseTimezoneRead(res.stdout);
  },
  plan: planTimezone,
  noop: (args, facts) =>
    [args.name !== undefined ? `time zone is ${facts.name}` : '', args.hwclock !== undefined ? `hardware clock is in ${facts.hwclock}` : ''].filter(Boolean).join(', '),
});

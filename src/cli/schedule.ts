import { execFile } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExitCode, UsageError } from '../errors.js';
import { lastValue, parseSubArgs, secondsOption } from '../drill/args.js';
import { checkUnitName, cronLine, renderService, renderTimer, ScheduleError, type DrillSchedule } from '../drill/schedule.js';
import { vncplayBin } from './drill.js';

export const scheduleUsage = `usage: vncplay schedule drill --on-calendar SPEC --playbook FILE -i INVENTORY [-e VARS]…
         [--unit-dir DIR] [--name NAME] [--log-dir DIR] [--report-dir DIR] [--rto-budget S] [--metrics-file PATH]
         [--user USER]

  Writes NAME.service and NAME.timer (default vncplay-drill) into --unit-dir (default /etc/systemd/system) and
  prints the equivalent /etc/cron.d line. The service runs \`vncplay drill run\`: the playbook with --json into
  --log-dir (default /var/log/vncplay), then the report into --report-dir (default /var/lib/vncplay/drill);
  its exit code is the drill's, so a failed drill is a failed unit.
`;

const FLAGS = ['--on-calendar', '--playbook', '-i', '--inventory', '-e', '--extra-vars', '--unit-dir', '--name', '--log-dir', '--report-dir', '--rto-budget', '--metrics-file', '--user'];

/** `vncplay schedule drill …`. */
export async function scheduleCommand(argv: readonly string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '-h' || what === '--help') {
    process.stdout.write(scheduleUsage);
    return ExitCode.ok;
  }
  if (what !== 'drill') throw new UsageError('E_USAGE', what === undefined ? 'schedule what?' : `cannot schedule '${what}'`, { hint: scheduleUsage });
  const a = parseSubArgs(rest, FLAGS, [], scheduleUsage);
  if (a.positional.length) throw new UsageError('E_USAGE', `unexpected argument '${a.positional[0]!}'`, { hint: scheduleUsage });
  const need = (name: string, ...alias: string[]): string => {
    const v = lastValue(a, name, ...alias);
    if (v === undefined) throw new UsageError('E_USAGE', `schedule drill needs ${name}`, { hint: scheduleUsage });
    return v;
  };
  const onCalendar = need('--on-calendar');
  const playbook = path.resolve(need('--playbook'));
  const inventory = need('-i', '--inventory');
  const name = lastValue(a, '--name') ?? 'vncplay-drill';
  checkUnitName(name);
  const budget = secondsOption(lastValue(a, '--rto-budget'), '--rto-budget', scheduleUsage);
  await checkCalendar(onCalendar);

  const runArgs = [
    '--log-dir', path.resolve(lastValue(a, '--log-dir') ?? '/var/log/vncplay'),
    '--out', path.resolve(lastValue(a, '--report-dir') ?? '/var/lib/vncplay/drill'),
    ...(budget !== undefined ? ['--rto-budget', String(budget)] : []),
  ];
  // The timer runs from / with no shell: every path the playbook run needs must be absolute.
  // An inline host list ('h2,h3,') stays as it is; anything else is a path, made absolute even if it does not exist
  // yet (the timer's working directory is the playbook's folder, not this one).
  const inv = inventory.includes(',') ? inventory : path.resolve(inventory);
  const extra = [...(a.values.get('-e') ?? []), ...(a.values.get('--extra-vars') ?? [])].flatMap((e) => ['-e', e.startsWith('@') ? `@${path.resolve(e.slice(1))}` : e]);
  const metrics = lastValue(a, '--metrics-file');
  const sched: DrillSchedule = {
    name,
    onCalendar,
    command: [process.execPath, vncplayBin(), 'drill', 'run', ...runArgs, '--', playbook, '-i', inv, ...extra, ...(metrics ? ['--metrics-file', path.resolve(metrics)] : [])],
    workingDirectory: path.dirname(playbook),
    description: `vncplay failover drill (${path.basename(playbook)})`,
  };
  const user = lastValue(a, '--user');
  if (user !== undefined) sched.user = user;

  const unitDir = lastValue(a, '--unit-dir') ?? '/etc/systemd/system';
  await mkdir(unitDir, { recursive: true });
  const service = path.join(unitDir, `${name}.service`);
  const timer = path.join(unitDir, `${name}.timer`);
  await writeAtomic(service, renderService(sched));
  await writeAtomic(timer, renderTimer(sched));
  process.stdout.write(`wrote ${service}\nwrote ${timer}\n`);
  process.stdout.write(`enable with: systemctl daemon-reload && systemctl enable --now ${name}.timer\n`);
  const cron = cronLine(sched);
  process.stdout.write(
    cron
      ? `or, with cron instead of the timer, this line in /etc/cron.d/${name}:\n${cron}\n`
      : `no simple cron equivalent of '${onCalendar}': write the cron schedule by hand for the same command\n`,
  );
  return ExitCode.ok;
}

/** systemd-analyze's opinion of the calendar spec, when it is installed (it is on every systemd machine). */
async function checkCalendar(spec: string): Promise<void> {
  try {
    await promisify(execFile)('systemd-analyze', ['calendar', spec], { timeout: 10_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return;
    throw new ScheduleError('E_SCHEDULE_CALENDAR', `'${spec}' is not a systemd calendar expression: ${(e.stderr ?? e.message).trim()}`, {
      hint: "examples: 'Sun 03:00', 'daily', 'Mon..Fri *-*-* 02:30' (see man systemd.time)",
    });
  }
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

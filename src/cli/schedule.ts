import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExitCode, UsageError } from '../errors.js';
import { lastValue, parseSubArgs, secondsOption, type SubArgs } from '../drill/args.js';
import { checkUnitName, cronLine, renderService, renderTimer, ScheduleError, type Schedule } from '../drill/schedule.js';
import { replaceFile } from '../output/replace-file.js';
import { vncplayBin } from './drill.js';

export const scheduleUsage = `usage: vncplay schedule drill    --on-calendar SPEC --playbook FILE -i INVENTORY [-e VARS]… [common options]
                                [--report-dir DIR] [--rto-budget S] [--metrics-file PATH]
       vncplay schedule playbook --on-calendar SPEC --playbook FILE -i INVENTORY [-e VARS]… [common options]
                                [--metrics-file PATH]
       vncplay schedule probe    --on-calendar SPEC -i INVENTORY [-l PATTERN] [--displays N,…] --textfile PATH
                                [common options]
  common options: [--unit-dir DIR] [--name NAME] [--log-dir DIR] [--user USER]

  Writes NAME.service and NAME.timer into --unit-dir (default /etc/systemd/system) and prints the equivalent
  /etc/cron.d line. The unit's result is the command's exit code, so a failed run is a failed unit.
  drill     runs \`vncplay drill run\`: the playbook with --json into --log-dir (default /var/log/vncplay), then
            the report into --report-dir (default /var/lib/vncplay/drill). NAME defaults to vncplay-drill.
  playbook  runs the playbook with --json, appended to --log-dir/NAME.ndjson (one run_start … run_end per run);
            --metrics-file writes the run's Prometheus metrics. NAME defaults to vncplay-PLAYBOOK.
  probe     runs \`vncplay probe\` and writes its metrics to --textfile for node_exporter's textfile collector
            (e.g. --on-calendar '*:*:0/30' for every 30 s). NAME defaults to vncplay-probe.
`;

const COMMON = ['--on-calendar', '-i', '--inventory', '--unit-dir', '--name', '--log-dir', '--user'];
const FLAGS = {
  drill: [...COMMON, '--playbook', '-e', '--extra-vars', '--report-dir', '--rto-budget', '--metrics-file'],
  playbook: [...COMMON, '--playbook', '-e', '--extra-vars', '--metrics-file'],
  probe: [...COMMON, '-l', '--limit', '--displays', '--textfile', '--timeout'],
} as const;
type Kind = keyof typeof FLAGS;

/** `vncplay schedule drill|playbook|probe …`. */
export async function scheduleCommand(argv: readonly string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '-h' || what === '--help') {
    process.stdout.write(scheduleUsage);
    return ExitCode.ok;
  }
  if (what !== 'drill' && what !== 'playbook' && what !== 'probe') {
    throw new UsageError('E_USAGE', what === undefined ? 'schedule what?' : `cannot schedule '${what}'`, { hint: scheduleUsage });
  }
  const a = parseSubArgs(rest, FLAGS[what], [], scheduleUsage);
  if (a.positional.length) throw new UsageError('E_USAGE', `unexpected argument '${a.positional[0]!}'`, { hint: scheduleUsage });
  const need = (name: string, ...alias: string[]): string => {
    const v = lastValue(a, name, ...alias);
    if (v === undefined) throw new UsageError('E_USAGE', `schedule ${what} needs ${name}`, { hint: scheduleUsage });
    return v;
  };
  const onCalendar = need('--on-calendar');
  const inventory = absoluteInventory(need('-i', '--inventory'));
  const build = { drill: drillSchedule, playbook: playbookSchedule, probe: probeSchedule }[what];
  const sched = build(a, need, inventory, onCalendar);
  checkUnitName(sched.name);
  const user = lastValue(a, '--user');
  if (user !== undefined) sched.user = user;
  await checkCalendar(onCalendar);
  await writeUnits(sched, lastValue(a, '--unit-dir') ?? '/etc/systemd/system');
  return ExitCode.ok;
}

type Need = (name: string, ...alias: string[]) => string;

function drillSchedule(a: SubArgs, need: Need, inventory: string, onCalendar: string): Schedule {
  const playbook = path.resolve(need('--playbook'));
  const budget = secondsOption(lastValue(a, '--rto-budget'), '--rto-budget', scheduleUsage);
  const runArgs = [
    '--log-dir', logDir(a),
    '--out', path.resolve(lastValue(a, '--report-dir') ?? '/var/lib/vncplay/drill'),
    ...(budget !== undefined ? ['--rto-budget', String(budget)] : []),
  ];
  const metrics = lastValue(a, '--metrics-file');
  return {
    name: lastValue(a, '--name') ?? 'vncplay-drill',
    onCalendar,
    command: [process.execPath, vncplayBin(), 'drill', 'run', ...runArgs, '--', playbook, '-i', inventory, ...extraVars(a), ...(metrics ? ['--metrics-file', path.resolve(metrics)] : [])],
    workingDirectory: path.dirname(playbook),
    description: `vncplay failover drill (${path.basename(playbook)})`,
  };
}

function playbookSchedule(a: SubArgs, need: Need, inventory: string, onCalendar: string): Schedule {
  const playbook = path.resolve(need('--playbook'));
  const name = lastValue(a, '--name') ?? `vncplay-${path.basename(playbook).replace(/\.ya?ml$/, '').replace(/[^A-Za-z0-9:_.-]/g, '_')}`;
  const metrics = lastValue(a, '--metrics-file');
  return {
    name,
    onCalendar,
    command: [process.execPath, vncplayBin(), playbook, '-i', inventory, ...extraVars(a), '--json', ...(metrics ? ['--metrics-file', path.resolve(metrics)] : [])],
    workingDirectory: path.dirname(playbook),
    description: `vncplay ${path.basename(playbook)}`,
    outputFile: path.join(logDir(a), `${name}.ndjson`),
  };
}

function probeSchedule(a: SubArgs, need: Need, inventory: string, onCalendar: string): Schedule {
  const textfile = path.resolve(need('--textfile'));
  const pass = (...names: string[]): string[] => names.flatMap((n) => (lastValue(a, n) !== undefined ? [n, lastValue(a, n)!] : []));
  const name = lastValue(a, '--name') ?? 'vncplay-probe';
  return {
    name,
    onCalendar,
    command: [process.execPath, vncplayBin(), 'probe', '-i', inventory, ...pass('-l', '--limit', '--displays', '--timeout'), '--textfile', textfile],
    workingDirectory: '/',
    description: 'vncplay RFB probe (rfbserver_up)',
    outputFile: path.join(logDir(a), `${name}.log`),
    // A probe every few seconds needs the timer to fire on time, not within systemd's default minute.
    accuracy: '1s',
  };
}

function logDir(a: SubArgs): string {
  return path.resolve(lastValue(a, '--log-dir') ?? '/var/log/vncplay');
}

/**
 * The timer runs from / with no shell: every path the run needs must be absolute. An inline host list ('h2,h3,')
 * stays as it is; anything else is a path, made absolute even if it does not exist yet.
 */
function absoluteInventory(inventory: string): string {
  return inventory.includes(',') ? inventory : path.resolve(inventory);
}

function extraVars(a: SubArgs): string[] {
  return [...(a.values.get('-e') ?? []), ...(a.values.get('--extra-vars') ?? [])].flatMap((e) => ['-e', e.startsWith('@') ? `@${path.resolve(e.slice(1))}` : e]);
}

async function writeUnits(sched: Schedule, unitDir: string): Promise<void> {
  await mkdir(unitDir, { recursive: true });
  const service = path.join(unitDir, `${sched.name}.service`);
  const timer = path.join(unitDir, `${sched.name}.timer`);
  await replaceFile(service, renderService(sched));
  await replaceFile(timer, renderTimer(sched));
  process.stdout.write(`wrote ${service}\nwrote ${timer}\n`);
  if (sched.outputFile) {
    // systemd opens StandardOutput=append:FILE itself and creates the file, not its folder.
    await mkdir(path.dirname(sched.outputFile), { recursive: true });
    process.stdout.write(`each run's output is appended to ${sched.outputFile}\n`);
  }
  process.stdout.write(`enable with: systemctl daemon-reload && systemctl enable --now ${sched.name}.timer\n`);
  const cron = cronLine(sched);
  process.stdout.write(
    cron
      ? `or, with cron instead of the timer, this line in /etc/cron.d/${sched.name}:\n${cron}\n`
      : `no simple cron equivalent of '${sched.onCalendar}': write the cron schedule by hand for the same command\n`,
  );
}

/** systemd-analyze's opinion of the calendar spec, when it is installed (it is on every systemd machine). */
async function checkCalendar(spec: string): Promise<void> {
  try {
    await promisify(execFile)('systemd-analyze', ['calendar', spec], { timeout: 10_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return;
    throw new ScheduleError('E_SCHEDULE_CALENDAR', `'${spec}' is not a systemd calendar expression: ${(e.stderr ?? e.message).trim()}`, {
      hint: "examples: 'Sun 03:00', 'daily', 'Mon..Fri *-*-* 02:30', '*:*:0/30' (see man systemd.time)",
    });
  }
}

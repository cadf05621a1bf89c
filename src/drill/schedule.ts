import { joinArgv } from '../connection/quote.js';
import { UsageError } from '../errors.js';

/** Bad schedule options (calendar expression, unit name). Exit 5 like other command-line mistakes. */
export class ScheduleError extends UsageError {}

/** A command run on a systemd calendar: a drill, any playbook, or the RFB probe (`vncplay schedule …`). */
export interface Schedule {
  /** Unit base name: NAME.service + NAME.timer. */
  name: string;
  /** systemd OnCalendar expression ('Sun 03:00', 'daily', 'Mon..Fri *-*-* 02:30'). */
  onCalendar: string;
  /** The command the service runs, as argv (absolute paths: systemd has no PATH lookup for relative ones). */
  command: string[];
  workingDirectory: string;
  description: string;
  /** Run as this user (default root, as the unit directory is the system's). */
  user?: string;
  /** Append the command's stdout to this file (absolute) instead of the journal; stderr stays in the journal. */
  outputFile?: string;
  /** The timer's AccuracySec= (systemd's default is 1min: too coarse for a probe every 30 s). */
  accuracy?: string;
}

const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;

export function checkUnitName(name: string): void {
  if (!UNIT_NAME.test(name) || name.endsWith('.service') || name.endsWith('.timer')) {
    throw new ScheduleError('E_SCHEDULE_NAME', `'${name}' is not a usable unit name`, {
      hint: 'letters, digits, ":", "_", "." and "-" only, without .service/.timer (both files are written)',
    });
  }
}

/**
 * One word of a systemd Exec line. This is systemd's own grammar, not a shell (no shell ever sees it): `%` starts
 * a specifier and `$` a variable, so both are doubled; words with spaces or quotes go in double quotes with C escapes.
 */
export function systemdWord(word: string): string {
  if (word.includes('\0') || word.includes('\n')) {
    throw new ScheduleError('E_SCHEDULE_ARG', `argument ${JSON.stringify(word.slice(0, 60))} contains a NUL or newline`, {
      hint: 'unit files cannot carry such arguments; use a file (e.g. -e @vars.yml) instead',
    });
  }
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (/^[A-Za-z0-9_@+=:,./%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A path in a unit setting such as StandardOutput=append:PATH, where only specifiers need escaping. */
function systemdPath(file: string): string {
  if (/[\s\n]/.test(file)) throw new ScheduleError('E_SCHEDULE_ARG', `log file '${file}' contains white space`, { hint: 'systemd cannot append to such a path; choose another --log-dir' });
  return file.replaceAll('%', '%%');
}

export function systemdExecLine(argv: readonly string[]): string {
  return argv.map(systemdWord).join(' ');
}

export function renderService(s: Schedule): string {
  return [
    '# Written by `vncplay schedule`. The timer of the same name starts it.',
    '[Unit]',
    `Description=${s.description}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    ...(s.user ? [`User=${s.user}`] : []),
    `WorkingDirectory=${systemdWord(s.workingDirectory)}`,
    // The command's own exit code is the unit's result: `systemctl status` and OnFailure= see a failed run.
    `ExecStart=${systemdExecLine(s.command)}`,
    ...(s.outputFile ? [`StandardOutput=append:${systemdPath(s.outputFile)}`] : []),
    'TimeoutStartSec=30min',
    '',
  ].join('\n');
}

export function renderTimer(s: Schedule): string {
  return [
    '# Written by `vncplay schedule`.',
    '[Unit]',
    `Description=${s.description} (schedule)`,
    '',
    '[Timer]',
    `OnCalendar=${s.onCalendar}`,
    // A drill missed while the controller was off runs at the next boot rather than being skipped silently.
    'Persistent=true',
    ...(s.accuracy ? [`AccuracySec=${s.accuracy}`] : []),
    `Unit=${s.name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function cronDays(spec: string): string | undefined {
  const parts = spec.split(',').map((p) => {
    const range = p.split('..');
    const idx = range.map((d) => DAYS.findIndex((n) => n.toLowerCase() === d.slice(0, 3).toLowerCase()));
    if (idx.some((i) => i < 0) || range.length > 2) return undefined;
    return idx.join('-');
  });
  return parts.some((p) => p === undefined) ? undefined : parts.join(',');
}

/**
 * The cron schedule of the common OnCalendar forms ('[DAYS] [*-*-*] HH:MM[:SS]', 'daily', 'weekly', 'hourly');
 * undefined when the expression has no simple cron equivalent (the caller says so instead of guessing).
 */
export function calendarToCron(onCalendar: string): string | undefined {
  const shorthand: Record<string, string> = { hourly: '0 * * * *', daily: '0 0 * * *', weekly: '0 0 * * 1', monthly: '0 0 1 * *' };
  const key = onCalendar.trim().toLowerCase();
  if (shorthand[key]) return shorthand[key];
  const words = onCalendar.trim().split(/\s+/);
  let dow = '*';
  if (words.length > 1 && /^[A-Za-z]/.test(words[0]!)) {
    const d = cronDays(words.shift()!);
    if (d === undefined) return undefined;
    dow = d;
  }
  if (words.length === 2) {
    if (words[0] !== '*-*-*') return undefined;
    words.shift();
  }
  if (words.length !== 1) return undefined;
  const m = /^(\d{1,2}):(\d{2})(?::00)?$/.exec(words[0]!);
  if (!m) return undefined;
  const [h, min] = [Number(m[1]), Number(m[2])];
  if (h > 23 || min > 59) return undefined;
  return `${min} ${h} * * ${dow}`;
}

/** A crontab line running the same command; `%` is escaped because cron turns it into a newline. */
export function cronLine(s: Schedule): string | undefined {
  const when = calendarToCron(s.onCalendar);
  if (when === undefined) return undefined;
  const output = s.outputFile ? ` >> ${joinArgv([s.outputFile])}` : '';
  const cmd = `cd ${joinArgv([s.workingDirectory])} && ${joinArgv(s.command)}${output}`.replaceAll('%', '\\%');
  return `${when} ${s.user ?? 'root'} ${cmd}`;
}

import { ModuleError } from '../errors.js';
import { pythonRegex } from './python-regex.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, DiffEntry, Step, StepOutcome } from './types.js';

/**
 * ansible.builtin.cron: one named job (`#Ansible: NAME` above it) or one environment variable in a user's crontab
 * or a cron file. The decision is Ansible's CronTab class line for line (its quirks included: a job found by its
 * exact line gets a header inserted, every line after a matching header is replaced), read from ONE remote command.
 */
const options = {
  name: { type: 'str', required: true, description: 'Description of the job (its `#Ansible: NAME` header) or, with `env`, the variable name.' },
  user: { type: 'str', description: 'Whose crontab; the connecting (become) user without it. Required with cron_file, where it is the job\'s user field.' },
  job: { type: 'str', aliases: ['value'], description: 'The command to run, or the value of the variable with `env`. Required with state=present.' },
  cron_file: { type: 'path', description: 'A file in /etc/cron.d (a relative name) or an absolute path, instead of a user\'s crontab; removed when its last job is.' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the job or variable is present.' },
  backup: { type: 'bool', default: false, description: 'Keep a copy of the crontab before a change (its path is `backup_file`).' },
  minute: { type: 'str', default: '*', description: 'Minute field.' },
  hour: { type: 'str', default: '*', description: 'Hour field.' },
  day: { type: 'str', default: '*', aliases: ['dom'], description: 'Day of month field.' },
  month: { type: 'str', default: '*', description: 'Month field.' },
  weekday: { type: 'str', default: '*', aliases: ['dow'], description: 'Day of week field.' },
  special_time: { type: 'str', choices: ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'], description: 'An `@` time instead of the five fields.' },
  disabled: { type: 'bool', default: false, description: 'Keep the job commented out (state=present only).' },
  env: { type: 'bool', default: false, description: 'Manage an environment variable (`NAME="job"`) instead of a job; new ones go on top.' },
  insertafter: { type: 'str', description: 'With env and state=present: put a new variable after this one.' },
  insertbefore: { type: 'str', description: 'With env and state=present: put a new variable before this one.' },
} as const;

export type CronArgs = ArgsOf<typeof options>;

const TIME_FIELDS = ['minute', 'hour', 'day', 'month', 'weekday'] as const;

const spec = defineSpec({
  description: "Manage a named job or an environment variable in a user's crontab or a file in /etc/cron.d.",
  options,
  mutually_exclusive: [['insertafter', 'insertbefore']],
  // Ansible's main() checks these after reading the crontab; they depend on the arguments only, so here they
  // are refused at load time with the value's position.
  check(args) {
    if (args.cron_file === '/etc/crontab') return { param: 'cron_file', message: 'Will not manage /etc/crontab via cron_file, see documentation.', hint: 'use a file in /etc/cron.d' };
    if (args.special_time !== undefined && TIME_FIELDS.some((f) => args[f] !== '*')) {
      return { param: 'special_time', message: 'You must specify time and date fields or special time.', hint: 'drop minute/hour/day/month/weekday, or special_time' };
    }
    if (args.state === 'present') {
      if (args.cron_file !== undefined && args.user === undefined) return { param: 'cron_file', message: 'To use cron_file=... parameter you must specify user=... as well', hint: 'add `user: root` (the user the job runs as)' };
      if (args.job === undefined) return { param: 'job', message: "You must specify 'job' to install a new cron job or variable", hint: 'add `job: COMMAND`' };
      if ((args.insertafter ?? args.insertbefore) !== undefined && !args.env) return { param: args.insertafter !== undefined ? 'insertafter' : 'insertbefore', message: 'Insertafter and insertbefore parameters are valid only with env=yes' };
    }
    if (args.env && args.name.includes(' ')) return { param: 'name', message: 'Invalid name for environment variable' };
    return undefined;
  },
});

const ANSIBLE = '#Ansible: ';

export interface CronFacts {
  /** Whether the host has the crontab program (Ansible requires it even for cron_file). */
  hasCrontab: boolean;
  /** Whether cron_file exists as a regular file (false for a user's crontab). */
  fileExists: boolean;
  /** Ansible's n_existing: the file, or `crontab -l`'s output without crontab's own header lines. */
  existing: string;
  /** Ansible's lines. */
  lines: string[];
}

/** Python's str.splitlines(). */
function splitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const HEADER_LINES = [/^# DO NOT EDIT THIS FILE - edit the master and reinstall./, /^# \(\/tmp\/.*installed on.*\)/, /^# \(.*version.*\)/];

/** CronTab.read for a user's crontab: the first three lines may be crontab's own header, dropped from both. */
export function userCrontab(out: string): { existing: string; lines: string[] } {
  let existing = out;
  const lines: string[] = [];
  splitlines(out).forEach((l, count) => {
    if (count > 2 || !HEADER_LINES.some((re) => re.test(l))) lines.push(l);
    else existing = existing.replace(new RegExp(`${l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\r\\n]?`), '');
  });
  return { existing, lines };
}

/** Where the cron file is (CronTab.__init__): a relative name lives in /etc/cron.d. */
export function cronFilePath(cronFile: string): string {
  return cronFile.startsWith('/') ? cronFile : `/etc/cron.d/${cronFile}`;
}

/** The crontab being edited, with Ansible's CronTab methods over its lines. */
class CronLines {
  constructor(public lines: string[]) {}

  static comment(name: string): string {
    return `${ANSIBLE}${name}`;
  }

  findJob(name: string, job?: string): string[] {
    let comment: string | undefined;
    for (const l of this.lines) {
      if (comment !== undefined) {
        if (comment === name) return [comment, l];
        comment = undefined;
      } else if (l.startsWith(ANSIBLE)) {
        comment = l.replaceAll(ANSIBLE, '');
      }
    }
    if (job !== undefined) {
      for (let i = 0; i < this.lines.length; i++) {
        if (this.lines[i] !== job) continue;
        // Python's lines[i - 1] is the last line when i is 0.
        const above = this.lines.at(i - 1) ?? '';
        if (!above.startsWith(ANSIBLE)) {
          this.lines.splice(i, 0, CronLines.comment(name));
          return [this.lines[i]!, job, 'inserted'];
        }
        if (name && above === CronLines.comment('None')) {
          this.lines[i - 1] = CronLines.comment(name);
          return [this.lines[i - 1]!, job, 'renamed'];
        }
      }
    }
    return [];
  }

  /** _update_job: the line after every header named so is replaced by `job`, or dropped with the header. */
  updateJob(name: string, job: string | undefined): void {
    const header = CronLines.comment(name);
    const out: string[] = [];
    let comment: string | undefined;
    for (const l of this.lines) {
      if (comment !== undefined) {
        if (job !== undefined) out.push(comment, job);
        comment = undefined;
      } else if (l === header) {
        comment = l;
      } else {
        out.push(l);
      }
    }
    this.lines = out;
  }

  findEnv(name: string): [number, string] | undefined {
    const re = pythonRegex(`^${name}=`);
    const at = this.lines.findIndex((l) => re.test(l));
    return at < 0 ? undefined : [at, this.lines[at]!];
  }

  addEnv(decl: string, insertafter: string | undefined, insertbefore: string | undefined): void {
    const other = insertafter ?? insertbefore;
    if (other === undefined) {
      this.lines.unshift(decl);
      return;
    }
    const found = this.findEnv(other);
    if (!found) throw new ModuleError('E_CRON_ENV_NOT_FOUND', `Variable named '${other}' not found.`, { hint: `${insertafter !== undefined ? 'insertafter' : 'insertbefore'} names a variable the crontab must already have` });
    this.lines.splice(insertafter !== undefined ? found[0] + 1 : found[0], 0, decl);
  }

  /** _update_env: every declaration of `name` becomes `decl`, or is dropped. */
  updateEnv(name: string, decl: string | undefined): void {
    const re = pythonRegex(`^${name}=`);
    this.lines = this.lines.flatMap((l) => (re.test(l) ? (decl === undefined ? [] : [decl]) : [l]));
  }

  jobNames(): string[] {
    return this.lines.filter((l) => l.startsWith(ANSIBLE)).map((l) => l.replaceAll(ANSIBLE, ''));
  }

  envNames(): string[] {
    return this.lines.filter((l) => /^\S+=/.test(l)).map((l) => l.split('=')[0]!);
  }

  isEmpty(): boolean {
    return this.lines.every((l) => l.trim() === '');
  }

  render(): string {
    const text = this.lines.join('\n');
    return text ? `${text.replace(/[\r\n]+$/, '')}\n` : '';
  }
}

/** The job line as Ansible writes it (get_cron_job); a cron file's line carries the user. */
export function cronJobLine(args: CronArgs, job: string): string {
  const prefix = args.disabled ? '#' : '';
  const command = job.replace(/^[\r\n]+|[\r\n]+$/g, '');
  const user = args.cron_file !== undefined ? ` ${args.user ?? 'None'}` : '';
  if (args.special_time !== undefined) return `${prefix}@${args.special_time}${user} ${command}`;
  return `${prefix}${TIME_FIELDS.map((f) => args[f]).join(' ')}${user} ${command}`;
}

export interface CronDecision {
  changed: boolean;
  /** The text to write, or 'remove' for a cron file whose last job went. */
  after: string | 'remove';
  /** The registered result's fields besides changed. */
  data: Record<string, unknown>;
}

/** Ansible's cron main() after the read: what changes and what the task returns. */
export function decideCron(args: CronArgs, facts: CronFacts): CronDecision {
  const tab = new CronLines([...facts.lines]);
  const install = args.state === 'present';
  let changed = false;
  if (args.env) {
    const decl = `${args.name}="${args.job ?? ''}"`;
    const old = tab.findEnv(args.name);
    if (install && old === undefined) {
      tab.addEnv(decl, args.insertafter, args.insertbefore);
      changed = true;
    } else if (install && old !== undefined && old[1] !== decl) {
      tab.updateEnv(args.name, decl);
      changed = true;
    } else if (!install && old !== undefined) {
      tab.updateEnv(args.name, undefined);
      changed = true;
    }
  } else if (install) {
    const job = cronJobLine(args, args.job ?? '');
    const old = tab.findJob(args.name, job);
    if (old.length === 0) {
      tab.lines.push(CronLines.comment(args.name), job);
      changed = true;
    }
    if ((old.length > 0 && old[1] !== job) || old.length > 2) {
      tab.updateJob(args.name, job);
      changed = true;
    }
  } else if (tab.findJob(args.name).length > 0) {
    tab.updateJob(args.name, undefined);
    changed = true;
    if (args.cron_file !== undefined && tab.isEmpty()) {
      return { changed: facts.fileExists, after: 'remove', data: { cron_file: args.cron_file, state: args.state } };
    }
  }
  // A crontab without its final newline is rewritten even when nothing else changes.
  if (!changed && facts.existing !== '' && !/[\r\n]$/.test(facts.existing)) changed = true;
  const data: Record<string, unknown> = { jobs: tab.jobNames(), envs: tab.envNames() };
  if (args.cron_file !== undefined) data['cron_file'] = args.cron_file;
  return { changed, after: tab.render(), data };
}

function diffHeader(args: CronArgs): string {
  if (args.cron_file !== undefined) return cronFilePath(args.cron_file);
  return args.user !== undefined ? `crontab for user "${args.user}"` : 'crontab';
}

/** A copy of the crontab as read, in a new /tmp/crontabXXXXXXXX (Ansible's mkstemp(prefix='crontab')); prints its path. */
const BACKUP = 'f=$(mktemp /tmp/crontabXXXXXXXX) && cat > "$f" && printf %s "$f"';

/** Installs stdin as the user's crontab; `-u` only for another user than the one running it, as Ansible does. */
const INSTALL = '[ -z "$1" ] || [ "$1" = "$(id -un)" ] && exec crontab - || exec crontab -u "$1" -';

export function planCron(args: CronArgs, facts: CronFacts): Change[] {
  const decision = decideCron(args, facts);
  if (!decision.changed) return [];
  const steps: Step[] = [];
  if (args.backup) steps.push({ kind: 'exec', argv: ['sh', '-c', BACKUP], stdin: new CronLines(facts.lines).render() });
  const header = diffHeader(args);
  const diff: DiffEntry = { before: facts.existing, beforeHeader: header };
  if (decision.after === 'remove') {
    const path = cronFilePath(args.cron_file!);
    steps.push({ kind: 'exec', argv: ['rm', '-f', '--', path] });
    Object.assign(diff, { path, after: '', afterHeader: '/dev/null' });
  } else if (args.cron_file !== undefined) {
    const path = cronFilePath(args.cron_file);
    steps.push({ kind: 'write', path, content: decision.after, ...(facts.fileExists ? {} : { mode: '0644' }) });
    Object.assign(diff, { path, after: decision.after, afterHeader: header });
  } else {
    steps.push({ kind: 'exec', argv: ['sh', '-c', INSTALL, 'cron', args.user ?? ''], stdin: decision.after });
    Object.assign(diff, { after: decision.after, afterHeader: header });
  }
  const what = args.env ? `variable ${args.name}` : `job ${JSON.stringify(args.name)}`;
  return [{ summary: `${args.state === 'present' ? 'set' : 'remove'} ${what} in ${header}`, diff, steps }];
}

/** `crontab` or `-`, then the file's or `crontab -l`'s exit code, then its base64. */
const READ = `command -v crontab >/dev/null && echo crontab || echo -
if [ -n "$1" ]; then
  if [ -f "$1" ]; then echo 0; base64 -w0 < "$1"; else echo 2; fi
  exit 0
fi
command -v crontab >/dev/null || { echo 127; exit 0; }
if [ -z "$2" ] || [ "$2" = "$(id -un)" ]; then set -- crontab -l; else set -- crontab -u "$2" -l; fi
out=$("$@" 2>/dev/null; rc=$?; echo .; exit $rc); echo $?
printf '%s' "\${out%.}" | base64 -w0`;

export function parseCronRead(stdout: string, cronFile: boolean): CronFacts & { rc: number } {
  const [bin = '-', rc = '1', b64 = ''] = stdout.split('\n');
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const code = Number(rc);
  if (cronFile) return { hasCrontab: bin === 'crontab', fileExists: code === 0, existing: text, lines: splitlines(text), rc: 0 };
  return { hasCrontab: bin === 'crontab', fileExists: false, ...userCrontab(code === 0 ? text : ''), rc: code };
}

export const cronModule = plannedModule(spec, {
  kind: 'planned',
  name: 'cron',
  where: 'host',
  async gather(args, ctx): Promise<CronFacts> {
    const file = args.cron_file !== undefined ? cronFilePath(args.cron_file) : '';
    const res = await ctx.exec(['sh', '-c', READ, 'cron', file, args.user ?? '']);
    if (res.rc !== 0) throw new ModuleError('E_CRON_READ', `reading the crontab on ${ctx.hostName} failed: ${res.stderr.trim()}`);
    const { rc, ...facts } = parseCronRead(res.stdout, file !== '');
    if (!facts.hasCrontab && file === '') {
      throw new ModuleError('E_CRON_NO_CRONTAB', 'Failed to find required executable "crontab"', { hint: 'install cron on the host (a cron_file needs no crontab program)' });
    }
    // 1 is "no crontab for USER"; anything else is Ansible's "Unable to read crontab".
    if (rc !== 0 && rc !== 1) throw new ModuleError('E_CRON_READ', 'Unable to read crontab', { hint: args.user !== undefined ? `does the user ${args.user} exist?` : 'crontab -l failed' });
    return facts;
  },
  plan: planCron,
  report: (args, facts) => decideCron(args, facts).data,
  async finish(args, facts, outcomes: StepOutcome[]) {
    const backup = args.backup ? outcomes.find((o) => o.step.kind === 'exec' && o.step.argv[2] === BACKUP)?.exec?.stdout : undefined;
    return { changed: true, data: { ...decideCron(args, facts).data, ...(backup ? { backup_file: backup } : {}) } };
  },
  noop: (args) => `${args.env ? 'variable' : 'job'} ${args.name} is ${args.state} in ${diffHeader(args)}`,
});

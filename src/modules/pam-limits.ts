import { ModuleError } from '../errors.js';
import { backupName, backupStep } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * community.general.pam_limits: one `domain type item value` line of limits.conf, rewritten as Ansible's module
 * rewrites it (tab-separated, the comment carried over the way Ansible carries it), atomically.
 */
const ITEMS = ['core', 'data', 'fsize', 'memlock', 'nofile', 'rss', 'stack', 'cpu', 'nproc', 'as', 'maxlogins', 'maxsyslogins', 'priority', 'locks', 'sigpending', 'msgqueue', 'nice', 'rtprio', 'chroot'] as const;

const options = {
  domain: { type: 'str', required: true, description: 'A user name, @group, wildcard or uid/gid range.' },
  limit_type: { type: 'str', required: true, choices: ['soft', 'hard', '-'], description: 'soft, hard, or - for both.' },
  limit_item: { type: 'str', required: true, choices: ITEMS, description: 'The limit (nofile, nproc, core, …).' },
  value: { type: 'str', required: true, description: 'A number, or unlimited/infinity/-1 (nice and priority: -20 to 19).' },
  use_max: { type: 'bool', default: false, description: 'Keep the larger of the existing and the new value.' },
  use_min: { type: 'bool', default: false, description: 'Keep the smaller of the existing and the new value.' },
  backup: { type: 'bool', default: false, description: 'Keep a copy of the file before changing it.' },
  dest: { type: 'str', default: '/etc/security/limits.conf', description: 'The limits file.' },
  comment: { type: 'str', default: '', description: 'Comment written after the entry.' },
} as const;

type LimitsArgs = ArgsOf<typeof options>;

const UNLIMITED = ['unlimited', 'infinity', '-1'];

function valueProblem(item: string, value: string, prefix = ''): string | undefined {
  if (item === 'nice' || item === 'priority') {
    const n = /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
    return n >= -20 && n <= 19
      ? undefined
      : `${prefix}Value of '${value}' for item '${item}' is invalid. Value must be a number in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages for more details.`;
  }
  return UNLIMITED.includes(value) || /^\d+$/.test(value)
    ? undefined
    : `${prefix}Value of '${value}' for item '${item}' is invalid. Value must either be 'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.`;
}

const spec = defineSpec({
  description: 'Set one limit in /etc/security/limits.conf (or another limits file) for a user or group.',
  options,
  mutually_exclusive: [['use_max', 'use_min']],
  check(args) {
    const problem = valueProblem(args.limit_item, args.value);
    return problem === undefined ? undefined : { param: 'value', message: problem };
  },
});

export interface LimitsFacts {
  /** The file's text; undefined when it does not exist (it is created, which is a change). */
  text: string | undefined;
  pid: number;
  now: number;
}

/** The new file and what Ansible puts in `msg` (the line as it now reads), or a problem in the file. */
export function editLimits(args: LimitsArgs, text: string): { after: string; changed: boolean; msg: string } {
  const out: string[] = [];
  let found = false;
  let changed = false;
  let msg = '';
  let value = args.value;
  let comment = args.comment;
  for (const line of text.split(/(?<=\n)/).filter((l) => l !== '')) {
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    let fields = line.replace(/\s+/g, ' ').trim();
    if (fields === '') {
      out.push(line);
      continue;
    }
    fields = fields.split('#')[0]!.trimEnd();
    const hash = line.indexOf('#');
    // Ansible takes the first commented line's comment for any entry it rewrites when no comment is given.
    if (!comment) comment = hash >= 0 ? line.slice(hash + 1) : '';
    const f = fields.split(' ');
    if (f.length !== 4) {
      out.push(line);
      continue;
    }
    const [domain, type, item, actual] = f as [string, string, string, string];
    const invalid = valueProblem(item, actual, `Invalid configuration found in '${args.dest}'. `);
    if (invalid !== undefined) throw new ModuleError('E_PAM_LIMITS_FILE', invalid);
    if (domain !== args.domain || type !== args.limit_type || item !== args.limit_item) {
      out.push(line);
      continue;
    }
    found = true;
    if (args.value === actual) {
      msg = line;
      out.push(line);
      continue;
    }
    // Ansible compares the type (not the item) with nice/priority here, so unlimited words always count.
    const actualUnlimited = UNLIMITED.includes(actual);
    const valueUnlimited = UNLIMITED.includes(args.value);
    if (args.use_max) value = actualUnlimited ? actual : valueUnlimited ? args.value : String(Math.max(Number(args.value), Number(actual)));
    if (args.use_min) {
      value = actualUnlimited && valueUnlimited ? actual : actualUnlimited ? args.value : valueUnlimited ? actual : String(Math.min(Number(args.value), Number(actual)));
    }
    if (value !== actual) {
      changed = true;
      if (comment) comment = `\t#${comment}`;
      msg = `${args.domain}\t${args.limit_type}\t${args.limit_item}\t${value}${comment}\n`;
      out.push(msg);
    } else {
      msg = line;
      out.push(line);
    }
  }
  if (!found) {
    changed = true;
    if (comment) comment = `\t#${comment}`;
    msg = `${args.domain}\t${args.limit_type}\t${args.limit_item}\t${value}${comment}\n`;
    out.push(msg);
  }
  return { after: out.join(''), changed, msg };
}

const READ = 'printf "%s %s\\n" "$$" "$(date +%s)"; if [ -f "$1" ]; then [ -w "$1" ] || { echo "$1 is not writable. Use sudo" >&2; exit 4; }; base64 -w0 < "$1"; echo; else d=$(dirname -- "$1"); [ -d "$d" ] && [ -w "$d" ] || { echo "directory $d is not writable (check presence, access rights, use sudo)" >&2; exit 4; }; echo -; fi';

export const pamLimitsModule = plannedModule(spec, {
  kind: 'planned',
  name: 'pam_limits',
  where: 'host',
  async gather(args, ctx): Promise<LimitsFacts> {
    const res = await ctx.exec(['sh', '-c', READ, 'sh', args.dest]);
    if (res.rc !== 0) throw new ModuleError('E_PAM_LIMITS_READ', res.stderr.trim() || `could not read ${args.dest}`);
    const [head = '', body = '-'] = res.stdout.split('\n');
    const [pid = 0, now = 0] = head.split(' ').map(Number);
    return { pid, now, text: body === '-' ? undefined : Buffer.from(body, 'base64').toString('utf8') };
  },
  plan(args, facts): Change[] {
    const before = facts.text ?? '';
    const edit = editLimits(args, before);
    if (!edit.changed && facts.text !== undefined) return [];
    const steps: Step[] = [];
    if (args.backup && facts.text !== undefined) steps.push(backupStep(args.dest, backupName(args.dest, facts.pid, facts.now)));
    steps.push({ kind: 'write', path: args.dest, content: edit.after });
    return [{ summary: edit.msg, diff: { path: args.dest, before, after: edit.after }, steps }];
  },
  report(args, facts) {
    return { msg: editLimits(args, facts.text ?? '').msg };
  },
});

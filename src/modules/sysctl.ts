import { ModuleError } from '../errors.js';
import { toBoolean } from './spec/convert.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * ansible.posix.sysctl: one kernel parameter, in a sysctl file and (with sysctl_set) in /proc/sys. The decision is
 * Ansible's own (its SysctlModule.process), read from one remote command: the running value and the file.
 */
const options = {
  name: { type: 'str', required: true, aliases: ['key'], pattern: '^\\s*[^\\s-]', patternText: 'a kernel parameter name such as net.ipv4.ip_forward', description: 'The dot-separated path (key) of the sysctl variable.' },
  value: { type: 'str', aliases: ['val'], description: 'Desired value of the variable (booleans become 1 or 0).' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the entry is in the sysctl file.' },
  reload: { type: 'bool', default: true, description: 'After a change, load the whole sysctl file (`sysctl -p FILE`).' },
  sysctl_file: { type: 'path', default: '/etc/sysctl.conf', description: 'The file the entry is kept in.' },
  sysctl_set: { type: 'bool', default: false, description: 'Also set the running value with `sysctl -w` when it differs.' },
  ignoreerrors: { type: 'bool', default: false, description: 'Ignore unknown keys (`sysctl -e`).' },
} as const;

type SysctlArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: 'Keep a kernel parameter in a sysctl file and, optionally, set it on the running kernel.',
  options,
  // Ansible's required_if (state=present needs value) sees state's default; the spec's required_if does not.
  check(args) {
    if (args.state === 'present' && args.value === undefined) return { param: 'value', message: 'state is present but all of the following are missing: value', hint: 'add `value: …`' };
    if (args.state === 'present' && args.value !== undefined && args.value.trim() === '') return { param: 'value', message: 'value cannot be blank' };
    return undefined;
  },
});

export interface SysctlFacts {
  /** What `sysctl -e -n NAME` printed, or undefined when it failed (Ansible's proc_value None). */
  running: string | undefined;
  /** The sysctl file's text, undefined when it is not a regular file. */
  file: string | undefined;
}

/** rc of the read, the running value's base64, then the file's base64 (or "-" when it is not a regular file). */
const READ = [
  'v=$(LC_ALL=C sysctl -e -n "$1" 2>/dev/null); rc=$?',
  'printf "%s " "$rc"; printf "%s" "$v" | base64 -w0; printf "\\n"',
  'if [ -f "$2" ]; then base64 -w0 < "$2" || exit 3; printf "\\n"; else echo -; fi',
].join('\n');

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

export function parseSysctlRead(stdout: string): SysctlFacts {
  const [first = '', second = '-'] = stdout.split('\n');
  const [rc, value = ''] = first.split(' ');
  return { running: rc === '0' ? b64(value) : undefined, file: second === '-' ? undefined : b64(second) };
}

/** Ansible's _parse_value: a boolean word is 1 or 0, anything else is stripped. */
export function sysctlValue(value: string | undefined): string {
  if (value === undefined) return '';
  const truth = toBoolean(value);
  return truth === true ? '1' : truth === false ? '0' : value.trim();
}

/** The same words in the same order (Ansible's _values_is_equal: `1  2` equals `1 2`). */
function sameWords(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = a.split(/\s+/).filter(Boolean);
  const y = b.split(/\s+/).filter(Boolean);
  return x.length === y.length && x.every((w, i) => w === y[i]);
}

const isEntry = (line: string): boolean => line !== '' && !line.startsWith('#') && !line.startsWith(';') && line.includes('=');

function splitEntry(line: string): [string, string] {
  const at = line.indexOf('=');
  return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
}

/** Python's str.splitlines() for a text file's lines, each stripped as Ansible strips them. */
function fileLines(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(/\r\n|\n|\r/).filter((_, i, all) => i < all.length - 1 || all[i] !== '').map((l) => l.trim());
}

/** The file Ansible writes: every entry once, `key=value`, the asked one set (or dropped), comments kept. */
function rewritten(lines: string[], name: string, value: string, present: boolean): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    if (!isEntry(line)) {
      out.push(line);
      continue;
    }
    const [k, v] = splitEntry(line);
    if (seen.has(k)) continue;
    seen.add(k);
    if (k !== name) out.push(`${k}=${v}`);
    else if (present) out.push(`${k}=${value}`);
  }
  if (!seen.has(name) && present) out.push(`${name}=${value}`);
  return out.map((l) => `${l}\n`).join('');
}

export function planSysctl(args: SysctlArgs, facts: SysctlFacts): Change[] {
  const name = args.name.trim();
  const value = sysctlValue(args.value);
  const present = args.state === 'present';
  const lines = fileLines(facts.file);
  let inFile: string | undefined;
  for (const line of lines) if (isEntry(line)) {
    const [k, v] = splitEntry(line);
    if (k === name) inFile = v;
  }
  let changed = false;
  let writeFile = false;
  let setRunning = false;
  if (inFile === undefined) {
    changed = writeFile = present;
  } else if (!present) {
    // Ansible tests the file's value for truth: an empty `key=` stays.
    changed = writeFile = inFile !== '';
  } else if (inFile !== value) {
    changed = writeFile = true;
  } else if (args.reload && !sameWords(facts.running, value)) {
    changed = true;
  }
  if (args.sysctl_set && present && !sameWords(facts.running, value)) {
    changed = true;
    setRunning = facts.running !== undefined;
  }
  if (!changed) return [];
  const e = args.ignoreerrors ? ['-e'] : [];
  const steps: Step[] = [];
  if (setRunning) steps.push({ kind: 'exec', argv: ['sysctl', ...e, '-w', `${name}=${value}`] });
  const after = rewritten(lines, name, value, present);
  if (writeFile) steps.push({ kind: 'write', path: args.sysctl_file, content: after });
  if (args.reload) steps.push({ kind: 'exec', argv: ['sysctl', ...e, '-p', args.sysctl_file] });
  const change: Change = { summary: present ? `set ${name}=${value}` : `remove ${name}`, steps };
  if (writeFile) change.diff = { path: args.sysctl_file, before: facts.file ?? '', after };
  return [change];
}

/** Why nothing changes: `net.ipv4.ip_forward=1 in /etc/sysctl.conf and running`. */
function sysctlNoop(args: SysctlArgs): string {
  const name = args.name.trim();
  if (args.state === 'absent') return `${name} is not in ${args.sysctl_file}`;
  return `${name}=${sysctlValue(args.value)} in ${args.sysctl_file}${args.sysctl_set ? ' and running' : ''}`;
}

export const sysctlModule = plannedModule(spec, {
  kind: 'planned',
  name: 'sysctl',
  where: 'host',
  async gather(args, ctx): Promise<SysctlFacts> {
    const res = await ctx.exec(['sh', '-c', READ, 'sh', args.name.trim(), args.sysctl_file]);
    if (res.rc !== 0) throw new ModuleError('E_SYSCTL_READ', `Failed to open ${args.sysctl_file}: ${res.stderr.trim()}`);
    return parseSysctlRead(res.stdout);
  },
  plan: planSysctl,
  noop: sysctlNoop,
});

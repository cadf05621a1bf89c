import { ModuleError } from '../errors.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, ModuleContext, ModuleReturn, Step, StepOutcome } from './types.js';

/**
 * supervisorctl (alias supervisor): community.general.supervisorctl. Gather is ONE `supervisorctl status`; the plan
 * follows Ansible's logic (present/absent add or remove the process group after `reread`; started/stopped act only
 * on processes not already there; restarted always acts, after `update`; signalled signals RUNNING processes).
 */

const spec = defineSpec({
  description: 'Manage a program under supervisord (present, started, stopped, restarted, absent) through supervisorctl.',
  options: {
    name: {
      type: 'str',
      required: true,
      // Never an option to supervisorctl, never two words.
      pattern: '^[^\\s\\0-][^\\s\\0]*$',
      patternText: "a program name without whitespace, not starting with '-'",
      description: "Program name; a trailing ':' means the whole group; 'all' matches every process.",
    },
    state: { type: 'str', required: true, choices: ['present', 'started', 'stopped', 'restarted', 'absent', 'signalled'], description: 'What the program should be.' },
    config: { type: 'path', description: 'The supervisorctl configuration file.' },
    server_url: { type: 'str', description: 'URL on which supervisord server is listening.' },
    username: { type: 'str', description: 'Username to use for authentication.' },
    password: { type: 'str', no_log: true, description: 'Password to use for authentication.' },
    signal: { type: 'str', pattern: '^[A-Za-z0-9]+$', patternText: 'a signal name or number like HUP or 15', description: 'The signal to send when state is signalled.' },
    stop_before_removing: { type: 'bool', default: false, description: 'Stop the program before removing it (state absent).' },
    supervisorctl_path: { type: 'path', description: 'Path to the supervisorctl program.' },
  },
  required_if: [['state', 'signalled', ['signal']]],
});

export type SupervisorArgs = ArgsOf<typeof spec.options>;

export interface SupervisorProcess {
  name: string;
  status: string;
}

export interface SupervisorFacts {
  /** Every line of `supervisorctl status`, parsed. */
  processes: SupervisorProcess[];
  /** Set when supervisorctl could not talk to supervisord at all (then nothing can be planned). */
  unreachable?: string;
}

/** supervisorctl and its connection options; `secret` when a password is on the command line. */
export function baseArgv(args: SupervisorArgs): { argv: string[]; secret: boolean } {
  const argv = [args.supervisorctl_path ?? 'supervisorctl'];
  if (args.config) argv.push('-c', args.config);
  if (args.server_url) argv.push('-s', args.server_url);
  if (args.username) argv.push('-u', args.username);
  if (args.password) argv.push('-p', args.password);
  return { argv, secret: args.password !== undefined };
}

const STATES = new Set(['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN']);

/** `supervisorctl status` lines: `name STATE details…`; group members are `group:name`. Other lines are ignored. */
export function parseStatus(out: string): SupervisorProcess[] {
  const procs: SupervisorProcess[] = [];
  for (const line of out.split('\n')) {
    const f = line.split(' ').filter((x) => x !== '');
    if (f.length < 2 || !STATES.has(f[1]!)) continue;
    procs.push({ name: f[0]!, status: f[1]! });
  }
  return procs;
}

/** Ansible's get_matched_processes. */
export function matchProcesses(name: string, procs: readonly SupervisorProcess[]): SupervisorProcess[] {
  const isGroup = name.endsWith(':');
  const base = isGroup ? name.replace(/:+$/, '') : name;
  return procs.filter((p) => {
    if (isGroup) return p.name.includes(':') && p.name.split(':')[0] === base;
    return p.name === base || base === 'all';
  });
}

/** status exits 3 when some process is not running: that is an answer. No status line and another rc is not. */
export function factsFromStatus(rc: number, stdout: string, stderr: string): SupervisorFacts {
  const processes = parseStatus(stdout);
  if (processes.length === 0 && rc !== 0 && rc !== 3) {
    return { processes, unreachable: `${stdout}\n${stderr}`.trim().split('\n').slice(0, 3).join(' ') || `exit ${rc}` };
  }
  return { processes };
}

async function gather(args: SupervisorArgs, ctx: ModuleContext): Promise<SupervisorFacts> {
  const { argv } = baseArgv(args);
  const res = await ctx.exec([...argv, 'status']);
  if (res.rc === 127) {
    throw new ModuleError('E_SUPERVISOR_MISSING', `supervisorctl is not installed on ${ctx.hostName}`, { hint: 'install the supervisor package' });
  }
  return factsFromStatus(res.rc, res.stdout, res.stderr);
}

function exec(args: SupervisorArgs, action: string[], target?: string): Step {
  const { argv, secret } = baseArgv(args);
  const step: Step = { kind: 'exec', argv: [...argv, ...action, ...(target === undefined ? [] : [target])] };
  if (secret) step.secret = true;
  return step;
}

function act(args: SupervisorArgs, procs: readonly SupervisorProcess[], keep: (s: string) => boolean, action: string[], verb: string): Change[] {
  const targets = procs.filter((p) => keep(p.status));
  if (targets.length === 0) return [];
  return [
    {
      summary: `${verb} ${targets.map((p) => p.name).join(', ')}`,
      diff: { before: Object.fromEntries(targets.map((p) => [p.name, p.status])), after: Object.fromEntries(targets.map((p) => [p.name, verb])) },
      steps: targets.map((p) => exec(args, action, p.name)),
    },
  ];
}

const running = (s: string): boolean => s === 'RUNNING' || s === 'STARTING';

/** Facts → changes, pure. */
export function planSupervisor(args: SupervisorArgs, facts: SupervisorFacts): Change[] {
  if (facts.unreachable !== undefined) {
    throw new ModuleError('E_SUPERVISOR_UNREACHABLE', `supervisorctl cannot reach supervisord: ${facts.unreachable}`, {
      hint: 'is supervisord running? check config/server_url/username/password',
    });
  }
  const procs = matchProcesses(args.name, facts.processes);
  const group = args.name.replace(/:+$/, '');
  switch (args.state) {
    case 'absent': {
      if (procs.length === 0) return [];
      const changes = args.stop_before_removing ? act(args, procs, running, ['stop'], 'stopped') : [];
      changes.push({ summary: `remove ${group}`, diff: { before: { present: true }, after: { present: false } }, steps: [exec(args, ['reread']), exec(args, ['remove'], group)] });
      return changes;
    }
    case 'present':
      if (procs.length > 0) return [];
      return [{ summary: `add ${group}`, diff: { before: { present: false }, after: { present: true } }, steps: [exec(args, ['reread']), exec(args, ['add'], group)] }];
    case 'restarted': {
      // Ansible runs `update` first (it may add the program), then restarts whatever matches afterwards.
      const steps: Step[] = [exec(args, ['update'])];
      if (procs.length === 0) steps.push(exec(args, ['restart'], args.name.endsWith(':') ? `${group}:*` : args.name));
      else steps.push(...procs.map((p) => exec(args, ['restart'], p.name)));
      return [{ summary: `restart ${procs.length ? procs.map((p) => p.name).join(', ') : args.name}`, steps }];
    }
    default:
      break;
  }
  if (procs.length === 0) {
    throw new ModuleError('E_SUPERVISOR_NO_SUCH_PROCESS', `supervisorctl: ERROR (no such process) ${args.name}`, {
      hint: "add it first with state: present (after its program file is in supervisor's conf.d)",
    });
  }
  if (args.state === 'started') return act(args, procs, (s) => !running(s), ['start'], 'started');
  if (args.state === 'stopped') return act(args, procs, running, ['stop'], 'stopped');
  return act(args, procs, (s) => s === 'RUNNING', ['signal', args.signal ?? 'HUP'], 'signalled');
}

/** Verify the outcome in supervisorctl's own words ("name: started"), as Ansible does. */
async function finish(args: SupervisorArgs, _facts: SupervisorFacts, outcomes: StepOutcome[], ctx: ModuleContext): Promise<ModuleReturn> {
  const data: Record<string, unknown> = { name: args.name, state: args.state };
  for (const o of outcomes) {
    if (o.step.kind !== 'exec' || !o.exec) continue;
    const text = `${o.exec.stdout}${o.exec.stderr}`;
    if (/\bERROR\b/.test(text)) {
      const { argv } = baseArgv(args);
      const status = await ctx.exec([...argv, 'status']).catch(() => undefined);
      return { changed: true, failed: true, msg: `supervisorctl: ${text.trim()}${status ? `\nstatus now:\n${status.stdout.trim()}` : ''}`, data };
    }
  }
  return { changed: true, data };
}

export const supervisorctl = plannedModule(spec, {
  kind: 'planned',
  name: 'supervisorctl',
  aliases: ['supervisor'],
  where: 'host',
  gather,
  plan: planSupervisor,
  noop: (args, facts) => {
    const procs = matchProcesses(args.name, facts.processes);
    return procs.length === 0 ? `no process ${args.name} in supervisord` : procs.map((p) => `${p.name} is ${p.status}`).join(', ');
  },
  finish,
  report: (args) => ({ name: args.name, state: args.state }),
});

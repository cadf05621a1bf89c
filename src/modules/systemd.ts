import type { ExecResult } from '../connection/types.js';
import { ModuleError } from '../errors.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, ModuleContext, ModuleReturn, StepOutcome } from './types.js';

/**
 * systemd (aliases systemd_service, service): Ansible's ansible.builtin.systemd_service on one unit.
 * Gather is ONE `systemctl show UNIT` (all properties, returned as `status` like Ansible); plan is pure.
 * Order as Ansible's code runs it: daemon-reload (during gather, see below), mask/unmask, enable/disable, state.
 */

/** Ansible's `service` parameters that systemd does not use: accepted and ignored with a note, as Ansible does. */
const ignored = (description: string) => ({ ignored: true, description: `service module only; ignored for systemd (as Ansible does). ${description}`.trim() }) as const;

const spec = defineSpec({
  description:
    'Start, stop, restart or reload a systemd unit, enable/disable or mask it, daemon-reload; a unit that fails to start fails the task with its journal tail.',
  options: {
    name: { type: 'str', aliases: ['service', 'unit'], pattern: '^[^\\0]+$', patternText: 'a non-empty unit name', description: 'Unit name; `.service` is implied.' },
    state: { type: 'str', choices: ['started', 'stopped', 'restarted', 'reloaded'], removedValues: { running: 'write `state: started`' }, description: 'started/stopped act only when needed; restarted and reloaded always act (a stopped unit is started).' },
    enabled: { type: 'bool', description: 'Whether the unit starts on boot.' },
    masked: { type: 'bool', description: 'Whether the unit is masked (cannot be started at all).' },
    daemon_reload: { type: 'bool', default: false, aliases: ['daemon-reload'], description: 'Run daemon-reload before anything else (not a change, as in Ansible).' },
    daemon_reexec: { type: 'bool', default: false, aliases: ['daemon-reexec'], description: 'Run daemon-reexec before anything else.' },
    scope: { type: 'str', choices: ['system', 'user', 'global'], default: 'system', description: "Which manager: the system's, the remote user's (--user), or every user's unit files (--global)." },
    no_block: { type: 'bool', default: false, description: 'Do not wait for start/stop/restart/reload to finish (--no-block).' },
    force: { type: 'bool', default: false, description: 'Overwrite existing symlinks on enable/disable/mask (--force).' },
    pattern: { type: 'str', ...ignored('') },
    runlevel: { type: 'str', ...ignored('') },
    sleep: { type: 'int', ...ignored('') },
    arguments: { type: 'str', aliases: ['args'], ...ignored('') },
    use: { type: 'str', choices: ['auto', 'systemd'], description: "service module: vncplay's service is always systemd." },
  },
  required_one_of: [['name', 'daemon_reload', 'daemon_reexec']],
  required_by: { state: ['name'], enabled: ['name'], masked: ['name'] },
  check(args) {
    if (args.scope === 'global' && args.state !== undefined) {
      return { param: 'state', message: "scope 'global' manages unit files only; state needs scope system or user", hint: 'remove state, or use scope: system' };
    }
    return undefined;
  },
});

export type SystemdArgs = ArgsOf<typeof spec.options>;
export type SystemdState = NonNullable<SystemdArgs['state']>;

/** The parameters the module ignores (each given one is noted at -v). */
const IGNORED_PARAMS = Object.entries(spec.options).flatMap(([name, p]) => ('ignored' in p ? [name as keyof SystemdArgs] : []));

export interface SystemdFacts {
  /** Normalized unit name (`.service` implied), undefined for a name-less daemon-reload task. */
  unit?: string;
  /** Every property `systemctl show` printed, as strings. */
  status: Record<string, string>;
  /** rc and stderr of the show call, for errors. */
  showRc: number;
  showErr: string;
}

const UNIT_SUFFIXES = [
  '.service', '.socket', '.device', '.mount', '.automount', '.swap', '.target', '.path', '.timer', '.slice', '.scope',
];

/** `name` with `.service` implied when it has no unit-type suffix (what systemctl itself does). */
export function unitName(name: string): string {
  return UNIT_SUFFIXES.some((s) => name.endsWith(s)) ? name : `${name}.service`;
}

/** systemctl's leading flags for the scope and blocking mode. */
export function systemctlBase(args: SystemdArgs): string[] {
  const argv = ['systemctl'];
  const scope = args.scope;
  if (scope === 'user') argv.push('--user');
  if (scope === 'global') argv.push('--global');
  return argv;
}

/**
 * `systemctl show` output → properties. Values are one line, except `{ … }` blocks that systemd may wrap over
 * several lines (Exec* properties); those are joined the way Ansible's parser joins them.
 */
export function parseSystemctlShow(out: string): Record<string, string> {
  const props: Record<string, string> = {};
  let key: string | undefined;
  let multi: string[] = [];
  for (const line of out.split('\n')) {
    if (key === undefined) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const k = line.slice(0, eq);
      const v = line.slice(eq + 1);
      if (v.trimStart().startsWith('{') && !v.trimEnd().endsWith('}')) {
        key = k;
        multi = [v];
      } else {
        props[k] = v;
      }
    } else {
      multi.push(line);
      if (line.trimEnd().endsWith('}')) {
        props[key] = multi.join('\n').trim();
        key = undefined;
        multi = [];
      }
    }
  }
  if (key !== undefined) props[key] = multi.join('\n').trim();
  return props;
}

/** Ansible's is_running_service. */
export function isRunning(status: Record<string, string>): boolean {
  return status['ActiveState'] === 'active' || status['ActiveState'] === 'activating';
}

export function isMasked(status: Record<string, string>): boolean {
  return status['LoadState'] === 'masked' || (status['UnitFileState'] ?? '').startsWith('masked');
}

/** UnitFileState values for which `systemctl is-enabled` exits 0 (what Ansible calls enabled). */
const ENABLED_STATES = new Set(['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated', 'transient']);
/** States enable/disable cannot change; asking for enabled:false on them is not a change (Ansible would loop). */
const FIXED_STATES = new Set(['static', 'generated', 'transient', 'indirect', 'alias']);

export function isEnabled(status: Record<string, string>): boolean {
  return ENABLED_STATES.has(status['UnitFileState'] ?? '');
}

/**
 * One remote command: optional daemon-reload/reexec (not a change in Ansible either, so it runs here and not as a
 * step; skipped under --check like Ansible), then `systemctl show`. The unit name is a positional parameter of a
 * constant script, never part of the script text.
 */
export function gatherArgv(args: SystemdArgs, unit: string | undefined, check: boolean): string[] {
  const base = systemctlBase(args);
  const pre: string[] = [USER_ENV];
  if (!check && args.daemon_reload) pre.push('"$@" daemon-reload || exit $?');
  if (!check && args.daemon_reexec) pre.push('"$@" daemon-reexec || exit $?');
  if (unit === undefined) {
    return ['sh', '-c', [...pre, 'exit 0'].join('\n'), 'sh', ...base];
  }
  if (args.scope === 'global') {
    // --global has no manager to ask; only the unit file state can be read.
    const script = ['u=$1; shift', ...pre, 's=$("$@" is-enabled -- "$u" 2>/dev/null)', 'echo "Id=$u"', 'echo "UnitFileState=$s"', 'echo "LoadState=loaded"'];
    return ['sh', '-c', script.join('\n'), 'sh', unit, ...base];
  }
  const script = ['u=$1; shift', ...pre, 'exec "$@" show -- "$u"'];
  return ['sh', '-c', script.join('\n'), 'sh', unit, ...base];
}

/** `systemctl --user` needs the user's runtime dir; a non-PAM SSH session may not set it (Ansible sets it too). */
const USER_ENV = '[ -n "${XDG_RUNTIME_DIR:-}" ] || { XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; }';

/**
 * One step's argv. enable/disable/mask/unmask/stop are plain `systemctl ACTION -- UNIT`. start/restart/reload are
 * wrapped so that, when they fail, the same command prints the unit's ActiveState/Result and its last 20 journal
 * lines: the runner stops at a failed step, and the task's failure must explain itself. The unit name is always a
 * positional argument, never script text. scope=user also needs XDG_RUNTIME_DIR, so it always takes the wrapper.
 */
export function actionArgv(args: SystemdArgs, action: string, unit: string): string[] {
  const base = systemctlBase(args);
  const flags: string[] = [];
  if (args.no_block && ['start', 'stop', 'restart', 'reload'].includes(action)) flags.push('--no-block');
  if (args.force && ['enable', 'disable', 'mask'].includes(action)) flags.push('--force');
  const diagnose = ['start', 'restart', 'reload'].includes(action);
  if (!diagnose && args.scope !== 'user') return [...base, ...flags, action, '--', unit];
  const journal = args.scope === 'user' ? 'journalctl --user-unit "$u"' : 'journalctl -u "$u"';
  const lines = ['u=$1 a=$2; shift 2'];
  if (args.scope === 'user') lines.push(USER_ENV);
  if (!diagnose) lines.push('exec "$@" "$a" -- "$u"');
  else {
    lines.push(
      '"$@" "$a" -- "$u" && exit 0; r=$?',
      `{ echo "$("$@" show -p ActiveState -p SubState -p Result -- "$u" | tr '\\n' ' ')"; echo "last 20 journal lines:"; ${journal} -n 20 --no-pager; } >&2`,
      'exit $r',
    );
  }
  return ['sh', '-c', lines.join('\n'), 'sh', unit, action, ...base, ...flags];
}

async function gather(args: SystemdArgs, ctx: ModuleContext): Promise<SystemdFacts> {
  for (const p of IGNORED_PARAMS) {
    if (args[p] !== undefined) ctx.log(1, `Ignoring "${p}" as it is not used in "systemd"`);
  }
  const unit = args.name === undefined ? undefined : unitName(args.name);
  const res: ExecResult = await ctx.exec(gatherArgv(args, unit, ctx.check));
  if (unit === undefined || res.rc !== 0) {
    if (res.rc !== 0) {
      throw new ModuleError('E_SYSTEMD_GATHER', `systemctl failed on ${ctx.hostName}: ${(res.stderr || res.stdout).trim()}`, {
        hint: args.daemon_reload ? 'daemon-reload failed; check the unit files with systemd-analyze verify' : 'is systemd the service manager of this host?',
      });
    }
    return { status: {}, showRc: res.rc, showErr: res.stderr };
  }
  return { unit, status: parseSystemctlShow(res.stdout), showRc: res.rc, showErr: res.stderr };
}

/** Facts → the changes in Ansible's order. Pure. */
export function planSystemd(args: SystemdArgs, facts: SystemdFacts): Change[] {
  const unit = facts.unit;
  if (unit === undefined) return [];
  const st = facts.status;
  if (st['LoadState'] === 'not-found' && !(args.masked === true || args.scope === 'global')) {
    throw new ModuleError('E_SYSTEMD_NOT_FOUND', `Could not find the requested service ${JSON.stringify(unit)}`, {
      hint: st['LoadError'] ? `systemd says: ${st['LoadError']}` : 'check the unit name (systemctl list-unit-files)',
    });
  }
  if (st['LoadError'] && st['LoadState'] !== 'masked' && st['LoadState'] !== 'not-found') {
    throw new ModuleError('E_SYSTEMD_LOAD', `Failed to get the service status '${unit}': ${st['LoadError']}`);
  }
  const changes: Change[] = [];
  const step = (action: string): Change['steps'] => [{ kind: 'exec', argv: actionArgv(args, action, unit) }];
  if (args.masked !== undefined && isMasked(st) !== args.masked) {
    const action = args.masked ? 'mask' : 'unmask';
    changes.push({
      summary: `${action} ${unit}`,
      diff: { before: { masked: !args.masked }, after: { masked: args.masked }, beforeHeader: unit, afterHeader: unit },
      steps: step(action),
    });
  }
  if (args.enabled !== undefined) {
    const now = isEnabled(st);
    const fixed = FIXED_STATES.has(st['UnitFileState'] ?? '');
    // After a mask, enable would fail; after an unmask the unit is disabled (Ansible reads state again there).
    const effective = args.masked === true ? false : args.masked === false && isMasked(st) ? false : now;
    if (effective !== args.enabled && !(fixed && !args.enabled)) {
      const action = args.enabled ? 'enable' : 'disable';
      changes.push({
        summary: `${action} ${unit}`,
        diff: { before: { enabled: effective }, after: { enabled: args.enabled }, beforeHeader: unit, afterHeader: unit },
        steps: step(action),
      });
    }
  }
  const action = stateAction(args.state, st);
  if (action !== undefined) {
    const running = isRunning(st);
    changes.push({
      summary: `${action} ${unit}`,
      diff: {
        before: { state: running ? 'started' : 'stopped' },
        after: { state: args.state === 'stopped' ? 'stopped' : 'started' },
        beforeHeader: unit,
        afterHeader: unit,
      },
      steps: step(action),
    });
  }
  return changes;
}

/** Ansible's state logic: restarted/reloaded on a stopped unit start it; they always change. */
export function stateAction(state: SystemdState | undefined, st: Record<string, string>): string | undefined {
  switch (state) {
    case undefined:
      return undefined;
    case 'started':
      return isRunning(st) ? undefined : 'start';
    case 'stopped':
      return isRunning(st) || st['ActiveState'] === 'deactivating' ? 'stop' : undefined;
    case 'restarted':
      return isRunning(st) ? 'restart' : 'start';
    case 'reloaded':
      return isRunning(st) ? 'reload' : 'start';
  }
}

function resultData(args: SystemdArgs, facts: SystemdFacts): Record<string, unknown> {
  const data: Record<string, unknown> = { status: facts.status };
  if (facts.unit !== undefined) data['name'] = facts.unit;
  if (args.state !== undefined) data['state'] = args.state === 'stopped' ? 'stopped' : 'started';
  if (args.enabled !== undefined) data['enabled'] = args.enabled;
  return data;
}

/**
 * After the steps: a unit asked to run must be running (a forking service can die right after `start` returned).
 * If not, fail with its Result/ActiveState and the last 20 journal lines, in one remote command.
 */
async function finish(args: SystemdArgs, facts: SystemdFacts, _o: StepOutcome[], ctx: ModuleContext): Promise<ModuleReturn> {
  const data = resultData(args, facts);
  const unit = facts.unit;
  if (unit === undefined || args.no_block || args.state === undefined || args.state === 'stopped') {
    return { changed: true, data };
  }
  const journal = args.scope === 'user' ? 'journalctl --user-unit "$u"' : 'journalctl -u "$u"';
  // A forking service (tigervncserver) reports "started" and may die a moment later: look after SETTLE_S.
  const script = [
    'u=$1; s=$2; shift 2',
    USER_ENV,
    'sleep "$s"',
    '"$@" show -p ActiveState -p SubState -p Result -- "$u"',
    'echo ---journal---',
    `${journal} -n 20 --no-pager 2>&1`,
    'exit 0',
  ];
  const settle = args.state === 'reloaded' ? '0' : String(SETTLE_S);
  const res = await ctx.exec(['sh', '-c', script.join('\n'), 'sh', unit, settle, ...systemctlBase(args)]);
  const [props = '', journalText = ''] = res.stdout.split('---journal---\n');
  const after = parseSystemctlShow(props);
  if (startedFine(facts.status, after)) return { changed: true, data };
  return {
    changed: true,
    failed: true,
    msg: unitFailureMessage(unit, after, journalText),
    data,
  };
}

/**
 * Did the unit come up? Running (or reloading) is fine; so is a oneshot that finished successfully. Anything else —
 * failed, or a forking/simple service that is already gone again — is a failed start.
 */
export function startedFine(before: Record<string, string>, after: Record<string, string>): boolean {
  if (isRunning(after) || after['ActiveState'] === 'reloading') return true;
  return before['Type'] === 'oneshot' && after['Result'] === 'success' && after['ActiveState'] !== 'failed';
}

/** Seconds to wait before checking that a started unit is still running. */
export const SETTLE_S = 2;

export function unitFailureMessage(unit: string, st: Record<string, string>, journal: string): string {
  return (
    `${unit} is not running after the change: ActiveState=${st['ActiveState'] ?? '?'} SubState=${st['SubState'] ?? '?'} ` +
    `Result=${st['Result'] ?? '?'}\nlast 20 journal lines:\n${journal.trimEnd()}`
  );
}

/** What the unit is, in the words of what was asked: `service vnc@1 is running, enabled`. */
export function systemdNoop(args: SystemdArgs, facts: SystemdFacts): string | undefined {
  if (facts.unit === undefined) return undefined;
  const st = facts.status;
  const said: string[] = [];
  if (args.state !== undefined) said.push(isRunning(st) ? 'running' : 'stopped');
  if (args.enabled !== undefined) said.push(FIXED_STATES.has(st['UnitFileState'] ?? '') ? (st['UnitFileState'] ?? '') : isEnabled(st) ? 'enabled' : 'disabled');
  if (args.masked !== undefined) said.push(isMasked(st) ? 'masked' : 'not masked');
  const name = facts.unit.replace(/\.service$/, '');
  return said.length ? `service ${name} is ${said.join(', ')}` : `service ${name}: nothing asked of it`;
}

export const systemd = plannedModule(spec, {
  kind: 'planned',
  name: 'systemd',
  aliases: ['systemd_service', 'service'],
  where: 'host',
  gather,
  plan: planSystemd,
  noop: systemdNoop,
  finish,
  report: resultData,
});

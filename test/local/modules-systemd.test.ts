import { describe, expect, it } from 'vitest';
import { actionArgv, gatherArgv, startedFine, isEnabled, parseSystemctlShow, planSystemd, systemd, unitName, type SystemdFacts } from '../../src/modules/systemd.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import { planIntent } from '../support/module-harness.js';
import type { Change } from '../../src/modules/types.js';
import { renderDiffs } from '../../src/output/diff.js';

const facts = (status: Record<string, string>, unit = 'tigervncserver@:1.service'): SystemdFacts => ({ unit, status, showRc: 0, showErr: '' });
/** Arguments as a task writes them, parsed as the runner parses them. */
const a = (raw: Record<string, unknown>): ReturnType<typeof parsedArgs<typeof systemd>> => parsedArgs(systemd, raw);
const running = { LoadState: 'loaded', ActiveState: 'active', SubState: 'running', UnitFileState: 'enabled' };
const stopped = { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' };
const failed = { LoadState: 'loaded', ActiveState: 'failed', SubState: 'failed', UnitFileState: 'disabled', Result: 'exit-code' };
const masked = { LoadState: 'masked', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'masked' };

const UNIT = 'tigervncserver@:1.service';
/** The plan's intent: the systemctl verbs it means to run on the unit, in order (from the summaries, not the argv). */
const actions = (args: Record<string, unknown>, status: Record<string, string>): string[] =>
  planIntent(systemd, args, facts(status)).changes.map((summary) => {
    const [verb, unit] = summary.split(' ');
    expect(unit).toBe(UNIT);
    return verb!;
  });

describe('systemd plan (facts in, actions out)', () => {
  const table: Array<[string, Record<string, unknown>, Record<string, string>, string[]]> = [
    ['started on stopped starts', { name: 'x', state: 'started' }, stopped, ['start']],
    ['started on running is ok', { name: 'x', state: 'started' }, running, []],
    ['started on failed starts', { name: 'x', state: 'started' }, failed, ['start']],
    ['stopped on running stops', { name: 'x', state: 'stopped' }, running, ['stop']],
    ['stopped on stopped is ok', { name: 'x', state: 'stopped' }, stopped, []],
    ['stopped on deactivating stops', { name: 'x', state: 'stopped' }, { ...running, ActiveState: 'deactivating' }, ['stop']],
    ['restarted on running restarts (always changed)', { name: 'x', state: 'restarted' }, running, ['restart']],
    ['restarted on stopped starts', { name: 'x', state: 'restarted' }, stopped, ['start']],
    ['reloaded on running reloads', { name: 'x', state: 'reloaded' }, running, ['reload']],
    ['reloaded on stopped starts', { name: 'x', state: 'reloaded' }, stopped, ['start']],
    ['enabled on disabled enables', { name: 'x', enabled: true }, stopped, ['enable']],
    ['enabled on enabled is ok', { name: 'x', enabled: true }, running, []],
    ['disabled on enabled disables', { name: 'x', enabled: false }, running, ['disable']],
    ['disable on static is no change', { name: 'x', enabled: false }, { ...stopped, UnitFileState: 'static' }, []],
    ['enable on static is ok', { name: 'x', enabled: true }, { ...stopped, UnitFileState: 'static' }, []],
    ['mask on running', { name: 'x', masked: true }, running, ['mask']],
    ['unmask on masked', { name: 'x', masked: false }, masked, ['unmask']],
    ['masked on masked is ok', { name: 'x', masked: true }, masked, []],
    ['Ansible order: unmask, enable, start', { name: 'x', masked: false, enabled: true, state: 'started' }, masked, ['unmask', 'enable', 'start']],
    ['Ansible order: disable then stop', { name: 'x', enabled: false, state: 'stopped' }, running, ['disable', 'stop']],
  ];
  it.each(table)('%s', (_t, args, status, want) => {
    expect(actions(args, status)).toEqual(want);
    // Nothing to do says why, from the facts.
    if (want.length === 0) expect(planIntent(systemd, args, facts(status)).noop).toMatch(/^service tigervncserver@:1 is \S/);
  });

  it('a plan that changes nothing says why, in the words of what was asked', () => {
    expect(planIntent(systemd, { name: 'x', state: 'started', enabled: true }, facts(running))).toEqual({ changes: [], noop: 'service tigervncserver@:1 is running, enabled' });
    expect(planIntent(systemd, { name: 'x', state: 'stopped', masked: true }, facts(masked)).noop).toBe('service tigervncserver@:1 is stopped, masked');
    expect(planIntent(systemd, { name: 'x', enabled: false }, facts({ ...stopped, UnitFileState: 'static' })).noop).toBe('service tigervncserver@:1 is static');
  });

  it('a unit that does not exist fails with Ansible\'s message', () => {
    expect(() => planSystemd(a({ name: 'nope', state: 'started' }), facts({ LoadState: 'not-found', ActiveState: 'inactive' }, 'nope.service'))).toThrow(
      /Could not find the requested service "nope.service"/,
    );
  });

  it('a name-less daemon_reload plans nothing (the reload runs in gather, not a change, as in Ansible)', () => {
    expect(planSystemd(a({ daemon_reload: true }), { status: {}, showRc: 0, showErr: '' })).toEqual([]);
    expect(gatherArgv(a({ daemon_reload: true }), undefined, false)[2]).toContain('daemon-reload');
    // --check never reloads
    expect(gatherArgv(a({ daemon_reload: true }), undefined, true)[2]).not.toContain('daemon-reload');
  });

  it('daemon_reload with a name: the unit is shifted off before systemctl runs (the reload gets no stray argument)', () => {
    const script = gatherArgv(a({ name: 'x', daemon_reload: true }), 'x.service', false)[2]!;
    expect(script.indexOf('u=$1; shift')).toBeLessThan(script.indexOf('daemon-reload'));
    expect(script).toContain('XDG_RUNTIME_DIR');
  });

  it("accepts the service module's extra parameters and plans the same", () => {
    expect(systemd.schema.properties).toHaveProperty('sleep');
    expect(actions({ name: 'x', state: 'started', pattern: 'Xvnc', sleep: 2, use: 'auto' }, stopped)).toEqual(['start']);
  });

  it('diffs say before/after state', () => {
    const [c] = planSystemd(a({ name: 'x', state: 'started' }), facts(stopped));
    expect(c?.diff).toMatchObject({ before: { state: 'stopped' }, after: { state: 'started' } });
  });
});

describe('systemd names and argv', () => {
  it.each([
    ['sshd', 'sshd.service'],
    ['tigervncserver@:1', 'tigervncserver@:1.service'],
    ['tigervncserver@:1.service', 'tigervncserver@:1.service'],
    ['foo.timer', 'foo.timer'],
    ['multi-user.target', 'multi-user.target'],
  ])('%s → %s', (n, u) => expect(unitName(n)).toBe(u));

  const evil = ['; touch /tmp/pwned', '$(touch /tmp/pwned)', "x' ; touch /tmp/pwned ; '", 'a\ntouch /tmp/pwned', '`touch /tmp/pwned`'];
  it.each(evil)('unit name %j stays one literal argv element, never script text', (name) => {
    const unit = unitName(name);
    for (const argv of [gatherArgv(a({ name }), unit, false), actionArgv(a({ name }), 'start', unit)]) {
      expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
      expect(argv[2]).not.toContain('pwned');
      expect(argv.filter((a) => a === unit)).toHaveLength(1);
    }
    expect(actionArgv(a({ name }), 'enable', unit)).toEqual(['systemctl', 'enable', '--', unit]);
  });

  it('scope user adds --user, no_block adds --no-block, force adds --force to enable', () => {
    expect(actionArgv(a({ name: 'x', scope: 'user', no_block: true }), 'start', 'x.service').slice(4)).toEqual(['x.service', 'start', 'systemctl', '--user', '--no-block']);
    expect(actionArgv(a({ name: 'x', force: true }), 'enable', 'x.service')).toEqual(['systemctl', '--force', 'enable', '--', 'x.service']);
    expect(actionArgv(a({ name: 'x', scope: 'user' }), 'enable', 'x.service')[2]).toContain('XDG_RUNTIME_DIR');
  });

  it('the spec: one name per parameter, name needed for state, scope global has no state', () => {
    expect(checkArgs(systemd, { name: 'a', service: 'b' })).toMatch(/`service` and `name` are names of the same parameter `name`/);
    expect(checkArgs(systemd, { state: 'started' })).toMatch(/`state` needs `name`/);
    expect(checkArgs(systemd, {})).toMatch(/one of `name`, `daemon_reload`, `daemon_reexec` is required/);
    expect(checkArgs(systemd, { name: 'x', scope: 'global', state: 'started' })).toMatch(/global/);
    expect(checkArgs(systemd, { unit: 'x', state: 'started' })).toBeUndefined();
    expect(checkArgs(systemd, { name: '' })).toMatch(/`name` must be a non-empty unit name/);
  });
});

describe('parseSystemctlShow', () => {
  it('reads KEY=VALUE and joins multi-line { } values', () => {
    const p = parseSystemctlShow('Id=x.service\nExecStart={ path=/bin/true ; argv[]=/bin/true\n ; status=0/0 }\nActiveState=active\nEmpty=\n');
    expect(p).toEqual({ Id: 'x.service', ExecStart: '{ path=/bin/true ; argv[]=/bin/true\n ; status=0/0 }', ActiveState: 'active', Empty: '' });
  });
  it('is-enabled semantics', () => {
    expect(isEnabled({ UnitFileState: 'enabled' })).toBe(true);
    expect(isEnabled({ UnitFileState: 'indirect' })).toBe(true);
    expect(isEnabled({ UnitFileState: 'disabled' })).toBe(false);
    expect(isEnabled({ UnitFileState: 'masked' })).toBe(false);
  });
});

describe('--diff (golden)', () => {
  it('enable + start a stopped template instance', () => {
    const changes = planSystemd(a({ name: 'tigervncserver@:1', state: 'started', enabled: true }), facts(stopped));
    expect(renderDiffs(changes.flatMap((c) => (c.diff ? [c.diff] : [])))).toBe(
      [
        '--- before: tigervncserver@:1.service',
        '+++ after: tigervncserver@:1.service',
        '@@ -1,3 +1,3 @@',
        ' {',
        '-    "enabled": false',
        '+    "enabled": true',
        ' }',
        '',
        '--- before: tigervncserver@:1.service',
        '+++ after: tigervncserver@:1.service',
        '@@ -1,3 +1,3 @@',
        ' {',
        '-    "state": "stopped"',
        '+    "state": "started"',
        ' }',
        '',
        '',
      ].join('\n'),
    );
  });
});

describe('startedFine (finish verification)', () => {
  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ['running', { Type: 'forking' }, { ActiveState: 'active', Result: 'success' }, true],
    ['forking service gone again (Xvnc session exited early)', { Type: 'forking' }, { ActiveState: 'inactive', Result: 'success' }, false],
    ['failed', { Type: 'simple' }, { ActiveState: 'failed', Result: 'exit-code' }, false],
    ['oneshot done', { Type: 'oneshot' }, { ActiveState: 'inactive', Result: 'success' }, true],
    ['oneshot failed', { Type: 'oneshot' }, { ActiveState: 'failed', Result: 'exit-code' }, false],
  ])('%s', (_t, before, after, want) => expect(startedFine(before, after)).toBe(want));
});

describe('loose Ansible booleans', () => {
  it('"yes"/"no" strings are parsed to booleans before the module sees them', () => {
    expect(checkArgs(systemd, { name: 'x', enabled: 'yes', daemon_reload: 'no' })).toBeUndefined();
    expect(checkArgs(systemd, { name: 'x', enabled: 'maybe' })).toMatch(/`enabled` must be a boolean/);
    expect(a({ name: 'x', enabled: 'yes', 'daemon-reload': 'on' })).toMatchObject({ enabled: true, daemon_reload: true });
    expect(actions({ name: 'x', enabled: 'yes' }, stopped)).toEqual(['enable']);
    expect(actions({ name: 'x', enabled: 'no' }, running)).toEqual(['disable']);
  });
});

import { describe, expect, it } from 'vitest';
import { baseArgv, factsFromStatus, matchProcesses, parseStatus, planSupervisor, supervisorctl } from '../../src/modules/supervisor.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import type { Change } from '../../src/modules/types.js';

const STATUS = [
  'vnc1                             RUNNING   pid 101, uptime 0:01:00',
  'vnc2                             STOPPED   Nov 25 09:00 PM',
  'web:web_00                       RUNNING   pid 102, uptime 0:01:00',
  'web:web_01                       FATAL     Exited too quickly (process log may have details)',
].join('\n');
const facts = factsFromStatus(3, STATUS, '');
const argvs = (c: Change[]): string[][] => c.flatMap((x) => x.steps.map((s) => (s.kind === 'exec' ? s.argv : [])));

describe('supervisorctl status parsing', () => {
  it('parses names and states, rc 3 is an answer', () => {
    expect(parseStatus(STATUS).map((p) => `${p.name}=${p.status}`)).toEqual(['vnc1=RUNNING', 'vnc2=STOPPED', 'web:web_00=RUNNING', 'web:web_01=FATAL']);
    expect(facts.unreachable).toBeUndefined();
  });
  it('no status line and rc 4 means supervisord is not reachable', () => {
    const f = factsFromStatus(4, 'unix:///var/run/supervisor.sock no such file\n', '');
    expect(f.unreachable).toMatch(/no such file/);
    expect(() => planSupervisor(parsedArgs(supervisorctl, { name: 'vnc1', state: 'started' }), f)).toThrow(/cannot reach supervisord/);
  });
  it('groups and all', () => {
    expect(matchProcesses('web:', facts.processes).map((p) => p.name)).toEqual(['web:web_00', 'web:web_01']);
    expect(matchProcesses('all', facts.processes)).toHaveLength(4);
    expect(matchProcesses('vnc', facts.processes)).toHaveLength(0);
  });
});

describe('supervisorctl plan', () => {
  const table: Array<[string, Record<string, unknown>, string[][]]> = [
    ['started on running: ok', { name: 'vnc1', state: 'started' }, []],
    ['started on stopped: start', { name: 'vnc2', state: 'started' }, [['supervisorctl', 'start', 'vnc2']]],
    ['stopped on running: stop', { name: 'vnc1', state: 'stopped' }, [['supervisorctl', 'stop', 'vnc1']]],
    ['stopped on stopped: ok', { name: 'vnc2', state: 'stopped' }, []],
    ['group started: only the non-running member', { name: 'web:', state: 'started' }, [['supervisorctl', 'start', 'web:web_01']]],
    ['restarted: always, after update', { name: 'vnc1', state: 'restarted' }, [['supervisorctl', 'update'], ['supervisorctl', 'restart', 'vnc1']]],
    ['present when present: ok', { name: 'vnc1', state: 'present' }, []],
    ['present when missing: reread + add', { name: 'vnc3', state: 'present' }, [['supervisorctl', 'reread'], ['supervisorctl', 'add', 'vnc3']]],
    ['absent when missing: ok', { name: 'vnc3', state: 'absent' }, []],
    ['absent: reread + remove', { name: 'vnc1', state: 'absent' }, [['supervisorctl', 'reread'], ['supervisorctl', 'remove', 'vnc1']]],
    ['absent + stop_before_removing', { name: 'vnc1', state: 'absent', stop_before_removing: true }, [['supervisorctl', 'stop', 'vnc1'], ['supervisorctl', 'reread'], ['supervisorctl', 'remove', 'vnc1']]],
    ['signalled: running only', { name: 'web:', state: 'signalled', signal: 'HUP' }, [['supervisorctl', 'signal', 'HUP', 'web:web_00']]],
  ];
  it.each(table)('%s', (_t, args, want) => expect(argvs(planSupervisor(parsedArgs(supervisorctl, args), facts))).toEqual(want));

  it('started on an unknown program fails like Ansible', () => {
    expect(() => planSupervisor(parsedArgs(supervisorctl, { name: 'nope', state: 'started' }), facts)).toThrow(/no such process/);
  });

  it('connection options and a secret password', () => {
    const b = baseArgv(parsedArgs(supervisorctl, { name: 'x', state: 'started', config: '/etc/s.conf', server_url: 'http://127.0.0.1:9001', username: 'u', password: 'hunter2' }));
    expect(b).toEqual({ argv: ['supervisorctl', '-c', '/etc/s.conf', '-s', 'http://127.0.0.1:9001', '-u', 'u', '-p', 'hunter2'], secret: true });
    const [c] = planSupervisor(parsedArgs(supervisorctl, { name: 'vnc2', state: 'started', password: 'hunter2' }), facts);
    expect(c!.steps[0]).toMatchObject({ kind: 'exec', secret: true });
  });

  it.each<[Record<string, unknown>, RegExp | undefined]>([
    [{ name: 'vnc1', state: 'signalled' }, /`state` is "signalled", so `signal` is required/],
    [{ name: 'vnc1', state: 'signalled', signal: 'HUP; touch /tmp/pwned' }, /`signal` must be a signal name or number/],
    [{ name: '; touch /tmp/pwned', state: 'started' }, /without whitespace/],
    [{ name: '--help', state: 'started' }, /not starting with '-'/],
    [{ name: '$(touch$IFS/tmp/pwned)', state: 'started' }, undefined],
  ])('the spec refuses %j', (args, want) => {
    const got = checkArgs(supervisorctl, args);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });

  it('a metacharacter name is one literal argv element', () => {
    const name = '$(touch$IFS/tmp/pwned)';
    const f = factsFromStatus(0, `${name} STOPPED Nov 25\n`, '');
    expect(argvs(planSupervisor(parsedArgs(supervisorctl, { name, state: 'started' }), f))).toEqual([['supervisorctl', 'start', name]]);
  });
});

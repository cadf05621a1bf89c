import { describe, expect, it } from 'vitest';
import { groupModule } from '../../src/modules/group.js';
import { userChanges, userModule, type UserFacts } from '../../src/modules/user.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import { planIntent } from '../support/module-harness.js';

const groups = [
  { name: 'users', gid: 100, members: ['ann'] },
  { name: 'ann', gid: 1000, members: [] },
  { name: 'vnc', gid: 1001, members: ['ann'] },
];
const ann = { name: 'ann', password: 'x', uid: 1000, gid: 1000, comment: 'Ann', home: '/home/ann', shell: '/bin/bash' };
const facts = (over: Partial<UserFacts> = {}): UserFacts => ({ user: ann, groups, homeExists: true, keyExists: false, pubExists: false, hostname: 'h1', ...over });
const argvs = (raw: Record<string, unknown>, f: UserFacts): string[][] =>
  userChanges(parsedArgs(userModule, raw), f).flatMap((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv : [])));

describe('user: the commands planned from the account databases', () => {
  it('a plan with nothing to do says why (shown at -v)', () => {
    expect(planIntent(userModule, { name: 'ann', shell: '/bin/bash' }, facts())).toEqual({
      changes: [],
      noop: 'user ann exists (uid 1000, home /home/ann, shell /bin/bash) as asked',
    });
    expect(planIntent(userModule, { name: 'bob', state: 'absent' }, facts({ user: undefined })).noop).toBe('user bob is absent');
  });

  it.each([
    ['nothing differs', { name: 'ann', shell: '/bin/bash', groups: ['vnc', 'users'] }, []],
    ['append: a group already there', { name: 'ann', groups: ['vnc'], append: true }, []],
    ['append: a new group', { name: 'ann', groups: ['ann'], append: true }, [['usermod', '-a', '-G', 'ann', 'ann']]],
    ['replace the groups', { name: 'ann', groups: ['vnc'] }, [['usermod', '-G', 'vnc', 'ann']]],
    ['empty groups', { name: 'ann', groups: [] }, [['usermod', '-G', '', 'ann']]],
    ['primary group by gid, shell, comment', { name: 'ann', group: '1001', shell: '/bin/sh', comment: 'A' }, [['usermod', '-g', '1001', '-c', 'A', '-s', '/bin/sh', 'ann']]],
    ['home moved', { name: 'ann', home: '/srv/ann', move_home: true }, [['usermod', '-d', '/srv/ann', '-m', 'ann']]],
    ['remove', { name: 'ann', state: 'absent', remove: true, force: true }, [['userdel', '-f', '-r', 'ann']]],
  ])('%s', (_what, raw, expected) => {
    expect(argvs(raw, facts())).toEqual(expected);
  });

  it('creates a user with -N when a group of its name exists, and checks the groups exist', () => {
    expect(argvs({ name: 'ann', groups: ['vnc'], system: true, create_home: false }, facts({ user: undefined }))).toEqual([['useradd', '-N', '-G', 'vnc', '-M', '-r', 'ann']]);
    expect(() => argvs({ name: 'bob', groups: ['nope'] }, facts({ user: undefined }))).toThrow('Group nope does not exist');
  });

  it('recreates a missing home, and generates a key only when there is none', () => {
    expect(argvs({ name: 'ann' }, facts({ homeExists: false }))[0]!.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argvs({ name: 'ann', generate_ssh_key: true }, facts({ keyExists: true }))).toEqual([]);
    expect(argvs({ name: 'ann', generate_ssh_key: true }, facts())).toHaveLength(1);
  });

  it('refuses what Ansible refuses', () => {
    expect(checkArgs(userModule, { name: 'ann', non_unique: true })).toBe('user: `non_unique` is true, so `uid` is required');
    expect(checkArgs(groupModule, { name: '-x' })).toMatch(/^group: `name` must be a group name/);
  });
});

import { describe, expect, it } from 'vitest';
import { authorizedKeyModule } from '../../src/modules/authorized-key.js';
import type { NftFacts } from '../../src/modules/firewall/backend.js';
import { firewall, rulesFromArgs } from '../../src/modules/firewall/index.js';
import { ruleTag, type FwRule } from '../../src/modules/firewall/rule.js';
import { cloudInstance, type InstanceFacts } from '../../src/modules/cloud-instance/index.js';
import { groupModule } from '../../src/modules/group.js';
import { mountModule, type MountFacts } from '../../src/modules/mount.js';
import { factsFromStatus, supervisorctl } from '../../src/modules/supervisor.js';
import { sysctlModule } from '../../src/modules/sysctl.js';
import { timezoneModule, type TimezoneFacts } from '../../src/modules/timezone.js';
import type { PlannedModule } from '../../src/modules/types.js';
import { planIntent, type Intent } from '../support/module-harness.js';

/**
 * Where a plan makes no change, the module says why (pyinfra's noop, shown at -v): from the facts it read, in the
 * module's own terms. Each row also proves the plan is empty for those facts, and the last ones that a plan with
 * changes says nothing of the kind.
 */
const key = 'ssh-ed25519 AAAAkeyA alice@vp';
const keyFacts = (content: string) => ({ uid: 1000, gid: 1000, keyfile: '/home/alice/.ssh/authorized_keys', dirExists: true, parentExists: true, content });
const mounted = (over: Partial<MountFacts> = {}): MountFacts => ({ fstab: 'tmpfs /mnt/x tmpfs defaults 0 0\n', exists: true, isMount: true, mounts: new Map(), listed: [], pid: 1, now: 0, ...over });
const zone = (over: Partial<TimezoneFacts> = {}): TimezoneFacts => ({ systemd: true, timedatectl: '/usr/bin/timedatectl', name: 'Europe/Berlin', hwclock: 'UTC', known: true, ...over });
const allowVnc = { port: 5901, source: '198.18.0.1', action: 'accept' } as const;
const nft = (rules: FwRule[]): NftFacts => ({
  backend: 'nftables',
  nft: { table: rules.length > 0, chain: rules.length > 0, entries: rules.map((r) => ({ tag: ruleTag(r), rule: r })) },
  persisted: null,
  nftInclude: false,
});

const supervised = factsFromStatus(3, ['vnc1                             RUNNING   pid 101, uptime 0:01:00', 'web:web_00                       RUNNING   pid 102, uptime 0:01:00'].join('\n'), '');
const instance = (state: 'running' | 'stopped'): InstanceFacts => ({
  instance: { id: 'i-1', state, providerState: state, privateIps: [], publicIps: [] },
  adapter: {} as InstanceFacts['adapter'], // never called: plan() only names the step
});

// One row: the module, its arguments as a task writes them, the facts, what the plan intends.
type Row = [what: string, mod: PlannedModule<never, never>, args: Record<string, unknown>, facts: unknown, intent: Intent];
const row = <F>(what: string, mod: PlannedModule<never, F>, args: Record<string, unknown>, facts: F, intent: Intent): Row => [what, mod as PlannedModule<never, never>, args, facts, intent];

describe('a plan with nothing to do says why', () => {
  it.each([
    row('group exists', groupModule, { name: 'vnc', gid: 1001 }, { group: { name: 'vnc', gid: 1001, members: [] } }, { changes: [], noop: 'group vnc exists (gid 1001)' }),
    row('group absent', groupModule, { name: 'old', state: 'absent' }, {}, { changes: [], noop: 'group old is absent' }),
    row('sysctl in the file and running', sysctlModule, { name: 'net.ipv4.ip_forward', value: 'yes', sysctl_set: true }, { running: '1', file: 'net.ipv4.ip_forward=1\n' }, {
      changes: [],
      noop: 'net.ipv4.ip_forward=1 in /etc/sysctl.conf and running',
    }),
    row('sysctl absent', sysctlModule, { name: 'a.b', state: 'absent', sysctl_file: '/etc/sysctl.d/90-vnc.conf' }, { running: '1', file: 'c.d=2\n' }, {
      changes: [],
      noop: 'a.b is not in /etc/sysctl.d/90-vnc.conf',
    }),
    row('timezone and hardware clock', timezoneModule, { name: 'Europe/Berlin', hwclock: 'UTC' }, zone(), { changes: [], noop: 'time zone is Europe/Berlin, hardware clock is in UTC' }),
    row('mount mounted', mountModule, { path: '/mnt/x', src: 'tmpfs', fstype: 'tmpfs', state: 'mounted' }, mounted(), { changes: [], noop: '/mnt/x is mounted and in /etc/fstab' }),
    row('mount unmounted', mountModule, { path: '/mnt/x', state: 'unmounted' }, mounted({ isMount: false }), { changes: [], noop: '/mnt/x is not mounted' }),
    row('mount absent', mountModule, { path: '/mnt/y', state: 'absent', fstab: '/etc/fstab.vnc' }, mounted({ isMount: false }), { changes: [], noop: '/mnt/y is not in /etc/fstab.vnc' }),
    row('authorized_key present', authorizedKeyModule, { user: 'alice', key }, keyFacts(`${key}\n`), { changes: [], noop: '/home/alice/.ssh/authorized_keys has the key(s) asked' }),
    row('authorized_key absent', authorizedKeyModule, { user: 'alice', key, state: 'absent' }, keyFacts(''), { changes: [], noop: '/home/alice/.ssh/authorized_keys has none of the key(s)' }),
    row('firewall rule present', firewall, allowVnc, nft(rulesFromArgs(allowVnc)), { changes: [], noop: 'nftables has vncplay/1 tcp 5901 198.18.0.1/32 accept' }),
    row('supervisorctl started', supervisorctl, { name: 'web:', state: 'started' }, supervised, { changes: [], noop: 'web:web_00 is RUNNING' }),
    row('supervisorctl absent', supervisorctl, { name: 'old', state: 'absent' }, supervised, { changes: [], noop: 'no process old in supervisord' }),
    row('cloud_instance running', cloudInstance, { provider: 'aws', region: 'eu-west-1', instance_id: 'i-1', state: 'running' }, instance('running'), {
      changes: [],
      noop: 'aws instance i-1 in eu-west-1 is running',
    }),
    row('firewall rule absent', firewall, { ...allowVnc, state: 'absent' }, nft([]), { changes: [], noop: 'nftables has no vncplay/1 tcp 5901 198.18.0.1/32 accept' }),
  ])('%s', (_what, mod, args, facts, intent) => {
    expect(planIntent(mod, args, facts as never)).toEqual(intent);
  });

  it.each([
    row('group renumbered', groupModule, { name: 'vnc', gid: 1002 }, { group: { name: 'vnc', gid: 1001, members: [] } }, { changes: ['set gid of vnc to 1002'] }),
    row('sysctl value differs', sysctlModule, { name: 'a.b', value: '2', reload: false }, { running: '1', file: 'a.b=1\n' }, { changes: ['set a.b=2'] }),
    row('firewall rule missing', firewall, allowVnc, nft([]), { changes: ['add vncplay/1 tcp 5901 198.18.0.1/32 accept'] }),
  ])('%s: a change, and no reason', (_what, mod, args, facts, intent) => {
    expect(planIntent(mod, args, facts as never)).toEqual(intent);
  });
});

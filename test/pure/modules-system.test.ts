import { describe, expect, it } from 'vitest';
import { walk, type Entry, type Listing } from '../../src/modules/find.js';
import { fnmatchRegExp } from '../../src/playbook/fnmatch.js';
import { planSysctl, sysctlValue, type SysctlFacts } from '../../src/modules/sysctl.js';
import { findFilesModule } from '../../src/modules/find.js';
import { sysctlModule } from '../../src/modules/sysctl.js';
import { cleanCommand } from '../../src/modules/make.js';
import { linuxMounts, listedMounts, mountEntry, mountModule, planMount, setMount, unsetMount, type MountFacts } from '../../src/modules/mount.js';
import { parseTimezoneRead, planTimezone, timezoneModule } from '../../src/modules/timezone.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

/** Pure parts of sysctl and find: Ansible's decisions from facts, no host. */

const sysctl = (raw: Record<string, unknown>, facts: SysctlFacts) => planSysctl(parsedArgs(sysctlModule, { sysctl_file: '/etc/s.conf', ...raw }), facts);
const stepsOf = (changes: ReturnType<typeof planSysctl>) => changes.flatMap((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv.join(' ') : s.kind === 'write' ? `write ${String(s.content)}` : s.kind)));

describe('sysctl: the plan is Ansible SysctlModule.process', () => {
  it.each([
    ['new entry: written and the file reloaded', { name: 'a.b', value: '1' }, { running: '0', file: undefined }, ['write a.b=1\n', 'sysctl -p /etc/s.conf']],
    ['same in file and running: nothing', { name: 'a.b', value: '1' }, { running: '1\n', file: 'a.b = 1\n' }, []],
    ['same in file, running differs: only the reload', { name: 'a.b', value: '1' }, { running: '0', file: 'a.b=1\n' }, ['sysctl -p /etc/s.conf']],
    ['same in file, running differs, no reload: unchanged', { name: 'a.b', value: '1', reload: false }, { running: '0', file: 'a.b=1\n' }, []],
    ['sysctl_set sets the running value first', { name: 'a.b', value: 'on', sysctl_set: true, reload: false }, { running: '0', file: 'a.b=1\n' }, ['sysctl -w a.b=1']],
    ['words compared as words', { name: 'r.m', value: '4096  87380 6291456' }, { running: '4096\t87380\t6291456\n', file: 'r.m=4096  87380 6291456\n' }, []],
    ['other entries normalised, comments kept, duplicates dropped', { name: 'a.b', value: '2', reload: false }, { running: '1', file: '# c\nx.y = 3\na.b=1\nx.y=4\n' }, ['write # c\nx.y=3\na.b=2\n']],
    ['absent: the entry removed', { name: 'a.b', state: 'absent', reload: false }, { running: '1', file: 'a.b=1\nc.d=2\n' }, ['write c.d=2\n']],
    ['absent and not there: nothing', { name: 'a.b', state: 'absent' }, { running: '1', file: 'c.d=2\n' }, []],
    ['ignoreerrors: -e', { name: 'a.b', value: '1', sysctl_set: true, ignoreerrors: true }, { running: '0', file: undefined }, ['sysctl -e -w a.b=1', 'write a.b=1\n', 'sysctl -e -p /etc/s.conf']],
  ] as const)('%s', (_what, raw, facts, steps) => {
    expect(stepsOf(sysctl(raw, facts))).toEqual(steps);
  });

  it('an unknown key with sysctl_set is a change without a command (Ansible reports changed)', () => {
    const changes = sysctl({ name: 'a.b', value: '1', sysctl_set: true, reload: false }, { running: undefined, file: 'a.b=1\n' });
    expect(changes).toHaveLength(1);
    expect(stepsOf(changes)).toEqual([]);
  });

  it('values: booleans become 1/0, the rest is stripped; state=present needs a value', () => {
    expect([sysctlValue('yes'), sysctlValue('False'), sysctlValue(' 10 '), sysctlValue(undefined)]).toEqual(['1', '0', '10', '']);
    expect(checkArgs(sysctlModule, { name: 'a.b' })).toMatch(/value/);
    expect(checkArgs(sysctlModule, { name: 'a.b', value: ' ' })).toBe('sysctl: value cannot be blank');
    expect(checkArgs(sysctlModule, { key: 'a.b', val: 1 })).toBeUndefined();
  });
});

describe('find: globs and the walk', () => {
  // Each expectation is what Python 3.11's fnmatch.fnmatch says.
  it.each([
    ['*.txt', 'a.txt', true], ['*.txt', 'a.txt.bak', false], ['[!a]*', 'abc', false], ['[!a]*', 'bcd', true],
    ['[]a]x', ']x', true], ['[]a]x', 'ax', true], ['[a-c]?', 'bz', true], ['[', '[', true], ['a[', 'a[', true],
    ['[!]', 'x', false], ['*', '.hidden', true], ['a\\b', 'a\\b', true], ['[^a]', '^', true], ['[^a]', 'b', false],
    ['f?o.(log)', 'fxo.(log)', true], ['*.TXT', 'a.txt', false],
  ] as const)('fnmatch(%j, %j) is %s', (glob, name, hit) => {
    expect(fnmatchRegExp(glob).test(name)).toBe(hit);
  });

  const entry = (rel: string, type: string, followedType = type): Entry => ({
    rel, type, followedType, mode: 0o644, uid: 0, gid: 0, size: 1, atime: 0, mtime: 0, ctime: 0, nlink: 1, inode: 1, dev: 1, owner: 'root', group: 'root',
  });
  // readdir order: a folder before a file, a hidden folder, a link to a folder
  const top: Listing = {
    isDir: true,
    entries: [entry('d', 'd'), entry('d/x.txt', 'f'), entry('d/e', 'd'), entry('d/e/y.txt', 'f'), entry('.h', 'd'), entry('.h/z.txt', 'f'), entry('a.txt', 'f'), entry('l', 'l', 'd')],
  };
  const linked: Listing = { isDir: true, entries: [entry('w.txt', 'f')] };
  const paths = (raw: Record<string, unknown>, listings: Record<string, Listing> = {}) => {
    const r = walk(parsedArgs(findFilesModule, { paths: '/t', ...raw }), '/t', new Map(Object.entries({ '/t': top, ...listings })), 1000);
    return { found: r.found.map((f) => f.path), examined: r.examined, unlisted: r.unlisted };
  };

  it('files before folders in each folder, hidden folders still entered, links entered only with follow', () => {
    expect(paths({ recurse: true })).toEqual({ found: ['/t/a.txt', '/t/d/x.txt', '/t/d/e/y.txt', '/t/.h/z.txt'], examined: 8, unlisted: [] });
    expect(paths({ recurse: true, follow: true })).toEqual({ found: ['/t/a.txt', '/t/d/x.txt', '/t/d/e/y.txt', '/t/.h/z.txt'], examined: 8, unlisted: ['/t/l'] });
    expect(paths({ recurse: true, follow: true }, { '/t/l': linked }).found).toContain('/t/l/w.txt');
    expect(paths({})).toEqual({ found: ['/t/a.txt'], examined: 4, unlisted: [] });
  });

  it('depth: entries deeper are not taken, but one level more is examined', () => {
    expect(paths({ recurse: true, depth: 1, file_type: 'any', hidden: true })).toEqual({ found: ['/t/a.txt', '/t/d', '/t/.h', '/t/l'], examined: 7, unlisted: [] });
  });

  it('regex patterns match from the start of the name; bad ones are refused at the parameter', () => {
    expect(paths({ recurse: true, use_regex: true, patterns: ['[xy]\\.'] }).found).toEqual(['/t/d/x.txt', '/t/d/e/y.txt']);
    expect(checkArgs(findFilesModule, { paths: '/t', use_regex: true, excludes: ['(a'] })).toMatch(/^find: excludes: /);
    expect(checkArgs(findFilesModule, { paths: '/t', age: '2 days' })).toMatch(/age/);
  });
});

describe('mount: the fstab edit and the decision are Ansible mount.py', () => {
  const args = (raw: Record<string, unknown>) => parsedArgs(mountModule, { path: '/mnt/x', src: 'tmpfs', fstype: 'tmpfs', state: 'mounted', ...raw });
  const facts = (over: Partial<MountFacts> = {}): MountFacts => ({ fstab: '', exists: true, isMount: false, mounts: new Map(), listed: [], pid: 1, now: 0, ...over });
  const summaries = (raw: Record<string, unknown>, f: MountFacts) => planMount(args(raw), f).map((c) => c.summary);

  it('adds, keeps, rewrites and escapes entries as _set_mount_save_old does', () => {
    expect(setMount(args({ opts: 'size=1m' }), '')).toEqual({ text: 'tmpfs /mnt/x tmpfs size=1m 0 0\n', changed: true });
    expect(setMount(args({ opts: 'size=1m' }), '# c\ntmpfs\t/mnt/x  tmpfs size=1m 0 0\n')).toEqual({ text: '# c\ntmpfs\t/mnt/x  tmpfs size=1m 0 0\n', changed: false });
    expect(setMount(args({ opts: 'size=2m' }), 'tmpfs /mnt/x tmpfs size=1m\n/dev/a / ext4 defaults 0 1\n')).toEqual({ text: 'tmpfs /mnt/x tmpfs size=2m 0 0\n/dev/a / ext4 defaults 0 1\n', changed: true });
    expect(setMount(args({ path: '/mnt/a b', boot: false }), '').text).toBe('tmpfs /mnt/a\\040b tmpfs defaults 0 0\n');
    expect(mountEntry(args({ opts: 'size=1m', boot: false }))).toMatchObject({ opts: 'size=1m,noauto', boot: 'no' });
    expect(unsetMount(args({}), 'tmpfs /mnt/x tmpfs defaults 0 0\ntmpfs /mnt/x tmpfs defaults\nx /y z w 0 0\n')).toEqual({ text: 'tmpfs /mnt/x tmpfs defaults\nx /y z w 0 0\n', changed: true });
  });

  it('reads bind mounts from mountinfo as get_linux_mounts does', () => {
    const info = ['20 1 0:30 / / rw - overlay overlay rw', '30 20 0:30 /srv/src /mnt/b rw - overlay overlay rw', '31 20 0:40 / /mnt/t rw - tmpfs tmpfs rw'].join('\n');
    expect([...linuxMounts(info)]).toEqual([['/', 'overlay'], ['/mnt/b', '/srv/src'], ['/mnt/t', '/']]);
  });

  it('mounted: mounts what is not mounted (making the folder), remounts only when the entry changed', () => {
    expect(summaries({}, facts({ exists: false }))).toEqual(['update /etc/fstab', 'mount /mnt/x']);
    // One script makes the folder and mounts; when the mount fails it writes the fstab back from stdin.
    const [mount] = planMount(args({}), facts({ exists: false, fstab: '# c' })).at(-1)!.steps;
    expect(mount).toMatchObject({ argv: ['sh', '-c', expect.stringContaining('mkdir -p'), 'sh', '/mnt/x', 'mount', '/etc/fstab', '--'], stdin: '# c\n', undoesOnFailure: true });
    expect(planMount(args({ fstab: '/tmp/t' }), facts({ isMount: true })).at(-1)!.steps[0]).toMatchObject({ argv: ['sh', '-c', expect.any(String), 'sh', '/mnt/x', 'remount', '/tmp/t', '-T', '/tmp/t', '--'], stdin: '' });
    expect(summaries({}, facts({ isMount: true, fstab: 'tmpfs /mnt/x tmpfs defaults 0 0\n' }))).toEqual([]);
    expect(summaries({ opts: 'size=1m' }, facts({ isMount: true, fstab: 'tmpfs /mnt/x tmpfs defaults 0 0\n' }))).toEqual(['update /etc/fstab', 'remount /mnt/x']);
    expect(summaries({ fstype: 'none', src: '/srv/src', opts: 'bind' }, facts({ mounts: new Map([['/mnt/x', '/srv/other']]) }))).toEqual(['update /etc/fstab', 'mount /mnt/x']);
  });

  it('absent removes the entry, unmounts and removes the folder only when there was an entry; unmounted only unmounts', () => {
    expect(summaries({ state: 'absent' }, facts({ isMount: true, fstab: 'tmpfs /mnt/x tmpfs defaults 0 0\n' }))).toEqual(['update /etc/fstab', 'unmount and remove /mnt/x']);
    expect(summaries({ state: 'absent' }, facts({ isMount: true }))).toEqual([]);
    expect(summaries({ state: 'unmounted' }, facts({ isMount: true }))).toEqual(['unmount /mnt/x']);
    expect(summaries({ state: 'unmounted' }, facts())).toEqual([]);
  });

  it('ephemeral: mounts from the arguments alone, remounts what src has mounted there, refuses another source', () => {
    const eph = (raw: Record<string, unknown> = {}) => args({ state: 'ephemeral', opts: 'size=1m', ...raw });
    const argv = (raw: Record<string, unknown>, f: MountFacts) => planMount(eph(raw), f).map((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv.slice(4) : [])));
    // The fstab is neither read nor written: an entry for the path changes nothing.
    expect(summaries({ state: 'ephemeral' }, facts({ exists: false, fstab: 'tmpfs /mnt/x tmpfs size=9m 0 0\n' }))).toEqual(['mount /mnt/x']);
    expect(argv({}, facts())).toEqual([[['/mnt/x', 'mount', '', '-t', 'tmpfs', '-o', 'size=1m', '--', 'tmpfs']]]);
    expect(argv({ opts: null }, facts())).toEqual([[['/mnt/x', 'mount', '', '-t', 'tmpfs', '--', 'tmpfs']]]);
    // boot: false still adds noauto (Ansible computes the options before it looks at the state).
    expect(argv({ boot: false }, facts())).toEqual([[['/mnt/x', 'mount', '', '-t', 'tmpfs', '-o', 'size=1m,noauto', '--', 'tmpfs']]]);
    // Mounted from src (`mount -v` lists it, or mountinfo's bind source): remounted, always a change.
    expect(argv({}, facts({ isMount: true, listed: [{ src: 'tmpfs', dst: '/mnt/x' }] }))).toEqual([[['/mnt/x', 'remount', '', '-t', 'tmpfs', '-o', 'size=1m', '--', 'tmpfs']]]);
    const bind = { src: '/srv/src', fstype: 'none', opts: 'bind' };
    expect(summaries({ state: 'ephemeral', ...bind }, facts({ mounts: new Map([['/mnt/x', '/srv/src']]) }))).toEqual(['remount /mnt/x']);
    // Another bind source is not a mount of src: mounted over it, as Ansible's is_bind_mounted(src) decides.
    expect(summaries({ state: 'ephemeral', ...bind }, facts({ mounts: new Map([['/mnt/x', '/srv/other']]) }))).toEqual(['mount /mnt/x']);
    expect(() => planMount(eph(), facts({ isMount: true, listed: [{ src: '/dev/sdb1', dst: '/mnt/x' }] }))).toThrow(/already mounted with a different source than the specified one/);
    expect(checkArgs(mountModule, { path: '/mnt/x', fstype: 'tmpfs', state: 'ephemeral' })).toMatch(/src/);
  });

  it('reads `mount -v` lines as Ansible splits them', () => {
    expect(listedMounts('tmpfs on /mnt/x type tmpfs (rw,size=1024k)\n/dev/sda1 on / type ext4 (rw)\n')).toEqual([{ src: 'tmpfs', dst: '/mnt/x' }, { src: '/dev/sda1', dst: '/' }]);
  });

  it('a swap entry has the mount point none, as Ansible writes it (geerlingguy.swap); other paths stay absolute', () => {
    expect(checkArgs(mountModule, { name: 'none', src: '/swapfile', fstype: 'swap', opts: 'sw', state: 'present' })).toBeUndefined();
    expect(setMount(args({ path: 'none', src: '/swapfile', fstype: 'swap', opts: 'sw', state: 'present' }), '').text).toBe('/swapfile none swap sw 0 0\n');
    expect(checkArgs(mountModule, { path: 'mnt/x', state: 'present' })).toMatch(/`path` must be an absolute path \(or none/);
    expect(checkArgs(mountModule, { path: 'nonesuch', state: 'present' })).toMatch(/must be an absolute path/);
  });
});

describe('make: the failed command as Ansible\'s _clean_args prints it', () => {
  it('masks password-like values and the word after a bare --password, quoting as shlex.quote does', () => {
    expect(cleanCommand(['/usr/bin/make', 'install', 'password=s3', '--passwd', 'x', 'NAME=a b', "it's"])).toBe(
      `/usr/bin/make install 'password=********' --passwd '********' 'NAME=a b' 'it'"'"'s'`,
    );
  });
});

describe('timezone: timedatectl where it works, else the files', () => {
  const tz = (raw: Record<string, unknown>) => parsedArgs(timezoneModule, raw);
  const status = (name: string) => Buffer.from(`               Local time: Mon\n                Time zone: ${name} (UTC, +0000)\nRTC in local TZ: no\n`).toString('base64');

  it('reads timedatectl status, or /etc/timezone when it fails', () => {
    expect(parseTimezoneRead(`0 /usr/bin/timedatectl\n${status('Etc/UTC')}\nEurope/Paris\nknown\nUTC\n`)).toEqual({ systemd: true, timedatectl: '/usr/bin/timedatectl', name: 'Etc/UTC', hwclock: 'UTC', known: true });
    expect(parseTimezoneRead(`1 /usr/bin/timedatectl\n\nEurope/Paris\nunknown\nlocal\n`)).toEqual({ systemd: false, timedatectl: '/usr/bin/timedatectl', name: 'Europe/Paris', hwclock: 'local', known: false });
  });

  it('plans timedatectl set-timezone, or the files; an unknown zone is refused', () => {
    const systemd = { systemd: true, timedatectl: '/usr/bin/timedatectl', name: 'Etc/UTC', hwclock: 'UTC', known: true } as const;
    expect(planTimezone(tz({ name: 'Asia/Tokyo' }), systemd).map((c) => c.summary)).toEqual(['executed `/usr/bin/timedatectl set-timezone Asia/Tokyo`']);
    expect(planTimezone(tz({ name: 'Etc/UTC' }), systemd)).toEqual([]);
    expect(planTimezone(tz({ name: 'Asia/Tokyo' }), { ...systemd, systemd: false })[0]!.steps.map((s) => s.kind)).toEqual(['write', 'exec']);
    expect(() => planTimezone(tz({ name: 'Mars/Base' }), { ...systemd, known: false })).toThrow('given timezone "Mars/Base" is not available');
    expect(checkArgs(timezoneModule, {})).toMatch(/one of `hwclock`, `name` is required/);
  });
});

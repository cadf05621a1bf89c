import { describe, expect, it } from 'vitest';
import { globRegex, walk, type Entry, type Listing } from '../../src/modules/find.js';
import { planSysctl, sysctlValue, type SysctlFacts } from '../../src/modules/sysctl.js';
import { findFilesModule } from '../../src/modules/find.js';
import { sysctlModule } from '../../src/modules/sysctl.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../module-args.js';

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
    expect(globRegex(glob).test(name)).toBe(hit);
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

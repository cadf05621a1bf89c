import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyModule, planWrite, writeReport, type WriteFacts } from '../../src/modules/copy.js';
import { sessionCall } from '../../src/connection/line-session.js';
import { decodeShellWord, parseProbeOutput, probeArgv, sha1, type HostFileFacts, type PathFacts, type StatFacts } from '../../src/modules/file-common.js';
import { ancestors, fileModule, type FileArgs, type FileFacts } from '../../src/modules/file.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { statModule } from '../../src/modules/stat.js';
import { parsedArgs } from '../support/module-args.js';
import { applyNewlineSequence, templateModule, templateVars, withTemplateVars, type TemplateArgs } from '../../src/modules/template.js';
import type { Step } from '../../src/modules/types.js';
import { runThroughDriver } from '../support/line-driver.js';

function st(over: Partial<StatFacts> = {}): StatFacts {
  return {
    type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 'root', group: 'root', size: 3, atime: 0, mtime: 0, ctime: 0,
    nlink: 1, inode: 10, dev: 1, blocks: 8, blockSize: 4096, rdevMajor: 0, rdevMinor: 0, ...over,
  };
}
const absent = (path: string): PathFacts => ({ path, exists: false });
const present = (path: string, over: Partial<StatFacts> = {}, extra: Partial<PathFacts> = {}): PathFacts => ({
  path, exists: true, lstat: st(over), stat: st(over), ...extra,
});
const host = (...paths: PathFacts[]): HostFileFacts => ({ umask: 0o022, pid: 99, now: 1764100000, tempToken: 'a1b2c3d4e5f6a7b8c9d0e1f2', paths });
/** file's arguments as a task writes them, parsed as the runner parses them. */
const fileArgs = (raw: Record<string, unknown>): FileArgs => parsedArgs(fileModule, raw);
/** copy's and template's shared arguments (planWrite's), parsed by template's spec. */
const writeArgs = (raw: Record<string, unknown>): TemplateArgs => parsedArgs(templateModule, { src: 't.j2', ...raw });
const argvs = (steps: Step[]): string[][] => steps.map((s) => (s.kind === 'exec' ? s.argv : [s.kind]));

describe('file plan() (facts in, steps out)', () => {
  const rows: Array<{ name: string; args: Record<string, unknown>; facts: FileFacts; steps: string[][] }> = [
    { name: 'directory: create with mode', args: { path: '/srv/d', state: 'directory', mode: '0750' }, facts: { host: host(absent('/srv/d')) },
      steps: [['mkdir', '-p', '-m', '0750', '--', '/srv/d']] },
    { name: 'directory: create, default mode needs no chmod', args: { path: '/srv/d', state: 'directory', mode: '0755' }, facts: { host: host(absent('/srv/d')) },
      steps: [['mkdir', '-p', '--', '/srv/d']] },
    { name: 'directory: created parents get the mode too, top-down', args: { path: '/srv/a/b/c', state: 'directory', mode: '0700', owner: 'vnc' },
      facts: { host: host(absent('/srv/a/b/c'), absent('/srv/a/b'), absent('/srv/a'), present('/srv', { type: 'directory' })) },
      steps: [['mkdir', '-p', '--', '/srv/a/b/c'], ['chown', '--', 'vnc', '/srv/a'], ['chmod', '--', '0700', '/srv/a'],
        ['chown', '--', 'vnc', '/srv/a/b'], ['chmod', '--', '0700', '/srv/a/b'], ['chown', '--', 'vnc', '/srv/a/b/c'], ['chmod', '--', '0700', '/srv/a/b/c']] },
    { name: 'touch: both times preserved is idempotent', args: { path: '/etc/f', state: 'touch', access_time: 'preserve', modification_time: 'preserve' },
      facts: { host: host(present('/etc/f')) }, steps: [] },
    { name: 'touch: keep atime only', args: { path: '/etc/f', state: 'touch', access_time: 'preserve' }, facts: { host: host(present('/etc/f')) },
      steps: [['touch', '-m', '--', '/etc/f']] },
    { name: 'directory: exists, right mode', args: { path: '/srv/d', state: 'directory', mode: '0755' }, facts: { host: host(present('/srv/d', { type: 'directory', mode: 0o755 })) },
      steps: [] },
    { name: 'directory: symbolic mode on existing', args: { path: '/srv/d', state: 'directory', mode: 'u=rwx,go=' }, facts: { host: host(present('/srv/d', { type: 'directory', mode: 0o755 })) },
      steps: [['chmod', '--', '0700', '/srv/d']] },
    { name: 'directory: owner and group', args: { path: '/srv/d', state: 'directory', owner: 'vnc', group: 'vnc' }, facts: { host: host(present('/srv/d', { type: 'directory', mode: 0o755 })) },
      steps: [['chown', '--', 'vnc:vnc', '/srv/d']] },
    { name: 'directory: numeric owner that matches', args: { path: '/srv/d', state: 'directory', owner: '0' }, facts: { host: host(present('/srv/d', { type: 'directory' })) },
      steps: [] },
    { name: 'no state: a hard-linked file only gets attributes', args: { path: '/etc/f', mode: '0600' }, facts: { host: host(present('/etc/f', { nlink: 2 })) },
      steps: [['chmod', '--', '0600', '/etc/f']] },
    { name: 'no state: a link gets its target\'s attributes set', args: { path: '/etc/l', mode: '0600' },
      facts: { host: host({ ...present('/etc/l', { type: 'link' }, { linkTarget: 'f' }), stat: st() }) },
      steps: [['chmod', '--', '0600', '/etc/l']] },
    { name: 'no state, follow: true said: another user\'s link is followed', args: { path: '/srv/l', owner: 'bob', follow: true },
      facts: { host: host({ ...present('/srv/l', { type: 'link', uid: 1001, owner: 'mallory' }, { linkTarget: '/root/f' }), stat: st() }) },
      steps: [['chown', '--', 'bob', '/srv/l']] },
    { name: 'file: mode change', args: { path: '/etc/f', mode: '0600' }, facts: { host: host(present('/etc/f')) },
      steps: [['chmod', '--', '0600', '/etc/f']] },
    { name: 'absent: file', args: { path: '/etc/f', state: 'absent' }, facts: { host: host(present('/etc/f')) },
      steps: [['rm', '-f', '--', '/etc/f']] },
    { name: 'absent: directory', args: { path: '/srv/d', state: 'absent' }, facts: { host: host(present('/srv/d', { type: 'directory' })) },
      steps: [['rm', '-rf', '--', '/srv/d']] },
    { name: 'absent: a link to / removes only the link', args: { path: '/tmp/r', state: 'absent' }, facts: { host: host(present('/tmp/r', { type: 'link' }, { realPath: '/' })) },
      steps: [['rm', '-f', '--', '/tmp/r']] },
    { name: 'absent: already gone', args: { path: '/etc/f', state: 'absent' }, facts: { host: host(absent('/etc/f')) }, steps: [] },
    { name: 'touch: always changes', args: { path: '/etc/f', state: 'touch' }, facts: { host: host(present('/etc/f')) },
      steps: [['touch', '--', '/etc/f']] },
    { name: 'touch: new file with mode', args: { path: '/etc/f', state: 'touch', mode: '0600' }, facts: { host: host(absent('/etc/f')) },
      steps: [['touch', '--', '/etc/f'], ['chmod', '--', '0600', '/etc/f']] },
    { name: 'link: create', args: { path: '/etc/l', state: 'link', src: '/etc/f' }, facts: { host: host(absent('/etc/l'), present('/etc/f')), src: '/etc/f' },
      steps: [['ln', '-sfn', '--', '/etc/f', '/etc/l']] },
    { name: 'link: already right', args: { path: '/etc/l', state: 'link', src: '/etc/f' },
      facts: { host: host(present('/etc/l', { type: 'link' }, { linkTarget: '/etc/f' }), present('/etc/f')), src: '/etc/f' }, steps: [] },
    { name: 'link: retarget', args: { path: '/etc/l', state: 'link', src: '/etc/g' },
      facts: { host: host(present('/etc/l', { type: 'link' }, { linkTarget: '/etc/f' }), present('/etc/g')), src: '/etc/g' },
      steps: [['ln', '-sfn', '--', '/etc/g', '/etc/l']] },
    { name: 'link: force over an empty dir', args: { path: '/etc/l', state: 'link', src: '/etc/g', force: true },
      facts: { host: host(present('/etc/l', { type: 'directory' }), present('/etc/g')), src: '/etc/g' },
      steps: [['rmdir', '--', '/etc/l'], ['ln', '-sfn', '--', '/etc/g', '/etc/l']] },
    { name: 'hard: create', args: { path: '/etc/h', state: 'hard', src: '/etc/f' }, facts: { host: host(absent('/etc/h'), present('/etc/f')), src: '/etc/f' },
      steps: [['ln', '-f', '--', '/etc/f', '/etc/h']] },
    { name: 'recurse: chmod -R when something below differs', args: { path: '/srv/d', state: 'directory', recurse: true, mode: 'u=rwX,go=rX' },
      facts: { host: host(present('/srv/d', { type: 'directory', mode: 0o755 }, { tree: [{ rel: 'a', facts: st({ mode: 0o600 }) }] })) },
      steps: [['chmod', '-R', '--', 'u=rwX,go=rX', '/srv/d']] },
    { name: 'recurse: nothing differs', args: { path: '/srv/d', state: 'directory', recurse: true, owner: 'root' },
      facts: { host: host(present('/srv/d', { type: 'directory', mode: 0o755 }, { tree: [{ rel: 'a', facts: st() }] })) }, steps: [] },
  ];
  for (const r of rows) {
    it(r.name, () => expect(argvs(fileModule.plan(fileArgs(r.args), r.facts).flatMap((c) => c.steps))).toEqual(r.steps));
  }

  const failures: Array<[string, Record<string, unknown>, FileFacts, RegExp]> = [
    ['state=file on a missing path', { path: '/etc/f', state: 'file' }, { host: host(absent('/etc/f')) }, /is absent, cannot continue/],
    ['directory over a file', { path: '/etc/f', state: 'directory' }, { host: host(present('/etc/f')) }, /already exists as a file/],
    ['link over a file without force', { path: '/etc/f', state: 'link', src: '/x' }, { host: host(present('/etc/f'), present('/x')), src: '/x' }, /refusing to convert from file to symlink/],
    ['absent on /', { path: '/', state: 'absent' }, { host: host(present('/', { type: 'directory' })) }, /refusing to remove \/: it is the root folder/],
    ['absent on /tmp/.. (the root by another name)', { path: '/tmp/..', state: 'absent' }, { host: host(present('/tmp/..', { type: 'directory' })) }, /root folder/],
    ['link to a missing src without force', { path: '/etc/l', state: 'link', src: '/nope' }, { host: host(absent('/etc/l'), absent('/nope')), src: '/nope' }, /src file does not exist/],
  ];
  for (const [name, args, facts, re] of failures) it(`fails: ${name}`, () => expect(() => fileModule.plan(fileArgs(args), facts)).toThrow(re));

  it('ancestors', () => {
    expect(ancestors('/a/b/c')).toEqual(['/a/b', '/a']);
    expect(ancestors('/a')).toEqual([]);
    expect(ancestors('~/x/y')).toEqual(['~/x']);
  });

  it('a directory diff shows the state change', () => {
    const [c] = fileModule.plan(fileArgs({ path: '/srv/d', state: 'directory' }), { host: host(absent('/srv/d')) });
    expect(c!.diff).toEqual({ before: { path: '/srv/d', state: 'absent' }, after: { path: '/srv/d', state: 'directory' } });
  });

  it('attributes through another user\'s link, by follow\'s default: refused (E_FILE_FOREIGN_LINK); root\'s link is followed', () => {
    const foreign = { ...present('/srv/l', { type: 'link', uid: 1001, owner: 'mallory' }, { linkTarget: '/root/f', realPath: '/root/f' }), stat: st() };
    for (const args of [{ path: '/srv/l', owner: 'mallory' }, { path: '/srv/l', state: 'file', mode: '0666' }, { path: '/srv/l', state: 'touch', group: 'staff' }]) {
      expect(() => fileModule.plan(fileArgs(args), { host: host(foreign) })).toThrow(expect.objectContaining({ code: 'E_FILE_FOREIGN_LINK' }));
    }
    const roots = { ...present('/srv/l', { type: 'link' }, { linkTarget: '/root/f', realPath: '/root/f' }), stat: st() };
    expect(argvs(fileModule.plan(fileArgs({ path: '/srv/l', owner: 'mallory' }), { host: host(roots) }).flatMap((c) => c.steps))).toEqual([['chown', '--', 'mallory', '/srv/l']]);
  });

  it('the spec refuses integer modes, src without link, recurse without directory', () => {
    expect(checkArgs(fileModule, { path: '/x', mode: 644 })).toMatch(/`mode` must be a file mode.*got the number 644/);
    expect(checkArgs(fileModule, { path: '/x', mode: 'u=rwq' })).toMatch(/`mode` must be a file mode/);
    expect(checkArgs(fileModule, { path: '/x', mode: 'preserve' })).toMatch(/`mode` must be a file mode/);
    expect(checkArgs(fileModule, { path: '/x', state: 'file', src: '/y' })).toMatch(/src is only used/);
    expect(checkArgs(fileModule, { path: '/x', state: 'link' })).toMatch(/`state` is "link", so `src` is required/);
    expect(checkArgs(fileModule, { path: '/x', state: 'file', recurse: 'yes' })).toMatch(/recurse option requires state to be directory/);
    expect(checkArgs(fileModule, { path: '/x', dest: '/y' })).toMatch(/names of the same parameter/);
  });

  it("Ansible's SELinux and chattr arguments are accepted by file, copy and template and change no step", () => {
    const selinux = { setype: 'mysqld_db_t', seuser: 'system_u', serole: 'object_r', selevel: 's0', attributes: '+i', unsafe_writes: true };
    expect(checkArgs(fileModule, { path: '/x', ...selinux })).toBeUndefined();
    expect(checkArgs(copyModule, { dest: '/x', content: 'a', ...selinux })).toBeUndefined();
    expect(checkArgs(templateModule, { dest: '/x', src: 'a.j2', ...selinux })).toBeUndefined();
    const facts = { host: host(present('/srv/f', { type: 'file', mode: 0o600 })) };
    const withSelinux = fileModule.plan(fileArgs({ path: '/srv/f', mode: '0644', ...selinux }), facts);
    expect(withSelinux).toEqual(fileModule.plan(fileArgs({ path: '/srv/f', mode: '0644' }), facts));
  });
});

describe('copy/template plan()', () => {
  const content = Buffer.from('new\n');
  const wf = (dest: PathFacts, over: Partial<WriteFacts> = {}): WriteFacts => ({
    host: host(dest, present('/etc', { type: 'directory', mode: 0o755 })), content, destArg: dest.path, destIndex: 0, wantDiff: true, ...over,
  });

  it('new file: one atomic write with umask mode', () => {
    const changes = planWrite(writeArgs({ dest: '/etc/f' }), wf(absent('/etc/f')));
    expect(changes.flatMap((c) => c.steps)).toEqual([{ kind: 'write', path: '/etc/f', content, mode: '0644' }]);
    expect(changes[0]!.diff).toEqual({ before: '', after: 'new\n', afterHeader: '/etc/f' });
  });

  it('same checksum: nothing to do', () => {
    expect(planWrite(writeArgs({ dest: '/etc/f' }), wf(present('/etc/f', {}, { checksum: sha1(content) })))).toEqual([]);
  });

  it('same checksum, other mode: chmod only', () => {
    const steps = planWrite(writeArgs({ dest: '/etc/f', mode: '0600' }), wf(present('/etc/f', {}, { checksum: sha1(content) }))).flatMap((c) => c.steps);
    expect(argvs(steps)).toEqual([['chmod', '--', '0600', '/etc/f']]);
    // The registered mode is the one the task sets, as Ansible's result says after set_fs_attributes.
    expect(writeReport(writeArgs({ dest: '/etc/f', mode: '0600' }), wf(present('/etc/f', {}, { checksum: sha1(content) })))).toMatchObject({ mode: '0600' });
  });

  it('changed content keeps owner and mode, backup first, then validate, then write', () => {
    const dest = present('/etc/f', { mode: 0o640, uid: 5, gid: 6 }, { checksum: 'old', content: Buffer.from('old\n') });
    const steps = planWrite(writeArgs({ dest: '/etc/f', backup: true, validate: 'sshd -t -f %s' }), wf(dest)).flatMap((c) => c.steps);
    expect(steps[0]).toEqual({ kind: 'exec', argv: ['cp', '-p', '--remove-destination', '--', '/etc/f', '/etc/f.99.2025-11-25@19:46:40~'] });
    expect(steps[1]!.kind === 'exec' && steps[1]!.argv.slice(-4, -1)).toEqual(['sshd', '-t', '-f']);
    expect(steps[2]).toEqual({ kind: 'write', path: '/etc/f', content, mode: '0640', owner: '5', group: '6' });
    expect(writeReport(writeArgs({ dest: '/etc/f', backup: true }), wf(dest))).toMatchObject({ backup_file: '/etc/f.99.2025-11-25@19:46:40~', checksum: sha1(content) });
  });

  it('mode: preserve takes the source mode; refused for inline content', () => {
    const steps = planWrite(writeArgs({ dest: '/etc/f', mode: 'preserve' }), wf(absent('/etc/f'), { srcMode: 0o750 })).flatMap((c) => c.steps);
    expect(steps).toEqual([{ kind: 'write', path: '/etc/f', content, mode: '0750' }]);
    expect(() => planWrite(writeArgs({ dest: '/etc/f', mode: 'preserve' }), wf(absent('/etc/f')))).toThrow(/preserve needs src/);
  });

  it('force: false leaves an existing file alone', () => {
    expect(planWrite(writeArgs({ dest: '/etc/f', force: false }), wf(present('/etc/f', {}, { checksum: 'old' })))).toEqual([]);
  });

  it('missing parent folder: a first step fails with Ansible\'s message (under --check it is just a change)', () => {
    const f: WriteFacts = { host: host(absent('/nope/f'), absent('/nope')), content, destArg: '/nope/f', destIndex: 0, wantDiff: false };
    const [first, second] = planWrite(writeArgs({ dest: '/nope/f' }), f).flatMap((c) => c.steps);
    expect(first?.kind === 'exec' && first.argv.join(' ')).toMatch(/Destination directory \$1 does not exist.* \/nope$/);
    expect(second?.kind).toBe('write');
    if (first?.kind === 'exec') expect(spawnSync(first.argv[0]!, first.argv.slice(1), { encoding: 'utf8' }).stderr).toBe('Destination directory /nope does not exist\n');
  });

  it('dest ending in / is created and receives the file under its name', () => {
    const f: WriteFacts = { host: host(absent('/srv/new'), absent('/srv/new/a.conf'), present('/srv', { type: 'directory' })), content, destArg: '/srv/new/', destIndex: 1, mkdir: '/srv/new', wantDiff: false };
    expect(argvs(planWrite(writeArgs({ dest: '/srv/new/', directory_mode: '0700' }), f).flatMap((c) => c.steps))).toEqual([
      ['mkdir', '-p', '--', '/srv/new'], ['chmod', '--', '0700', '/srv/new'], ['write'],
    ]);
  });

  it('a symlink dest: follow (default false) replaces the link with a new file; follow: true writes its target', () => {
    const link = present('/etc/f', { type: 'link' }, { checksum: sha1(content), realPath: '/etc/real', linkTarget: 'real' });
    link.stat = st({ mode: 0o600, uid: 5, gid: 6 });
    const writes = (args: Record<string, unknown>, f: PathFacts): Step[] => planWrite(writeArgs(args), wf(f)).flatMap((c) => c.steps);
    // As Ansible's copy: a link is a change even when its target holds the same content; nothing of the target
    // (mode, owner) is taken: the new file is born as any new file, and there is nothing to back up.
    expect(writes({ dest: '/etc/f', backup: true }, link)).toEqual([{ kind: 'write', path: '/etc/f', content, mode: '0644' }]);
    expect(writes({ dest: '/etc/f', follow: true }, link)).toEqual([]);
    link.checksum = 'other';
    expect(writes({ dest: '/etc/f', follow: true }, link)).toEqual([{ kind: 'write', path: '/etc/real', content, mode: '0600', owner: '5', group: '6' }]);
    // --diff shows a new file: not the content of the file the link points to, which does not change.
    const withDiff = planWrite(writeArgs({ dest: '/etc/f' }), { ...wf({ ...link, content: Buffer.from('root secret\n') }), wantDiff: true });
    expect(withDiff[0]!.diff).toEqual({ before: '', after: content.toString(), afterHeader: '/etc/f' });
    // A dangling link has nothing to follow: it is replaced, as Ansible does.
    const dangling: PathFacts = { path: '/etc/f', exists: true, lstat: st({ type: 'link' }), linkTarget: 'gone', realPath: '/etc/gone' };
    expect(writes({ dest: '/etc/f', follow: true }, dangling)).toEqual([{ kind: 'write', path: '/etc/f', content, mode: '0644' }]);
  });

  it('copy\'s spec: content and src are mutually exclusive; one is required', () => {
    expect(checkArgs(copyModule, { dest: '/x', src: 'a', content: 'b' })).toMatch(/mutually exclusive/);
    expect(checkArgs(copyModule, { dest: '/x' })).toMatch(/one of `src`, `content` is required/);
    expect(checkArgs(copyModule, { dest: '/x', content: 'a', mode: 600 })).toMatch(/`mode` must be a file mode.*got the number 600/);
    expect(checkArgs(copyModule, { dest: 'rel/x', content: 'a' })).toMatch(/absolute/);
    expect(checkArgs(copyModule, { dest: '/x', content: 'a', mode: 'preserve' })).toMatch(/preserve needs src/);
    expect(checkArgs(copyModule, { dest: '/x', src: 'a', mode: 'preserve', validate: 'visudo -c' })).toMatch(/validate must contain %s/);
    expect(checkArgs(copyModule, { dest: '/x', src: 'a', mode: 'preserve', force: 'no', backup: 'on' })).toBeUndefined();
  });

  it('template variables: defined in the template unless the play sets them', () => {
    const extra = templateVars('/pb/templates/a.j2', '/etc/a', { ansible_managed: 'Managed by ops' });
    expect(extra).toMatchObject({ ansible_managed: 'Managed by ops', template_path: '/pb/templates/a.j2', template_destpath: '/etc/a' });
    const src = withTemplateVars('x', { template_path: '/p/"q".j2', ansible_managed: 'A' }, { ansible_managed: 'A' });
    expect(src).toBe('{% set template_path = "/p/\\"q\\".j2" %}x');
  });

  it('secrets: content and its hash never reach summaries or command lines (only the diff and the write step)', () => {
    const secret = Buffer.from('vnc-canary-s3cret\n');
    const visible = (changes: ReturnType<typeof planWrite>): string =>
      JSON.stringify(changes.map((c) => ({ summary: c.summary, argv: c.steps.map((st2) => (st2.kind === 'exec' ? st2.argv : st2.kind)) })));
    const f: WriteFacts = { ...wf(present('/etc/f', {}, { checksum: 'old' })), content: secret };
    const out = visible(planWrite(writeArgs({ dest: '/etc/f', backup: true, validate: 'check %s' }), f));
    expect(out).not.toContain('canary');
    expect(out).not.toContain(sha1(secret).slice(0, 8));
  });

  it('template newline_sequence', () => {
    expect(applyNewlineSequence('a\r\nb\nc\r', '\r\n')).toBe('a\r\nb\r\nc\r\n');
    expect(applyNewlineSequence('a\r\nb\n', '\n')).toBe('a\nb\n');
    expect(applyNewlineSequence('a\nb\n', '\\r\\n')).toBe('a\r\nb\r\n'); // YAML 'single-quoted' form, as Ansible docs write it
  });
});

describe('the probe (run with a local bash: paths are literal names)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vncplay-probe-'));
  const canary = join(dir, 'pwned');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The probe runs as `sh -c` on a channel and as a bash function in the line session: both must read the same.
  function probe(paths: string[], opts: Parameters<typeof probeArgv>[1] = {}, cwd?: string): HostFileFacts {
    const argv = probeArgv(paths, opts);
    const algo = opts.checksum === false ? undefined : (opts.checksum ?? 'sha1');
    const viaSh = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd });
    expect(viaSh.status, viaSh.stderr).toBe(0);
    expect(sessionCall(argv), 'the probe is a session function').toBeDefined();
    const [viaSession] = runThroughDriver([{ argv }], { cwd });
    expect(viaSession!.rc, viaSession!.stderr).toBe(0);
    const facts = parseProbeOutput(viaSh.stdout, paths, algo);
    // The first run read the files, so atimes may differ; every other fact must not.
    const withoutAtimes = (f: HostFileFacts): unknown =>
      JSON.parse(JSON.stringify({ ...f, pid: 0, tempToken: '' }, (k, v: unknown) => (k === 'atime' ? undefined : v)));
    expect(withoutAtimes(parseProbeOutput(viaSession!.stdout, paths, algo))).toEqual(withoutAtimes(facts));
    return facts;
  }

  it('reads stat, checksum, content, link target and tree', () => {
    const f = join(dir, 'f.txt');
    writeFileSync(f, 'hello\n');
    chmodSync(f, 0o640);
    symlinkSync('f.txt', join(dir, 'l'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'x'), 'x');
    const facts = probe([f, join(dir, 'l'), join(dir, 'missing'), join(dir, 'sub')], { contentLimit: Infinity, checksum: 'sha1', tree: true, access: true });
    const [pf, pl, pm, ps] = facts.paths;
    expect(pf).toMatchObject({ exists: true, checksum: sha1('hello\n'), readable: true });
    expect(pf!.lstat).toMatchObject({ type: 'file', mode: 0o640, size: 6 });
    expect(pf!.content?.toString()).toBe('hello\n');
    expect(pl).toMatchObject({ exists: true, linkTarget: 'f.txt', realPath: f });
    expect(pl!.lstat!.type).toBe('link');
    expect(pl!.stat!.type).toBe('file');
    expect(pm).toEqual({ path: join(dir, 'missing'), exists: false });
    expect(ps!.tree?.map((t) => t.rel)).toEqual(['x']);
    expect(facts.umask).toBe(parseInt(spawnSync('sh', ['-c', 'umask'], { encoding: 'utf8' }).stdout.trim(), 8));
  });

  // The session prints link targets with %q, checked against the link's size (a target may end in a newline,
  // which $(…) drops: then base64 does it); sh always uses base64. Both must read the same (probe() compares).
  it('link targets and real paths of any bytes, trailing newlines too', () => {
    const targets = ['é日 x', "a'b\"c", 'trail\n', 'dir/\n\n', '$(touch pwned)'];
    for (const [i, t] of targets.entries()) symlinkSync(t, join(dir, `link${i}`));
    writeFileSync(join(dir, 'trail\n'), 'x');
    const facts = probe(targets.map((_, i) => join(dir, `link${i}`)));
    expect(facts.paths.map((p) => p.linkTarget)).toEqual(targets);
    expect(facts.paths[2]!.realPath).toBe(join(dir, 'trail\n'));
    expect(facts.paths[0]!.realPath).toBe(join(dir, 'é日 x'));
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('linkTargetOnly: a link gets its target and own attributes, nothing behind it', () => {
    writeFileSync(join(dir, 'behind'), 'x');
    symlinkSync('behind', join(dir, 'lonly'));
    const [full, only] = [probe([join(dir, 'lonly')], { contentLimit: Infinity }), probe([join(dir, 'lonly')], { contentLimit: Infinity, linkTargetOnly: true })];
    expect(full.paths[0]).toMatchObject({ linkTarget: 'behind', realPath: join(dir, 'behind'), stat: { type: 'file' } });
    expect(full.paths[0]!.content?.toString()).toBe('x');
    expect(only.paths[0]).toMatchObject({ exists: true, linkTarget: 'behind', lstat: { type: 'link' } });
    expect([only.paths[0]!.stat, only.paths[0]!.realPath, only.paths[0]!.content]).toEqual([undefined, undefined, undefined]);
  });

  it('stat module report from real facts', () => {
    const f = join(dir, 'f.txt');
    const facts = probe([f], { checksum: 'sha1', access: true });
    expect(statModule.report!(parsedArgs(statModule, { path: f }), facts)).toMatchObject({ stat: { exists: true, isreg: true, mode: '0640', checksum: sha1('hello\n'), pw_name: expect.any(String) } });
    const sha256 = probe([f], { checksum: 'sha256' });
    expect(statModule.report!(parsedArgs(statModule, { path: f, checksum_algo: 'sha256' }), sha256)).toMatchObject({
      stat: { checksum: createHash('sha256').update('hello\n').digest('hex') },
    });
    const none = probe([join(dir, 'nope')], { access: true });
    expect(statModule.report!(parsedArgs(statModule, { path: join(dir, 'nope') }), none)).toEqual({ stat: { exists: false } });
  });

  it('shell metacharacters in paths never run: the canary never appears', () => {
    // Relative canary: if any of these ran in a shell (cwd = dir), `pwned` would appear in dir.
    const evil = [
      `${dir}/a; touch pwned`,
      `${dir}/$(touch pwned)`,
      `${dir}/\`touch pwned\``,
      `${dir}/a'b"c`,
      `${dir}/new\nline; touch pwned`,
      `${dir}/-rf`,
    ];
    writeFileSync(evil[0]!, 'x'); // exists, so stat/sha1/base64 all run on it too
    const facts = probe(evil, { contentLimit: Infinity, checksum: 'sha1', access: true, mime: true }, dir);
    expect(existsSync(canary)).toBe(false);
    expect(facts.paths.map((p) => p.exists)).toEqual([true, false, false, false, false, false]);
    expect(facts.paths[0]!.content?.toString()).toBe('x');
  });

  it('expands ~ and ~user on the host, as Ansible does', () => {
    const [cmd, ...rest] = probeArgv(['~/f.txt', '~root', '~no-such-user-x/y']);
    const res = spawnSync(cmd!, rest, { encoding: 'utf8', env: { ...process.env, HOME: dir } });
    const facts = parseProbeOutput(res.stdout, ['~/f.txt', '~root', '~no-such-user-x/y']);
    expect(facts.paths.map((p) => [p.path, p.exists])).toEqual([[join(dir, 'f.txt'), true], ['/root', true], ['~no-such-user-x/y', false]]);
  });

  it('looks owner and group names up (numeric ids need no lookup), for the plan to refuse unknown ones', () => {
    const facts = probe([dir], { users: ['root', 'no-such-user-vp', '1234', undefined], groups: ['root', 'no-such-group-vp'] });
    expect(facts.users).toEqual({ root: true, 'no-such-user-vp': false });
    expect(facts.groups).toEqual({ root: true, 'no-such-group-vp': false });
    expect(() => fileModule.plan(fileArgs({ path: dir, owner: 'no-such-user-vp' }), { host: facts })).toThrow('chown failed: failed to look up user no-such-user-vp');
    expect(() => fileModule.plan(fileArgs({ path: dir, group: 'no-such-group-vp' }), { host: facts })).toThrow('chgrp failed: failed to look up group no-such-group-vp');
    expect(fileModule.plan(fileArgs({ path: dir, owner: 'root', group: 'root' }), { host: facts }).length).toBeGreaterThanOrEqual(0);
  });

  it('paths asked for existence only (parents) get no stat: exists is all that is set', () => {
    const f = join(dir, 'only.txt');
    writeFileSync(f, 'x');
    const facts = probe([f, dir, join(dir, 'gone', 'deeper'), '~'], { existenceOnlyFrom: 1 });
    const [pf, pd, pm, ph] = facts.paths;
    expect(pf!.lstat?.type).toBe('file');
    expect(pd).toEqual({ path: dir, exists: true });
    expect(pm).toEqual({ path: join(dir, 'gone', 'deeper'), exists: false });
    // A ~ path is expanded and stat'ed whole, existence-only or not.
    expect(ph!.lstat?.type).toBe('directory');
  });

  it('too-large content is flagged, not read', () => {
    const big = join(dir, 'big');
    writeFileSync(big, 'y'.repeat(5000));
    const facts = probe([big], { contentLimit: 1000 });
    expect(facts.paths[0]!.content).toBeUndefined();
    expect(facts.paths[0]!.contentTooLarge).toBe(true);
  });

  it('content and checksums are byte-exact whichever way the file is read (bash builtin, base64, sha1sum)', () => {
    const every = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
    const cases: [string, Buffer][] = [
      ['every-byte', every],
      ['with-nul', Buffer.concat([every, Buffer.from([0, 0x41, 0])])],
      ['empty', Buffer.alloc(0)],
      ['no-final-newline', Buffer.from("a 'quoted' $x\\ `y`")],
      ['large', Buffer.alloc(70_000, 'z')],
    ];
    for (const [name, bytes] of cases) writeFileSync(join(dir, name), bytes);
    const paths = cases.map(([name]) => join(dir, name));
    const withContent = probe(paths, { contentLimit: Infinity, checksum: 'sha1' });
    const hashOnly = probe(paths, { contentLimit: 0, checksum: 'sha256' });
    cases.forEach(([name, bytes], i) => {
      expect(withContent.paths[i]!.content?.equals(bytes), name).toBe(true);
      expect(withContent.paths[i]!.checksum, name).toBe(createHash('sha1').update(bytes).digest('hex'));
      // A limit of 0 still brings an empty file's (empty) content, as before.
      if (bytes.length > 0) expect(hashOnly.paths[i]!.content, name).toBeUndefined();
      expect(hashOnly.paths[i]!.checksum, name).toBe(createHash('sha256').update(bytes).digest('hex'));
    });
  });
});

describe('decodeShellWord (bash printf %q under LC_ALL=C)', () => {
  it('gives back exactly the bytes bash quoted', () => {
    const samples = [
      '', 'plain', 'has space', "it's", '~home', 'a=b#c', '$HOME `x` "q" \\',
      String.fromCharCode(...Array.from({ length: 255 }, (_, i) => i + 1)),
      ...Array.from({ length: 20 }, (_, k) => String.fromCharCode(...randomBytes(64).map((b) => b || 1 + k))),
    ];
    const input = Buffer.concat(samples.map((s) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])])));
    const quoted = spawnSync('bash', ['-c', `LC_ALL=C; while IFS= read -r -d '' a; do printf '%q\\n' "$a"; done`], { input, encoding: 'latin1' });
    const lines = quoted.stdout.split('\n').slice(0, samples.length);
    lines.forEach((line, i) => expect(decodeShellWord(line).toString('latin1')).toBe(samples[i]));
  });
});

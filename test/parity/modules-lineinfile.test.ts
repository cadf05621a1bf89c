import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFileFacts, StatFacts } from '../../src/modules/file-common.js';
import { editContent, lineinfileModule, planLineinfile, type LineinfileArgs } from '../../src/modules/lineinfile.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import { requireProgram } from '../support/tools.js';

/** Content in → content out, with Ansible's msg; each row checked against ansible-core's lineinfile semantics. */
const table: Array<{ name: string; before: string; args: Record<string, unknown>; after: string; msg: string }> = [
  { name: 'append to empty file', before: '', args: { path: '/f', line: 'a' }, after: 'a\n', msg: 'line added' },
  { name: 'line already present', before: 'a\nb\n', args: { path: '/f', line: 'b' }, after: 'a\nb\n', msg: '' },
  { name: 'append adds missing final newline first', before: 'a\nb', args: { path: '/f', line: 'c' }, after: 'a\nb\nc\n', msg: 'line added' },
  { name: 'regexp replaces the matching line', before: 'a\nb=1\nc\n', args: { path: '/f', regexp: '^b=', line: 'b=2' }, after: 'a\nb=2\nc\n', msg: 'line replaced' },
  { name: 'regexp: last match wins', before: 'x=1\nx=2\n', args: { path: '/f', regexp: '^x=', line: 'x=3' }, after: 'x=1\nx=3\n', msg: 'line replaced' },
  { name: 'regexp: firstmatch', before: 'x=1\nx=2\n', args: { path: '/f', regexp: '^x=', line: 'x=3', firstmatch: true }, after: 'x=3\nx=2\n', msg: 'line replaced' },
  { name: 'regexp no match appends at EOF', before: 'a\n', args: { path: '/f', regexp: '^z=', line: 'z=1' }, after: 'a\nz=1\n', msg: 'line added' },
  { name: 'regexp no match but exact line exists', before: 'bar\n', args: { path: '/f', regexp: '^foo=', line: 'bar' }, after: 'bar\n', msg: '' },
  { name: 'regexp $ matches before the newline (Python)', before: 'abx\n', args: { path: '/f', regexp: 'x$', line: 'y' }, after: 'y\n', msg: 'line replaced' },
  { name: 'insertafter regex', before: 'a\nb\nc\n', args: { path: '/f', line: 'new', insertafter: '^a' }, after: 'a\nnew\nb\nc\n', msg: 'line added' },
  { name: 'insertafter: last match', before: 'a\nb\na\nc\n', args: { path: '/f', line: 'new', insertafter: '^a' }, after: 'a\nb\na\nnew\nc\n', msg: 'line added' },
  { name: 'insertafter: firstmatch', before: 'a\nb\na\nc\n', args: { path: '/f', line: 'new', insertafter: '^a', firstmatch: true }, after: 'a\nnew\nb\na\nc\n', msg: 'line added' },
  { name: 'insertafter: last line', before: 'a\nb\n', args: { path: '/f', line: 'new', insertafter: '^b' }, after: 'a\nb\nnew\n', msg: 'line added' },
  { name: 'insertafter: no match → EOF', before: 'a\n', args: { path: '/f', line: 'new', insertafter: '^zzz' }, after: 'a\nnew\n', msg: 'line added' },
  { name: 'insertafter: line already there elsewhere', before: 'new\na\nb\n', args: { path: '/f', line: 'new', insertafter: '^a' }, after: 'new\na\nb\n', msg: '' },
  { name: 'insertafter BOF', before: 'a\n', args: { path: '/f', line: 'new', insertafter: 'BOF' }, after: 'new\na\n', msg: 'line added' },
  { name: 'insertbefore regex', before: 'a\nb\nc\n', args: { path: '/f', line: 'new', insertbefore: '^c' }, after: 'a\nb\nnew\nc\n', msg: 'line added' },
  { name: 'insertbefore first line', before: 'a\nb\n', args: { path: '/f', line: 'new', insertbefore: '^a' }, after: 'new\na\nb\n', msg: 'line added' },
  { name: 'insertbefore BOF', before: 'a\n', args: { path: '/f', line: 'new', insertbefore: 'BOF' }, after: 'new\na\n', msg: 'line added' },
  { name: 'insertbefore no match → EOF', before: 'a\n', args: { path: '/f', line: 'new', insertbefore: '^zzz' }, after: 'a\nnew\n', msg: 'line added' },
  { name: 'backrefs expand \\1', before: 'host=old\n', args: { path: '/f', regexp: '^(host=).*', line: '\\1example', backrefs: true }, after: 'host=example\n', msg: 'line replaced' },
  { name: 'backrefs \\g<name> with (?P<name>)', before: 'key=0\n', args: { path: '/f', regexp: '^(?P<k>\\w+)=', line: '\\g<k>=1', backrefs: true }, after: 'key=1\n', msg: 'line replaced' },
  { name: 'backrefs without match changes nothing', before: 'a\n', args: { path: '/f', regexp: '^(host=).*', line: '\\1x', backrefs: true }, after: 'a\n', msg: '' },
  { name: 'no backrefs: \\1 is literal', before: 'host=old\n', args: { path: '/f', regexp: '^host=', line: 'host=\\1' }, after: 'host=\\1\n', msg: 'line replaced' },
  { name: 'search_string replaces', before: 'PermitRootLogin yes\nX\n', args: { path: '/f', search_string: 'PermitRootLogin', line: 'PermitRootLogin no' }, after: 'PermitRootLogin no\nX\n', msg: 'line replaced' },
  { name: 'search_string is literal, not a regex', before: 'a.b\naxb\n', args: { path: '/f', search_string: 'a.b', line: 'Z', firstmatch: true }, after: 'Z\naxb\n', msg: 'line replaced' },
  { name: 'CRLF line equal ignoring \\r\\n is rewritten with \\n', before: 'a\r\nb\r\n', args: { path: '/f', line: 'b' }, after: 'a\r\nb\n', msg: 'line replaced' },
  { name: 'non-ASCII line', before: 'grüß=1\n', args: { path: '/f', regexp: '^grüß=', line: 'grüß=2' }, after: 'grüß=2\n', msg: 'line replaced' },
  { name: 'insertbefore: firstmatch', before: 'a\nc\nb\nc\n', args: { path: '/f', line: 'new', insertbefore: '^c', firstmatch: true }, after: 'a\nnew\nc\nb\nc\n', msg: 'line added' },
  { name: 'insertbefore: last match', before: 'a\nc\nb\nc\n', args: { path: '/f', line: 'new', insertbefore: '^c' }, after: 'a\nc\nb\nnew\nc\n', msg: 'line added' },
  { name: 'insertbefore: line already just before', before: 'new\nc\n', args: { path: '/f', line: 'new', insertbefore: '^c' }, after: 'new\nc\n', msg: '' },
  // Ansible 2.14 really glues the line on here (its newline fix sits in a branch that cannot run); kept for parity.
  { name: 'insertafter: last line without newline (Ansible quirk)', before: 'a\nb', args: { path: '/f', line: 'c', insertafter: '^b' }, after: 'a\nbc\n', msg: 'line added' },
  { name: 'regexp matched: insertafter ignored', before: 'a\nport=1\n', args: { path: '/f', regexp: '^port=', line: 'port=2', insertafter: '^a' }, after: 'a\nport=2\n', msg: 'line replaced' },
  { name: 'regexp matched and line already right', before: 'port=2\n', args: { path: '/f', regexp: '^port=', line: 'port=2' }, after: 'port=2\n', msg: '' },
  { name: 'empty regexp matches every line: the last is replaced', before: 'a\nb\n', args: { path: '/f', regexp: '', line: 'z' }, after: 'a\nz\n', msg: 'line replaced' },
  { name: 'explicit insertafter EOF with unmatched regexp', before: 'a\n', args: { path: '/f', regexp: '^q', line: 'q=1', insertafter: 'EOF' }, after: 'a\nq=1\n', msg: 'line added' },
  { name: 'backrefs with an unmatched optional group', before: 'key=\n', args: { path: '/f', regexp: '^key=(\\d+)?$', line: 'key=[\\1]', backrefs: true }, after: 'key=[]\n', msg: 'line replaced' },
  { name: 'case-insensitive inline flag', before: 'PORT=1\n', args: { path: '/f', regexp: '(?i)^port=', line: 'port=2' }, after: 'port=2\n', msg: 'line replaced' },
  { name: 'absent by line removes all copies', before: 'a\nb\nb\n', args: { path: '/f', line: 'b', state: 'absent' }, after: 'a\n', msg: '2 line(s) removed' },
  { name: 'absent by regexp', before: '#x\ny\n#z\n', args: { path: '/f', regexp: '^#', state: 'absent' }, after: 'y\n', msg: '2 line(s) removed' },
  { name: 'absent by search_string', before: 'foo bar\nbaz\n', args: { path: '/f', search_string: 'bar', state: 'absent' }, after: 'baz\n', msg: '1 line(s) removed' },
  { name: 'absent nothing to remove', before: 'a\n', args: { path: '/f', line: 'b', state: 'absent' }, after: 'a\n', msg: '' },
];

/** Arguments as a task writes them, parsed as the runner parses them. */
const li = (raw: Record<string, unknown>): LineinfileArgs => parsedArgs(lineinfileModule, raw);
const bin = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const unbin = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

describe('lineinfile content semantics (table)', () => {
  for (const row of table) {
    it(row.name, () => {
      const edit = editContent(bin(row.before), li(row.args));
      expect(unbin(edit.lines.join(''))).toBe(row.after);
      expect(edit.msg).toBe(row.msg);
      expect(edit.changed).toBe(row.after !== row.before);
    });
  }

  it('keeps bytes that are not UTF-8', () => {
    const raw = Buffer.from([0x61, 0xff, 0xfe, 0x0a]).toString('latin1');
    const edit = editContent(raw, li({ path: '/f', line: 'b' }));
    expect(Buffer.from(edit.lines.join(''), 'latin1')).toEqual(Buffer.from([0x61, 0xff, 0xfe, 0x0a, 0x62, 0x0a]));
  });
});

describe('lineinfile argument checks', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ path: '/f' }, /line is required/],
    [{ path: '/f', line: 'a', insertafter: 'x', insertbefore: 'y' }, /`insertafter` cannot be given with `insertbefore`: .* mutually exclusive/],
    [{ path: '/f', line: 'a', regexp: 'x', search_string: 'y' }, /`search_string` cannot be given with `regexp`/],
    [{ path: '/f', line: 'a', regex: 'x', search_string: 'y' }, /`search_string` cannot be given with `regexp`/],
    // Ansible's declaration: a backrefs given at all (even false) excludes search_string.
    [{ path: '/f', line: 'a', backrefs: false, search_string: 'y' }, /`search_string` cannot be given with `backrefs`/],
    [{ path: '/f', line: 'a', backrefs: true }, /regexp is required with backrefs/],
    [{ path: '/f', state: 'absent' }, /one of line, search_string, or regexp/],
    [{ path: '/f', line: 'a', regexp: '(' }, /not a valid regular expression/],
    [{ path: '/f', line: 'a', validate: 'visudo -c' }, /validate must contain %s/],
    [{ path: '/f', line: 'a', mode: 644 }, /`mode` must be a file mode.*got the number 644/],
    [{ path: '/f', line: 'a', regexp: 'x', regex: 'y' }, /`regex` and `regexp` are names of the same parameter/],
    [{ line: 'a' }, /missing required parameter `path`/],
  ];
  for (const [args, re] of bad) {
    it(`refuses ${JSON.stringify(args)}`, () => expect(checkArgs(lineinfileModule, args)).toMatch(re));
  }
});

function st(over: Partial<StatFacts> = {}): StatFacts {
  return {
    type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 'root', group: 'root', size: 4, atime: 0, mtime: 0, ctime: 0,
    nlink: 1, inode: 1, dev: 1, blocks: 8, blockSize: 4096, rdevMajor: 0, rdevMinor: 0, ...over,
  };
}

function facts(content: string | undefined, over: Partial<StatFacts> = {}): HostFileFacts {
  const exists = content !== undefined;
  return {
    umask: 0o022,
    pid: 4242,
    now: 1764100000,
    tempToken: '0123456789abcdef01234567',
    paths: [
      exists ? { path: '/etc/x.conf', exists, lstat: st(over), stat: st(over), content: Buffer.from(content), checksum: 'x' } : { path: '/etc/x.conf', exists },
      { path: '/etc', exists: true, lstat: st({ type: 'directory', mode: 0o755 }), stat: st({ type: 'directory', mode: 0o755 }) },
    ],
  };
}

describe('lineinfile plan()', () => {
  it('no change: no steps', () => {
    expect(planLineinfile(li({ path: '/etc/x.conf', line: 'a' }), facts('a\n'))).toEqual([]);
  });

  it('a symlinked path: the edit goes to the link\'s target (Ansible writes realpath(path); lineinfile has no follow)', () => {
    const f = facts('a\n', { mode: 0o600, uid: 7, gid: 8 });
    f.paths[0] = { ...f.paths[0]!, lstat: { ...f.paths[0]!.lstat!, type: 'link' }, linkTarget: 'real.conf', realPath: '/etc/real.conf' };
    const steps = planLineinfile(li({ path: '/etc/x.conf', line: 'b', validate: 'check -f %s' }), f)[0]!.steps;
    expect(steps.map((s) => (s.kind === 'write' ? s.path : s.kind === 'exec' ? s.argv[4] : s.kind))).toEqual(['/etc/.real.conf.0123456789abcdef01234567.vncplay-validate', '/etc/real.conf']);
  });

  it('a link owned by another user than root and its target\'s owner is not followed (E_FILE_FOREIGN_LINK)', () => {
    const f = facts('a\n', { uid: 0, owner: 'root' });
    f.paths[0] = { ...f.paths[0]!, lstat: { ...f.paths[0]!.lstat!, type: 'link', uid: 1001, owner: 'mallory' }, realPath: '/root/secret' };
    expect(() => planLineinfile(li({ path: '/etc/x.conf', line: 'b' }), f)).toThrow(/symlink owned by mallory, pointing to \/root\/secret \(owned by root\)/);
    // Owned by its target's owner: followed, as Ansible does.
    f.paths[0]!.stat = { ...f.paths[0]!.stat!, uid: 1001, owner: 'mallory' };
    expect(planLineinfile(li({ path: '/etc/x.conf', line: 'b' }), f)[0]!.steps.at(-1)).toMatchObject({ kind: 'write', path: '/root/secret' });
  });

  it('a change is backup → validate → atomic write keeping mode and owner', () => {
    const changes = planLineinfile(
      li({ path: '/etc/x.conf', line: 'b', backup: true, validate: 'check -f %s' }),
      facts('a\n', { mode: 0o600, uid: 7, gid: 8 }),
    );
    expect(changes).toHaveLength(1);
    const [backup, validate, write] = changes[0]!.steps;
    expect(backup).toEqual({ kind: 'exec', argv: ['cp', '-p', '--remove-destination', '--', '/etc/x.conf', '/etc/x.conf.4242.2025-11-25@19:46:40~'] });
    expect(validate?.kind).toBe('exec');
    if (validate?.kind === 'exec') {
      expect(validate.argv.slice(-3)).toEqual(['check', '-f', validate.argv[4]]);
      expect(validate.argv[4]).toBe('/etc/.x.conf.0123456789abcdef01234567.vncplay-validate');
      expect(Buffer.from(validate.stdin as Uint8Array).toString()).toBe('a\nb\n');
    }
    expect(write).toEqual({ kind: 'write', path: '/etc/x.conf', content: Buffer.from('a\nb\n'), mode: '0600', owner: '7', group: '8' });
    expect(changes[0]!.summary).toBe('line added');
    expect(changes[0]!.diff).toMatchObject({ before: 'a\n', after: 'a\nb\n', beforeHeader: '/etc/x.conf (content)' });
    expect(lineinfileModule.report!(li({ path: '/etc/x.conf', line: 'b', backup: true }), facts('a\n'))).toEqual({
      backup: '/etc/x.conf.4242.2025-11-25@19:46:40~',
    });
  });

  it('missing file fails unless create; create writes with the umask mode', () => {
    expect(() => planLineinfile(li({ path: '/etc/x.conf', line: 'a' }), facts(undefined))).toThrow(/does not exist/);
    const [c] = planLineinfile(li({ path: '/etc/x.conf', line: 'a', create: true, mode: 'u=rw,go=' }), facts(undefined));
    expect(c!.steps).toEqual([{ kind: 'write', path: '/etc/x.conf', content: Buffer.from('a\n'), mode: '0600' }]);
  });

  it('absent on a missing file is ok', () => {
    expect(planLineinfile(li({ path: '/etc/x.conf', line: 'a', state: 'absent' }), facts(undefined))).toEqual([]);
  });

  it('only attributes differ: chmod, no write', () => {
    const changes = planLineinfile(li({ path: '/etc/x.conf', line: 'a', mode: '0600' }), facts('a\n'));
    expect(changes.map((c) => c.steps)).toEqual([[{ kind: 'exec', argv: ['chmod', '--', '0600', '/etc/x.conf'] }]]);
  });

  it('a directory is refused', () => {
    const f = facts('x');
    f.paths[0] = { path: '/etc/x.conf', exists: true, lstat: st({ type: 'directory' }), stat: st({ type: 'directory' }) };
    expect(() => planLineinfile(li({ path: '/etc/x.conf', line: 'a' }), f)).toThrow(/is a directory/);
  });
});


/**
 * The same table run through the real ansible.builtin.lineinfile (Debian's ansible-core, local connection, temp
 * files only): vncplay's content out and msg must equal Ansible's for every row.
 */
describe('lineinfile parity with ansible-core', () => {
  it('every table row gives the same content and msg as Ansible', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-lineinfile-parity-'));
    const tasks = table.map((row, i) => {
      writeFileSync(join(dir, `f${i}`), row.before);
      return { name: `row ${i}`, 'ansible.builtin.lineinfile': { ...row.args, path: join(dir, `f${i}`) }, ignore_errors: true };
    });
    // JSON is YAML: no quoting surprises for backslashes and regexps. `{% raw %}` is not needed: no row has `{{`.
    writeFileSync(join(dir, 'pb.yml'), JSON.stringify([{ hosts: 'localhost', gather_facts: false, tasks }]));
    const res = spawnSync(requireProgram('ansible-playbook'), ['-i', 'localhost,', '-c', 'local', join(dir, 'pb.yml')], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 120_000,
      env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'none.cfg'), ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_NOCOLOR: '1' },
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { plays: Array<{ tasks: Array<{ hosts: Record<string, { msg?: string; changed?: boolean }> }> }> };
    const results = out.plays[0]!.tasks.map((t) => t.hosts['localhost']!);
    expect(results).toHaveLength(table.length);
    table.forEach((row, i) => {
      const ansibleContent = readFileSync(join(dir, `f${i}`), 'utf8');
      const ours = editContent(bin(row.before), li(row.args));
      expect({ row: row.name, content: unbin(ours.lines.join('')), msg: ours.msg, changed: ours.changed }).toEqual({
        row: row.name,
        content: ansibleContent,
        msg: results[i]!.msg ?? '',
        changed: results[i]!.changed ?? false,
      });
    });
  });
});

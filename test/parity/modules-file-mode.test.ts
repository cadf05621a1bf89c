import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySymbolicMode, formatMode, resolveMode, shlexSplit, validateArgv } from '../../src/modules/file-common.js';
import { fileModule } from '../../src/modules/file.js';
import { NO, toMode } from '../../src/modules/spec/convert.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { requireProgram } from '../support/tools.js';

// [current, spec, isDir, umask, expected] — expectations follow Ansible's _symbolic_mode_to_octal.
const symbolic: Array<[number, string, boolean, number, number]> = [
  [0o644, 'u=rw,go=', false, 0o022, 0o600],
  [0o644, 'u=rwx,g=rx,o=', false, 0o022, 0o750],
  [0o600, 'go+r', false, 0o022, 0o644],
  [0o644, 'a-w', false, 0o022, 0o444],
  [0o644, 'u+x', false, 0o022, 0o744],
  [0o644, 'a+X', false, 0o022, 0o644], // X needs a directory or an existing x bit
  [0o744, 'a+X', false, 0o022, 0o755],
  [0o700, 'go+X', true, 0o022, 0o711],
  [0o640, 'o=g', false, 0o022, 0o644],
  [0o755, 'u+s', false, 0o022, 0o4755],
  [0o777, 'o+t', true, 0o022, 0o1777],
  [0o600, '+w', false, 0o022, 0o600], // empty who honours the umask: group/other w are masked
  [0o600, '+r', false, 0o022, 0o644],
  [0o4755, 'u=rwx', false, 0o022, 0o755], // '=' clears setuid as Ansible does
  [0o644, 'u=rw,g=r,o=r', false, 0o077, 0o644], // explicit who ignores the umask
];

describe('mode parsing', () => {
  const octal: Array<[string, number]> = [
    ['0644', 0o644],
    ['644', 0o644],
    ['0600', 0o600],
    ['1777', 0o1777],
    ['04755', 0o4755],
    ['0o750', 0o750],
  ];
  for (const [s, want] of octal) it(`octal ${s}`, () => expect(resolveMode(s, 0o777, false, 0o022)).toBe(want));

  for (const [cur, spec, dir, umask, want] of symbolic) {
    it(`${formatMode(cur)} ${spec}${dir ? ' (dir)' : ''} → ${formatMode(want)}`, () => {
      expect(formatMode(applySymbolicMode(cur, spec, dir, umask))).toBe(formatMode(want));
    });
  }

  it('agrees with chmod(1) on a sample of symbolic modes', () => {
    for (const [cur, spec, dir, , want] of symbolic.filter(([, s]) => !s.startsWith('+') && !s.includes('s') && !s.includes('='))) {
      const res = spawnSync('sh', ['-c', 'f=$(mktemp) && chmod "$1" "$f" && chmod "$2" "$f" && stat -c %a "$f"; rm -f "$f"', 'sh', cur.toString(8), spec]);
      if (!dir) expect(parseInt(res.stdout.toString().trim(), 8)).toBe(want);
    }
  });

  it('refuses an integer mode with an explanation, at the mode', () => {
    const { issues } = parseArgs(fileModule.spec, { path: '/x', mode: 644 }, { owner: 'file', rendered: true });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['mode'], code: 'E_TYPE', message: "`mode` must be a file mode: a quoted octal ('0644') or symbolic ('u=rw,go=r') string, got the number 644" }),
    ]);
    expect(issues[0]!.hint).toMatch(/YAML reads an unquoted 644 as the decimal number 644/);
  });
  it('refuses garbage symbolic modes; the mode type and applySymbolicMode read the same syntax', () => {
    for (const bad of ['u=rwq', 'rw-r--r--', '0999', 'preserve', '', 'u=rw,']) {
      expect(toMode(bad), bad).toBe(NO);
      if (bad !== '0999') expect(() => applySymbolicMode(0o644, bad, false, 0o022), bad).toThrow(/bad symbolic permission/);
    }
    for (const good of ['0644', '644', '0o644', '1777', 'u=rw,go=', 'a+x', 'u+s,g-w', '=r']) expect(toMode(good), good).toBe(good);
  });
});

describe('validate command splitting', () => {
  it('splits like shlex and substitutes %s', () => {
    expect(validateArgv('sshd -t -f %s', '/etc/.x.tmp')).toEqual(['sshd', '-t', '-f', '/etc/.x.tmp']);
    expect(validateArgv(`sh -c 'test -s "$1"' x %s`, '/t')).toEqual(['sh', '-c', 'test -s "$1"', 'x', '/t']);
    expect(shlexSplit(`a "b c" d\\ e 'f'g`)).toEqual(['a', 'b c', 'd e', 'fg']);
  });
  it('keeps shell metacharacters as literal words', () => {
    expect(validateArgv('visudo -cf %s; touch /tmp/pwned', '/t')).toEqual(['visudo', '-cf', '/t;', 'touch', '/tmp/pwned']);
  });
  it('refuses a command without %s', () => {
    expect(() => validateArgv('visudo -c', '/t')).toThrow(/validate must contain %s/);
  });
});


describe('symbolic modes: parity with ansible-core', () => {
  it('ansible.builtin.file gives every row of the table the same mode', () => {
    const umask = process.umask();
    const rows = symbolic.filter(([, spec, , u]) => u === umask || !symbolicUsesUmask(spec));
    expect(rows.length).toBeGreaterThan(12);
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-mode-parity-'));
    const tasks = rows.map(([cur, spec, isDir], i) => {
      const p = join(dir, `p${i}`);
      if (isDir) mkdirSync(p);
      else writeFileSync(p, '');
      chmodSync(p, cur);
      return { name: `row ${i}`, 'ansible.builtin.file': { path: p, mode: spec } };
    });
    writeFileSync(join(dir, 'pb.yml'), JSON.stringify([{ hosts: 'localhost', gather_facts: false, tasks }]));
    const res = spawnSync(requireProgram('ansible-playbook'), ['-i', 'localhost,', '-c', 'local', join(dir, 'pb.yml')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'none.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False' },
    });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    rows.forEach(([cur, spec, isDir, u], i) => {
      const got = statSync(join(dir, `p${i}`)).mode & 0o7777;
      expect({ spec, from: formatMode(cur), mode: formatMode(applySymbolicMode(cur, spec, isDir, u)) }).toEqual({ spec, from: formatMode(cur), mode: formatMode(got) });
    });
  });
});

/** A clause without who (`+w`) is the only kind the umask affects. */
function symbolicUsesUmask(spec: string): boolean {
  return spec.split(',').some((c) => /^[-+=]/.test(c));
}

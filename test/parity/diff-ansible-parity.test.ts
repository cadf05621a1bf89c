// --diff parity with real ansible-core (Debian's 2.14), on temp files of the controller: the same tasks run
// through ansible-playbook --check --diff and through our gather (LocalConnection) → plan → renderDiffs, and the
// printed diffs must be the same text. Skipped when ansible-playbook is not installed.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { templateModule } from '../../src/modules/template.js';
import type { AnyModule, DiffEntry, PlannedModule } from '../../src/modules/types.js';
import { renderDiffs } from '../../src/output/diff.js';
import { renderText } from '../../src/playbook/template.js';
import { parsedArgs } from '../support/module-args.js';
import { requireProgram } from '../support/tools.js';
import { testContext } from '../support/module-harness.js';


describe('--diff parity with ansible-core', () => {
  it('file, copy, template and lineinfile print the same diffs as Ansible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-diff-parity-'));
    const lines = (n: number, change: Record<number, string> = {}): string =>
      Array.from({ length: n }, (_, i) => `${change[i] ?? `line ${i}`}\n`).join('');
    writeFileSync(join(dir, 'conf'), lines(30));
    writeFileSync(join(dir, 'attrs'), 'same\n');
    chmodSync(join(dir, 'attrs'), 0o644);
    writeFileSync(join(dir, 'gone'), 'x\n');
    writeFileSync(join(dir, 'sshd'), 'Port 22\n#PermitRootLogin yes\nX11Forwarding yes\n');
    writeFileSync(join(dir, 'vnc.j2'), 'geometry={{ 1900 + 20 }}x1080\n');
    symlinkSync('conf', join(dir, 'link'));
    writeFileSync(join(dir, 'bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));

    const cases: Array<[AnyModule, Record<string, unknown>]> = [
      [copyModule, { dest: join(dir, 'conf'), content: lines(30, { 2: 'TWO', 25: 'TWENTY-FIVE' }) }],
      [copyModule, { dest: join(dir, 'new'), content: 'a\nb\n' }],
      [copyModule, { dest: join(dir, 'attrs'), content: 'same\n', mode: '0600' }],
      [fileModule, { path: join(dir, 'd'), state: 'directory' }],
      [fileModule, { path: join(dir, 'gone'), state: 'absent' }],
      [fileModule, { path: join(dir, 'attrs'), mode: 'u=rw,go=' }],
      [fileModule, { path: join(dir, 'l2'), state: 'link', src: join(dir, 'conf') }],
      [fileModule, { path: join(dir, 'link'), state: 'link', src: 'attrs' }],
      [lineinfileModule, { path: join(dir, 'sshd'), regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no' }],
      [lineinfileModule, { path: join(dir, 'sshd'), line: 'AllowUsers vnc', insertafter: '^Port' }],
      [templateModule, { src: join(dir, 'vnc.j2'), dest: join(dir, 'vnc.conf') }],
      [copyModule, { dest: join(dir, 'bin'), content: 'text now\n' }],
      [copyModule, { dest: join(dir, 'big'), content: 'z'.repeat(200_000) }],
    ];

    const pb = [{ hosts: 'localhost', gather_facts: false, tasks: cases.map(([m, a], i) => ({ name: `case ${i}`, [m.name]: a })) }];
    writeFileSync(join(dir, 'pb.yml'), JSON.stringify(pb));
    const res = spawnSync(requireProgram('ansible-playbook'), ['-i', 'localhost,', '-c', 'local', '--check', '--diff', join(dir, 'pb.yml')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'none.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False' },
    });
    expect(res.status, res.stdout + res.stderr).toBe(0);
    const ansible = ansibleDiffs(res.stdout);
    expect(ansible).toHaveLength(cases.length);

    const conn = new LocalConnection({ hostName: 'localhost' });
    const ctx = testContext(conn, { check: true, render: (t, o) => renderText(t, {}, undefined, o) });
    for (const [i, [mod, args]] of cases.entries()) {
      const planned = mod as PlannedModule<Record<string, unknown>, unknown>;
      const parsed = parsedArgs(mod, args);
      const changes = planned.plan(parsed, await planned.gather(parsed, ctx));
      const ours = renderDiffs(changes.flatMap((c): DiffEntry[] => (c.diff ? [c.diff] : [])));
      const theirs = normalise(ansible[i]!);
      // Where Ansible names its temp copy of inline/rendered content, we name the destination or template.
      const mine = theirs.includes('+++ after: <ansible tmp>') ? ours.replace(/^\+\+\+ after: .*$/gm, '+++ after: <ansible tmp>') : ours;
      expect({ case: i, diff: mine }).toEqual({ case: i, diff: theirs });
    }
  });
});

/** The diff text Ansible printed for each task (between the TASK banner and the changed/ok line). */
function ansibleDiffs(stdout: string): string[] {
  return stdout
    .split(/^TASK \[.*$/m)
    .slice(1)
    .map((section) => {
      const body = section.split(/^(?:changed|ok): \[localhost\]/m)[0]!.replace(/^\n/, '');
      return body.trim() === '' ? '' : body;
    });
}

/** Ansible names its own temp file in `+++ after:` for rendered/inline content. */
function normalise(diff: string): string {
  return diff.replace(/^\+\+\+ after: .*\/\.ansible\/tmp\/.*$/gm, '+++ after: <ansible tmp>');
}

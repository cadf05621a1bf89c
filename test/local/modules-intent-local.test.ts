import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { blockinfileModule } from '../../src/modules/blockinfile.js';
import { iniFileModule } from '../../src/modules/ini-file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { replaceModule } from '../../src/modules/replace.js';
import { templateModule } from '../../src/modules/template.js';
import { runModule } from '../support/module-harness.js';
import { vncplay } from '../support/cli-helpers.js';

/**
 * Plans as intent, through the shared harness on the local connection (real files, real commands): what each module
 * means to do under --check, that a real run does it, and that the run after says why it has nothing to do.
 */
const dir = mkdtempSync(join(tmpdir(), 'vncplay-intent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const local = new LocalConnection({ hostName: 'localhost' });
const me = userInfo().username;
describe('module intent (runModule)', () => {
  it('file, copy, template and the text edits: --check plans it, the run does it, the next run says why nothing changes', async () => {
    const srv = join(dir, 'srv');
    const conf = join(srv, 'vnc.conf');
    const ini = join(srv, 'vnc.ini');
    const tpl = join(dir, 'xstartup.j2');
    writeFileSync(tpl, '#!/bin/sh\nexec startxfce4\n');
    const confFile = `file ${conf} (mode 0640, owner ${me}, `;
    const steps = [
      [fileModule, { path: srv, state: 'directory', mode: '0750' }, `create directory ${srv}`, [`directory ${srv} (mode 0750, owner ${me}, `]],
      [copyModule, { dest: conf, content: 'geometry=1280x800\n', mode: '0640' }, `create ${conf}`, [confFile]],
      [templateModule, { src: tpl, dest: join(srv, 'xstartup'), mode: '0700' }, `create ${join(srv, 'xstartup')}`, [`file ${join(srv, 'xstartup')} (mode 0700, owner ${me}, `]],
      // The unchanged file (its group: the test user's primary group, whatever its name), then what it already has.
      [lineinfileModule, { path: conf, line: 'depth=24' }, 'line added', [confFile, ') has the line "depth=24"']],
      [replaceModule, { path: conf, regexp: '^depth=24$', replace: 'depth=32' }, '1 replacements made', [confFile, ') needs no replacement of "^depth=24$"']],
      [blockinfileModule, { path: conf, block: 'localhost=no' }, 'Block inserted', [confFile, ') has the block between its markers']],
      [iniFileModule, { path: ini, section: 'vnc', option: 'geometry', value: '1280x800' }, 'section and option added', [`file ${ini} (mode 0`, ') has geometry in [vnc] as asked']],
    ] as const;
    for (const [mod, args, change, noop] of steps) {
      const checked = await runModule(mod, args, local, { check: true });
      expect(checked.intent).toEqual({ changes: [change] });
      expect((await runModule(mod, args, local)).intent.changes).toEqual([change]);
      const again = await runModule(mod, args, local);
      expect(again.result.changed, `${mod.name}: ${JSON.stringify(again.intent)}`).toBe(false);
      expect(again.intent.changes).toEqual([]);
      for (const part of noop) expect(again.intent.noop).toContain(part);
      expect(again.logs).toEqual([[1, again.intent.noop]]);
    }
  });

  it('the noop reason shows at -v, not without it', async () => {
    const target = join(dir, 'cli-dir');
    writeFileSync(join(dir, 'hosts'), 'localhost ansible_connection=local\n');
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - file: { path: ${target}, state: directory }\n    - file: { path: ${target}, state: directory }\n`,
    );
    const quiet = await vncplay(['-i', join(dir, 'hosts'), join(dir, 'play.yml')]);
    const verbose = await vncplay(['-v', '-i', join(dir, 'hosts'), join(dir, 'play.yml')]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).not.toContain('is as asked');
    expect(verbose.stdout).toContain(`[localhost] directory ${target} (mode 0`);
    expect(verbose.stdout).toMatch(/owner \S+, group \S+\) is as asked/);
  });
});

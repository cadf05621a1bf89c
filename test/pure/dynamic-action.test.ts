import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { findUndefinedVariables } from '../../src/playbook/undefined-vars.js';

/**
 * Issue 16: `action: "{{ packager }} pkg=git state=present"` loads as a task whose module is chosen when it runs
 * (TaskDef.dynamicModule): key=value arguments taken as written, `args:` merged, local_action delegated to
 * localhost, a note for -v; the variables of its name and arguments are checked before the run like any others.
 */

const tmp = mkdtempSync(path.join(tmpdir(), 'vncplay-dynamic-action-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function playbookFile(text: string): string {
  const file = path.join(tmp, `pb${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
}

describe('a templated module name', () => {
  it('loads as a dynamic action: its name and position, its arguments as written', async () => {
    const file = playbookFile(
      [
        '- hosts: all',
        '  vars: {packager: apt, apache: apache2}',
        '  tasks:',
        '    - action: "{{ packager }} pkg={{ apache }} state=latest"',
        '      args: {update_cache: yes}',
        '    - local_action:',
        '        module: "{{ packager }}"',
        '        name: git',
        '',
      ].join('\n'),
    );
    const pb = await loadPlaybook(file);
    const [fromText, fromMapping] = pb.plays[0]!.tasks;
    expect(fromText).toMatchObject({ action: '{{ packager }}', args: { pkg: '{{ apache }}', state: 'latest', update_cache: true }, dynamicModule: { name: '{{ packager }}', pos: { file, line: 4, col: 15 } } });
    expect(fromText!.module).toBeUndefined();
    expect(fromText!.delegateTo).toBeUndefined();
    expect(fromMapping).toMatchObject({ args: { name: 'git' }, delegateTo: 'localhost', dynamicModule: { pos: { line: 7, col: 17 } } });
    expect(pb.notes).toEqual([
      `${file}:4:15: the module \`{{ packager }}\` is chosen for each host when the task runs: its name and arguments are checked then`,
      `${file}:7:17: the module \`{{ packager }}\` is chosen for each host when the task runs: its name and arguments are checked then`,
    ]);
  });

  it('an undefined variable in its name or arguments is refused before the run, at the template', async () => {
    const file = playbookFile(['- hosts: all', '  tasks:', '    - action: "{{ packager }} name={{ pkg }}"', ''].join('\n'));
    const errors = await findUndefinedVariables(await loadPlaybook(file), { extraVars: {}, inventory: await loadInventory([], process.cwd()) });
    expect(errors.map((e) => [e.code, /'([^']+)'$/.exec(e.message)?.[1]])).toEqual([
      ['E_TEMPLATE_UNDEFINED', 'packager'],
      ['E_TEMPLATE_UNDEFINED', 'pkg'],
    ]);
    const defined = await findUndefinedVariables(await loadPlaybook(file), { extraVars: { packager: 'apt', pkg: 'git' }, inventory: await loadInventory([], process.cwd()) });
    expect(defined).toEqual([]);
  });
});

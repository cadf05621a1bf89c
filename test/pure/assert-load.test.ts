import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** assert's `that:` holds conditions: checked at load time like `when:`, each error at its own list item (issue 16). */

async function loadErrors(tasks: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-assert-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
  try {
    await loadPlaybook(file);
  } catch (e) {
    if (e instanceof ErrorList) return e.errors.map((x) => `${x.pos!.line}:${x.pos!.col} ${x.code} ${x.message}`);
    throw e;
  }
  return [];
}

describe('assert that: checked at load time', () => {
  it('positions syntax errors and unknown filters and tests at the offending list item', async () => {
    const tasks = [
      '    - assert:',
      '        that:',
      '          - 1 == 1',
      '          - result.rc ==',
      '          - "\'a\' | no_such_filter"',
      '    - assert: { that: "x is definde" }',
      '    - assert:',
      '        that: "(1 == 1"',
      '    - assert:',
      '      args:',
      '        that: ["ok is defined", "ok | bool(("]',
      '',
    ].join('\n');
    expect(await loadErrors(tasks)).toEqual([
      '7:13 E_TEMPLATE_SYNTAX assert `that[1]`: template syntax error: unexpected token: }} (template line 1, column 17) in template "result.rc =="',
      '8:13 E_TEMPLATE_FILTER assert `that[2]`: no filter named \'no_such_filter\' (template line 1, column 10) in template "\'a\' | no_such_filter"',
      "9:23 E_TEMPLATE_FILTER assert `that`: no test named 'definde' (did you mean 'defined'?) (template line 1, column 4) in template \"x is definde\"",
      '11:15 E_TEMPLATE_SYNTAX assert `that`: template syntax error: expected \',\' or \')\', got }} (template line 1, column 12) in template "(1 == 1"',
      expect.stringMatching(/^14:33 E_TEMPLATE_SYNTAX assert `that\[1\]`: /),
    ]);
  });

  it('accepts valid assertions, booleans and templates', async () => {
    expect(await loadErrors('    - assert:\n        that:\n          - x is defined and x | int > 1\n          - true\n          - "{{ y }}"\n')).toEqual([]);
  });
});

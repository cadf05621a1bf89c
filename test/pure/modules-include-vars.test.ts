import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { includeVarsModule } from '../../src/modules/include-vars.js';
import type { ModuleContext } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import { tempTree } from '../support/temp-tree.js';
import { testContext } from '../support/module-harness.js';

/** A controller-only context: include_vars reads files and the task's role_path/playbook_dir, nothing else. */
function context(vars: Record<string, unknown>, dir: string): ModuleContext {
  // No connection: a host command would fail the test (E_NO_CONNECTION).
  return testContext(undefined, { hostName: 'h', diff: false, vars, findFile: async (rel, kind) => path.join(dir, kind, rel) });
}

describe('include_vars arguments', () => {
  it.each([
    [{}, 'include_vars: one of `file`, `dir` is required for module `include_vars`'],
    [{ file: 'a.yml', dir: 'd' }, 'include_vars: `dir` cannot be given with `file`: `file`, `dir` are mutually exclusive'],
    [{ file: 'a.yml', depth: 1 }, 'include_vars: `depth` cannot be given with `file`: `file`, `depth` are mutually exclusive'],
    [{ dir: 'd', files_matching: '(' }, 'include_vars: `(` is not a valid regular expression'],
    [{ dir: 'd', hash_behaviour: 'deep' }, undefined],
  ])('%j → %s', (args, message) => {
    const got = checkArgs(includeVarsModule, args);
    if (message === undefined) expect(got).toMatch(/hash_behaviour/);
    else expect(got).toBe(message);
  });
});

describe('include_vars on the controller', () => {
  it('keeps templates as written (rendered when read), puts them under name, and merges with hash_behaviour', async () => {
    const dir = tempTree({ 'vars/a.yml': 'base: 1\nport: "{{ base + 1 }}"\nopts: {x: 1}\n' }, 'vncplay-iv-');
    const ctx = context({ playbook_dir: dir, opts: { y: 2 } }, dir);
    const plain = await includeVarsModule.run(parsedArgs(includeVarsModule, { file: 'a.yml' }), ctx);
    expect(plain).toMatchObject({ changed: false, includedVars: { base: 1, port: '{{ base + 1 }}', opts: { x: 1 } } });
    expect(plain.data).toEqual({ ansible_facts: plain.includedVars, ansible_included_var_files: [path.join(dir, 'vars/a.yml')] });
    const named = await includeVarsModule.run(parsedArgs(includeVarsModule, { file: 'a.yml', name: 'cfg' }), ctx);
    expect(Object.keys(named.includedVars!)).toEqual(['cfg']);
    const merged = await includeVarsModule.run(parsedArgs(includeVarsModule, { file: 'a.yml', hash_behaviour: 'merge' }), ctx);
    expect(merged.includedVars!['opts']).toEqual({ y: 2, x: 1 });
  });

  it('walks a folder in Ansible order, skips the role\'s vars/main.yml, and refuses a list file', async () => {
    const dir = tempTree(
      { 'r/vars/main.yml': 'a: main\n', 'r/vars/b.yml': 'a: b\n', 'r/vars/sub/c.yml': 'c: 1\n', 'r/vars/list.yml': '- 1\n' },
      'vncplay-iv-',
    );
    const ctx = context({ role_path: path.join(dir, 'r'), playbook_dir: dir }, dir);
    const walk = await includeVarsModule.run(parsedArgs(includeVarsModule, { dir: '.', ignore_files: ['list.yml'] }), ctx);
    expect(walk.includedVars).toEqual({ a: 'b', c: 1 });
    await expect(includeVarsModule.run(parsedArgs(includeVarsModule, { dir: '.' }), ctx)).rejects.toThrow('list.yml must be stored as a dictionary/hash');
  });
});

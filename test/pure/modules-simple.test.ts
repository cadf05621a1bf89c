import { describe, expect, it } from 'vitest';
import { assertModule } from '../../src/modules/assert.js';
import { debugModule } from '../../src/modules/debug.js';
import { metaModule } from '../../src/modules/meta.js';
import { setFactModule } from '../../src/modules/set-fact.js';
import type { ModuleContext } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

/** The controller modules on the spec: what their hooks get, and what the spec refuses. */
const ctx = { hostName: 'h', vars: {}, signal: new AbortController().signal } as unknown as ModuleContext;

describe('controller modules with a spec', () => {
  it("assert: fail_msg wins over msg (both accepted, as Ansible's assert does); a list of conditions", async () => {
    expect(await assertModule.run(parsedArgs(assertModule, { that: ['true', false], msg: 'old', fail_msg: 'new' }), ctx)).toMatchObject({ failed: true, msg: 'new' });
    expect(await assertModule.run(parsedArgs(assertModule, { that: 'false', msg: 'old' }), ctx)).toMatchObject({ failed: true, msg: 'old' });
    expect(await assertModule.run(parsedArgs(assertModule, { that: '1 in [1, 2]' }), ctx)).toMatchObject({ msg: 'All assertions passed' });
    expect(checkArgs(assertModule, { that: { a: 1 } })).toBe('assert: `that` must be a condition or a list of conditions (strings or booleans)');
  });

  it('debug: msg and var are mutually exclusive; verbosity converts', async () => {
    expect(checkArgs(debugModule, { msg: 'a', var: 'b' })).toBe('debug: `var` cannot be given with `msg`: `msg`, `var` are mutually exclusive');
    expect(await debugModule.run(parsedArgs(debugModule, { msg: 'hi', verbosity: '1' }), ctx)).toMatchObject({ skipped: true });
  });

  it('set_fact: any variable name, not anything else; cacheable is not a fact', async () => {
    expect(checkArgs(setFactModule, { 'not-a-name': 1 })).toBe('set_fact: `not-a-name` is not a valid variable name');
    expect(checkArgs(setFactModule, {})).toBe('set_fact: nothing to set: give at least one variable');
    expect(await setFactModule.run(parsedArgs(setFactModule, { cacheable: 'yes', a: [1] }), ctx)).toEqual({ changed: false, facts: { a: [1] }, data: { ansible_facts: { a: [1] } } });
  });

  it('meta: the action is one of the known ones', async () => {
    expect(await metaModule.run(parsedArgs(metaModule, { action: 'flush_handlers' }), ctx)).toMatchObject({ meta: 'flush_handlers' });
    expect(checkArgs(metaModule, { action: 'flush' })).toMatch(/^meta: `action` must be one of `flush_handlers`/);
  });
});

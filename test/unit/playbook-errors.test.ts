import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList, PlaybookError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { Playbook } from '../../src/playbook/model.js';
import { findUndefinedVariables } from '../../src/playbook/undefined-vars.js';
import { testModules } from '../fixtures/playbooks/modules.js';

/**
 * Golden messages: every test/fixtures/playbooks/bad/NAME.yml must fail to load (or, once loaded, fail the
 * undefined-variables check against an empty inventory) with exactly the text in NAME.expected.txt
 * (file:line:col, code, message, excerpt with caret, hint). UPDATE_GOLDEN=1 rewrites them.
 */
const dir = 'test/fixtures/playbooks/bad';
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => f.slice(0, -4))
  .sort();

async function failure(file: string): Promise<ErrorList> {
  let playbook: Playbook;
  try {
    playbook = await loadPlaybook(file, { modules: testModules });
  } catch (e) {
    if (e instanceof ErrorList) return e;
    throw e;
  }
  // A playbook that loads may still read variables nobody defines: the CLI's next check (no -e, empty inventory).
  const undefinedVars = await findUndefinedVariables(playbook, { extraVars: {}, inventory: await loadInventory([], process.cwd()) });
  if (undefinedVars.length > 0) return new ErrorList(undefinedVars);
  throw new Error(`${file} loaded without error`);
}

describe('bad playbooks: golden messages', () => {
  it('has a corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of cases) {
    it(name, async () => {
      const file = path.join(dir, `${name}.yml`);
      const err = await failure(file);
      const text = `${err.format()}\n`;
      const golden = path.join(dir, `${name}.expected.txt`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
      // Every error is a positioned PlaybookError with an excerpt and a hint (the contract of issue 2).
      for (const e of err.errors) {
        expect(e).toBeInstanceOf(PlaybookError);
        expect(e.pos?.line).toBeGreaterThan(0);
        expect(e.excerpt).toMatch(/\^/);
        expect(e.hint).toBeTruthy();
      }
    });
  }
});

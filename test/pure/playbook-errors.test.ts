import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList, PlaybookError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { Playbook } from '../../src/playbook/model.js';
import { preflightErrors } from '../../src/runner/preflight.js';
import { testModules } from '../fixtures/playbooks/modules.js';

/**
 * Golden messages: every test/fixtures/playbooks/bad/NAME.yml must fail to load (or, once loaded, fail the
 * pre-flight checks: unknown hosts names, undefined variables) with exactly the text in NAME.expected.txt
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
  // A playbook that loads may still name hosts the inventory lacks or read variables nobody defines: the CLI's next
  // checks (no -e; the inventory of test/parity/bad-input-cli.test.ts: group vnc with host target, no vars).
  const inventory = parseInventory('vnc:\n  hosts:\n    target:\n', 'yaml');
  const refused = await preflightErrors(playbook, { extraVars: {}, inventory });
  if (refused.length > 0) return new ErrorList(refused);
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

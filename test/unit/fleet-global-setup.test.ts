// Which vitest command lines skip bringing up the test fleet (only unit tests selected).
import { describe, expect, it } from 'vitest';
import { onlyUnitTestsSelected } from '../fleet/global-setup.js';

const vitest = ['/usr/bin/node', '/repo/node_modules/.bin/vitest'];

describe('onlyUnitTestsSelected', () => {
  it.each([
    [['run', 'test/unit'], true],
    [['run', './test/unit/inventory-load.test.ts'], true],
    [['run', 'test/unit/a.test.ts', 'test/unit/b.test.ts', '--reporter=verbose'], true],
    [['run'], false],
    [[], false],
    [['run', 'test/integration/fleet.test.ts'], false],
    [['run', 'test/unit', 'test/integration'], false],
    [['run', 'inventory'], false],
    [['run', '--reporter=verbose'], false],
    [['run', 'test/unit/diff.test.ts', '-t', '8000 changed'], true],
    [['run', '-t', 'fleet', 'test/unit/diff.test.ts'], true],
    [['run', '-t', 'test/unit'], false],
  ])('%j → %s', (args, expected) => {
    expect(onlyUnitTestsSelected([...vitest, ...args])).toBe(expected);
  });
});

// Which vitest command lines skip bringing up the test fleet (no test/hosts file selected).
import { describe, expect, it } from 'vitest';
import { noHostsSelected } from '../fleet/global-setup.js';

const vitest = ['/usr/bin/node', '/repo/node_modules/.bin/vitest'];

describe('noHostsSelected', () => {
  it.each([
    [['run', 'test/pure'], true],
    [['run', 'test/pure', 'test/local', 'test/parity/'], true],
    [['run', '--project', 'local'], true],
    [['run', '--project', 'hosts'], false],
    [['run', './test/parity/inventory-load.test.ts'], true],
    [['run', 'test/pure/a.test.ts', 'test/local/b.test.ts', '--reporter=verbose'], true],
    [['run'], false],
    [[], false],
    [['run', 'test/hosts/fleet.test.ts'], false],
    [['run', 'test/pure', 'test/hosts'], false],
    [['run', 'inventory'], false],
    [['run', '--reporter=verbose'], false],
    [['run', 'test/pure/diff.test.ts', '-t', '8000 changed'], true],
    [['run', '-t', 'fleet', 'test/pure/diff.test.ts'], true],
    [['run', '-t', 'test/pure'], false],
  ])('%j → %s', (args, expected) => {
    expect(noHostsSelected([...vitest, ...args])).toBe(expected);
  });
});

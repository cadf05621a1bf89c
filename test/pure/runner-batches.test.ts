import { describe, expect, it } from 'vitest';
import { exceedsMaxFail, orderHosts, serialBatches } from '../../src/runner/batches.js';
import { tagsSelected } from '../../src/runner/tags.js';
import { Rounds } from '../../src/runner/rounds.js';

const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];

describe('serialBatches', () => {
  it.each([
    [undefined, [5]],
    [0, [5]],
    [2, [2, 2, 1]],
    ['2', [2, 2, 1]],
    ['40%', [2, 2, 1]],
    ['10%', [1, 1, 1, 1, 1]],
    [[1, 2], [1, 2, 2]],
    [[1, '50%'], [1, 2, 2]],
    [10, [5]],
  ])('serial %j gives batch sizes %j', (serial, sizes) => {
    expect(serialBatches(hosts, serial).map((b) => b.length)).toEqual(sizes);
  });

  it('keeps inventory order and covers every host once', () => {
    expect(serialBatches(hosts, [1, 3]).flat()).toEqual(hosts);
  });

  it('rejects a serial that is not a number or a percentage', () => {
    expect(() => serialBatches(hosts, 'lots')).toThrow(/not a number or a percentage/);
  });
});

describe('exceedsMaxFail', () => {
  it.each([
    [1, 4, 25, false],
    [2, 4, 25, true],
    [1, 4, 0, true],
    [0, 4, 0, false],
    [3, 4, undefined, false],
  ])('%i failed of %i with max %j%% → %j', (failed, size, pct, expected) => {
    expect(exceedsMaxFail(failed, size, pct)).toBe(expected);
  });
});

describe('tagsSelected', () => {
  it.each([
    [[], [], [], true],
    [['never'], [], [], false],
    [['never', 'x'], ['x'], [], true],
    [['always'], ['x'], [], true],
    [['always'], [], ['always'], false],
    [['a'], ['b'], [], false],
    [['a', 'b'], ['b'], [], true],
    [['a'], [], ['a'], false],
    [[], ['tagged'], [], false],
    [['a'], ['tagged'], [], true],
    [[], ['untagged'], [], true],
    [['a'], [], ['tagged'], false],
  ])('task tags %j, --tags %j, --skip-tags %j → %j', (task, only, skip, expected) => {
    expect(tagsSelected(task, only, skip)).toBe(expected);
  });
});

describe('Rounds (linear lockstep)', () => {
  it('releases a round only when every active host has arrived or left', async () => {
    const rounds = new Rounds(['a', 'b', 'c']);
    const order: string[] = [];
    const a = rounds.arrive('a').then(() => order.push('a'));
    const b = rounds.arrive('b').then(() => order.push('b'));
    await Promise.resolve();
    expect(order).toEqual([]);
    rounds.leave('c');
    await Promise.all([a, b]);
    expect(order.sort()).toEqual(['a', 'b']);
  });

  it('tells every waiting host to stop when beforeRound says so', async () => {
    let allow = true;
    const rounds = new Rounds(['a', 'b'], () => allow);
    const first = await Promise.all([rounds.arrive('a'), rounds.arrive('b')]);
    expect(first).toEqual([true, true]);
    allow = false;
    const second = await Promise.all([rounds.arrive('a'), rounds.arrive('b')]);
    expect(second).toEqual([false, false]);
    expect(await rounds.arrive('a')).toBe(false);
  });
});

describe('orderHosts (a play\'s `order`)', () => {
  const hosts = ['web10', 'web2', 'Web3', 'db1'];
  it.each([
    ['inventory', ['web10', 'web2', 'Web3', 'db1']],
    ['reverse_inventory', ['db1', 'Web3', 'web2', 'web10']],
    // Python's sorted(): code points, so upper case first and web10 before web2.
    ['sorted', ['Web3', 'db1', 'web10', 'web2']],
    ['reverse_sorted', ['web2', 'web10', 'db1', 'Web3']],
  ] as const)('%s', (order, expected) => {
    expect(orderHosts(hosts, order)).toEqual(expected);
    expect(hosts).toEqual(['web10', 'web2', 'Web3', 'db1']);
  });

  it('shuffle keeps every host once, in an order drawn from the random source', () => {
    expect(orderHosts(hosts, 'shuffle', () => 0)).toEqual(['web2', 'Web3', 'db1', 'web10']);
    expect(orderHosts(hosts, 'shuffle', () => 0.999).sort()).toEqual([...hosts].sort());
  });
});

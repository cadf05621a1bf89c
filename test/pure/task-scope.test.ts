import { describe, expect, it } from 'vitest';
import type { PlayRun } from '../../src/runner/context.js';
import { inTaskScope, SharedTaskScope } from '../../src/runner/task-scope.js';

/** The strategy's per-task place: hosts running a task together share one scope; nothing outlives the task. */
const run = { batch: ['h1', 'h2', 'h3'] } as unknown as PlayRun;

describe('task scope', () => {
  it('hosts running a task together compute a value once; the next task starts from nothing', async () => {
    let computed = 0;
    const read = (): Promise<number> => Promise.resolve(++computed);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const host = () =>
      inTaskScope(run, 'play.yml:3:7', async (scope) => {
        const v = await scope.once('group', read);
        await gate;
        return v;
      });
    const together = Promise.all([host(), host(), host()]);
    release();
    expect(await together).toEqual([1, 1, 1]);
    // The same task again (a later round), and another task: each reads afresh.
    expect(await host()).toBe(2);
    expect(await inTaskScope(run, 'play.yml:9:7', (scope) => scope.once('group', read))).toBe(3);
  });

  it('a failure is not shared with later callers, and forget makes the next caller compute again', async () => {
    const scope = new SharedTaskScope();
    await expect(scope.once('k', () => Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
    expect(await scope.once('k', () => Promise.resolve('second try'))).toBe('second try');
    expect(await scope.once('k', () => Promise.resolve('not asked'))).toBe('second try');
    scope.forget('k');
    expect(await scope.once('k', () => Promise.resolve('after a change'))).toBe('after a change');
  });
});

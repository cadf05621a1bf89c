import { describe, expect, it } from 'vitest';
import { liveReporter } from '../../src/output/live.js';
import { now, type RunEvent } from '../../src/runner/events.js';

const task = { id: '0', name: 'step', path: 'pb.yml:4:7', module: 'command', handler: false };

/** done(), or 'hung' when it has not resolved within the limit. */
function doneWithin(reporter: ReturnType<typeof liveReporter>, limitMs: number): Promise<'done' | 'hung'> {
  return Promise.race([
    reporter.done().then(() => 'done' as const),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), limitMs)),
  ]);
}

// How the rows look is tested on a real terminal (test/local/live-view.test.ts); this is the one path the CLI
// cannot reach on purpose: a run that threw in the middle of a play, with no play_end and no recap.
describe('liveReporter', () => {
  it('ends a play the run never ended, so done() resolves', async () => {
    const written: string[] = [];
    const reporter = liveReporter((text) => written.push(text));
    const events: RunEvent[] = [
      { type: 'play_start', time: now(), name: 'cut short', hosts: ['a', 'b'], batch: 1, batches: 1 },
      { type: 'task_start', time: now(), host: 'a', task },
    ];
    for (const e of events) reporter.onEvent(e);
    expect(await doneWithin(reporter, 5000)).toBe('done');
    expect(written).toEqual(['PLAY [cut short]\n']);
  });
});

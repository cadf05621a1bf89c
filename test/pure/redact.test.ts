import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.js';
import { SecretRedactor } from '../../src/runner/redact.js';

const task = { id: 't1', name: 'show', path: 'play.yml:4:7', handler: false };

function result(data: Record<string, unknown>, extra: Partial<Extract<RunEvent, { type: 'task_result' }>> = {}): RunEvent {
  return { type: 'task_result', time: '2026-01-01T00:00:00.000Z', host: 'h1', task, status: 'ok', changed: false, failed: false, result: data, durationMs: 12, ...extra };
}

describe('SecretRedactor', () => {
  it('hides a secret used as a mapping key in a result and in a loop item', () => {
    const r = new SecretRedactor(['key-secret-K1']);
    const e = r.event(result({ users: { 'key-secret-K1': 'admin', 'prefix-key-secret-K1': 1 } }, { item: { 'key-secret-K1': true } }));
    expect(JSON.stringify(e)).not.toContain('key-secret-K1');
    expect(e).toMatchObject({ result: { users: { '********': 'admin', 'prefix-********': 1 } }, item: { '********': true } });
  });

  it('keeps both entries when two keys differ only in their secret', () => {
    const r = new SecretRedactor(['alpha-pw', 'beta-pw1']);
    const e = r.event(result({ d: { 'alpha-pw': 1, 'beta-pw1': 2 } }));
    expect(e).toMatchObject({ result: { d: { '********': 1, '******** (2)': 2 } } });
  });

  it('hides a numeric secret shown as a number in the data, not in the event’s own counters', () => {
    const r = new SecretRedactor(['90817263', '12']);
    const e = r.event(result({ pin: 90817263, pins: [190817263], other: 5 }, { durationMs: 90817263 }));
    expect(e).toMatchObject({ result: { pin: '********', pins: ['1********'], other: 5 }, durationMs: 90817263 });
  });

  it('leaves the event’s shape alone when a secret equals a field name', () => {
    const r = new SecretRedactor(['host', 'status']);
    const e = r.event(result({ msg: 'host status' }));
    expect(e).toMatchObject({ type: 'task_result', host: 'h1', status: 'ok', result: { msg: '******** ********' } });
    expect(Object.keys(e)).toEqual(Object.keys(result({})));
  });
});

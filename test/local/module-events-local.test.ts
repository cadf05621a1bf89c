import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.js';
import { vncplay } from '../support/cli-helpers.js';

/** A module's own events (ctx.emit) reach the --json NDJSON with the runner's time and host. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vncplay-module-events-'));
  await writeFile(path.join(dir, 'hosts'), 'localhost ansible_connection=local\n');
  await writeFile(
    path.join(dir, 'drill.yml'),
    `- hosts: localhost
  gather_facts: false
  tasks:
    - name: stamp t0
      drill_event: { phase: t0, data: { fault: stop_keepalived } }
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('module events', () => {
  it('drill_event emits a drill event into the NDJSON stream, after its task starts and before its result', async () => {
    const r = await vncplay(['--json', '-i', path.join(dir, 'hosts'), path.join(dir, 'drill.yml')]);
    expect(r.code, r.stderr).toBe(0);
    const types = r.events.map((e) => e.type);
    const at = types.indexOf('drill');
    expect(types.lastIndexOf('task_start', at)).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('task_result', at)).toBeGreaterThan(at);
    const drill = r.events[at] as Extract<RunEvent, { type: 'drill' }>;
    expect(drill).toMatchObject({ type: 'drill', host: 'localhost', phase: 't0', data: { fault: 'stop_keepalived', t_ms: expect.any(Number) } });
    expect(Date.parse(drill.time)).not.toBeNaN();
  });
});

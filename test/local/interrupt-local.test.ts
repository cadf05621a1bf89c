// Ctrl-C on a terminal signals the whole foreground process group, not only vncplay: a command vncplay runs on
// the controller (ansible_connection=local, delegate_to: localhost) must not receive it, or "running steps
// finish" (the README's promise) fails the very step it promised to let finish.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vncplayLive } from '../support/fault-helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-interrupt-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C with a local command running', () => {
  it('the Ctrl-C of the process group leaves the running local command to finish, then the recap, exit 130', async () => {
    writeFileSync(path.join(dir, 'inv.yml'), 'all:\n  hosts:\n    here:\n      ansible_connection: local\n');
    writeFileSync(
      path.join(dir, 'pb.yml'),
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - name: long',
        '      command: sleep 1.5',
        '    - name: after',
        '      debug: msg=never',
        '',
      ].join('\n'),
    );
    const live = vncplayLive([path.join(dir, 'pb.yml'), '-i', path.join(dir, 'inv.yml')], { ownProcessGroup: true, timeoutMs: 30_000 });
    await live.waitFor((e) => e.type === 'task_start' && e.task.name === 'long');
    await new Promise((resolve) => setTimeout(resolve, 400));
    process.kill(-(live.child.pid ?? 0), 'SIGINT');
    const r = await live.done;
    expect(r.code, r.stderr).toBe(130);
    const long = r.events.find((e) => e.type === 'task_result' && e.task.name === 'long');
    expect(long?.type === 'task_result' && long.status, JSON.stringify(long)).toBe('changed');
    expect(r.events.some((e) => e.type === 'task_start' && e.task.name === 'after')).toBe(false);
    expect(r.recap['here']).toMatchObject({ failed: 0 });
  });
});

import { describe, expect, it } from 'vitest';
import { ModuleError } from '../../src/errors.js';
import { plainReporter } from '../../src/output/plain.js';
import type { RunEvent } from '../../src/runner/events.js';
import { outcomeFromError } from '../../src/runner/execute-task.js';
import { playYaml } from '../support/runner-helpers.js';

/** task_result events carry a failure's code, hint and position; a bug inside vncplay keeps its stack. */
describe('structured errors in task_result events', () => {
  it('a refused rendered argument and a module error: code and hint, not only text', async () => {
    const r = await playYaml(`
- hosts: all
  gather_facts: false
  vars:
    port: not-a-number
  tasks:
    - name: bad port
      wait_for: { port: "{{ port }}", timeout: 1 }
      ignore_errors: true
    - name: missing file
      lineinfile: { path: /nonexistent-vncplay-dir/f, line: x }
`);
    const [bad] = r.results('bad port');
    expect(bad!.msg).toBe('wait_for: `port` must be an integer, got the string "not-a-number"');
    expect(bad!.error).toEqual({ code: 'E_TYPE', hint: expect.stringMatching(/number/) });
    const [missing] = r.results('missing file');
    expect(missing!.error).toEqual({ code: 'E_LINEINFILE_MISSING', hint: 'set create: true to make it' });
    // The NDJSON is these events as JSON: the structure survives it.
    expect(JSON.parse(JSON.stringify(missing)).error.code).toBe('E_LINEINFILE_MISSING');
  });

  it('a bug (not a VncplayError) is E_INTERNAL with its stack; a user mistake has none', () => {
    const bug = outcomeFromError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(bug.status).toBe('failed');
    expect(bug.error?.code).toBe('E_INTERNAL');
    expect(bug.error?.stack).toMatch(/^TypeError: Cannot read properties of undefined[\s\S]*task-errors-local\.test\.ts/);
    const mistake = outcomeFromError(new ModuleError('E_FILE_OWNER', 'chown failed', { hint: 'create the user first' }));
    expect(mistake.error).toEqual({ code: 'E_FILE_OWNER', hint: 'create the user first' });
  });

  it('the plain output shows a bug\'s stack at -vvv only', () => {
    const event: RunEvent = {
      type: 'task_result', time: '', host: 'h1', task: { id: 't', name: 't', path: 'p:1:1', handler: false },
      status: 'failed', changed: false, failed: true, msg: 'boom', result: { failed: true, msg: 'boom' }, durationMs: 0,
      error: { code: 'E_INTERNAL', stack: 'TypeError: boom\n    at plan (src/modules/x.ts:1:1)' },
    };
    const shown = (verbosity: number): string => {
      let text = '';
      plainReporter({ write: (t) => (text += t), verbosity, color: false })(event);
      return text;
    };
    expect(shown(1)).not.toContain('at plan');
    expect(shown(3)).toContain('TypeError: boom\n    at plan (src/modules/x.ts:1:1)');
  });
});

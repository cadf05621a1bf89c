// The persistence daemon loads every file that registers a line-session function before it serves
// (persist-daemon.ts SESSION_FUNCTION_MODULES): a file added later with sessionScript(...) must be listed there.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerSessionFunctions, SESSION_FUNCTION_MODULES } from '../../src/connection/persist-daemon.js';
import { sessionDefinitions } from '../../src/connection/line-session.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('session functions in the persistence daemon', () => {
  it('lists every file that calls sessionScript()', () => {
    const registering = sources(SRC)
      .filter((f) => !f.endsWith('connection/line-session.ts') && /\bsessionScript\(/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f).replace(/\.ts$/, ''))
      .sort();
    expect([...SESSION_FUNCTION_MODULES].sort()).toEqual(registering);
  });

  it('loading those files registers the functions a run calls (the probe, the write, wait_for, the steps)', async () => {
    await registerSessionFunctions();
    const defined = sessionDefinitions();
    for (const fn of ['vp_write', 'vp_read', 'vp_probe', 'vp_wait', 'vp_steps']) expect(defined).toContain(`${fn}() {`);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecResult } from '../../src/connection/types.js';
import type { ModuleContext, Step } from '../../src/modules/types.js';
import { batchedSteps, execBatch } from '../../src/runner/invoke-module.js';

// A real local shell stands in for the host: the batch script runs exactly as it would through `sh -c`.
const ctx = {
  exec: async (argv: readonly string[]): Promise<ExecResult> => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return { rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  },
} as unknown as ModuleContext;

const exec = (...argv: string[]): Extract<Step, { kind: 'exec' }> => ({ kind: 'exec', argv });

describe("a change's consecutive commands in one exec", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vp-batch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('groups plain commands; stdin, secrets, writes and a change of become start a new group', () => {
    const a = exec('mkdir', '-p', '/x');
    const b = exec('chmod', '0750', '/x');
    const withStdin: Step = { kind: 'exec', argv: ['cat'], stdin: 'x' };
    const secret: Step = { kind: 'exec', argv: ['passwd'], secret: true };
    const write: Step = { kind: 'write', path: '/x/f', content: 'x' };
    const asRoot: Step = { kind: 'exec', argv: ['chown', 'root', '/x'], become: true };
    expect(batchedSteps([a, b, withStdin, a, secret, b, write, a, asRoot])).toEqual([[a, b], [withStdin], [a], [secret], [b], [write], [a], [asRoot]]);
  });

  it('runs every command in turn, arguments verbatim', async () => {
    const f = join(dir, "it's $(here)");
    const res = await execBatch(ctx, [exec('touch', '--', f), exec('chmod', '0640', '--', f), exec('stat', '-c', '%a', '--', f)], {});
    expect(res).toEqual({ rc: 0, stdout: '640\n', stderr: '' });
    expect(res.failedStep).toBeUndefined();
  });

  it('the first failure stops the rest and is the one blamed, with its own rc and stderr', async () => {
    const canary = join(dir, 'canary');
    const failing = exec('sh', '-c', 'echo broken >&2; exit 3');
    const res = await execBatch(ctx, [exec('true'), failing, exec('touch', canary)], {});
    expect([res.rc, res.stderr, res.failedStep]).toEqual([3, 'broken\n', failing]);
    expect(existsSync(canary)).toBe(false);
  });
});

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { LINE_SESSION_DRIVER, frame, sessionCommand, sessionOpening } from '../../src/connection/line-session.js';
import type { ExecResult } from '../../src/connection/types.js';

export interface DriverCommand {
  argv: readonly string[];
  stdin?: string | Uint8Array;
}

/**
 * Run commands through the line session's driver in a local bash, framed exactly as LineSession sends them (every
 * registered session function defined first), and split the output into one result per command.
 */
export function runThroughDriver(commands: readonly DriverCommand[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ExecResult[] {
  const nonce = `vpdriver${randomBytes(8).toString('hex')}`;
  const frames = commands.map((c) => frame(sessionCommand(c.argv, typeof c.stdin === 'string' ? Buffer.from(c.stdin) : (c.stdin ?? new Uint8Array(0)))));
  const input = `${sessionOpening(nonce)}${frames.join('')}`;
  const run = spawnSync('bash', ['-c', LINE_SESSION_DRIVER], { input, encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env });
  const ready = 'VP-LINE-READY\n';
  if (!run.stdout.startsWith(ready)) throw new Error(`the driver did not start: ${run.stderr}`);
  const outs = run.stdout.slice(ready.length).split(new RegExp(`${nonce} (\\d+)\\n`));
  const errs = run.stderr.split(`${nonce}\n`);
  const results: ExecResult[] = [];
  for (let i = 0; i < commands.length; i++) {
    const rc = outs[2 * i + 1];
    if (rc === undefined) throw new Error(`the driver stopped at command ${i + 1}: ${run.stderr}`);
    results.push({ rc: Number(rc), stdout: outs[2 * i]!, stderr: errs[i]! });
  }
  return results;
}

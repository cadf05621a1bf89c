// Streaming view of a CLI run for fault and interrupt tests: they must act WHILE a task runs (cut a link,
// kill sshd, send SIGINT), so they need the NDJSON events as they arrive, stamped with the controller's clock.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '../../src/runner/events.js';
import { fleetInventory } from '../fleet/fleet.js';
import { parseRecap, repoRoot, type CliRun } from './cli-helpers.js';

export interface StampedEvent {
  /** Date.now() when the line reached the test. */
  at: number;
  event: RunEvent;
}

export interface LiveRun {
  child: ChildProcessWithoutNullStreams;
  events: StampedEvent[];
  /** Resolves with the first event (already seen or still to come) that matches. */
  waitFor(match: (e: RunEvent) => boolean, timeoutMs?: number): Promise<StampedEvent>;
  /** Resolves once stdout so far matches (for runs without --json). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited; `exitedAt` is Date.now() at that moment. */
  done: Promise<CliRun & { exitedAt: number; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the built CLI (with --json unless json: false), parsing each NDJSON line as it arrives. `ownProcessGroup`
 * makes the CLI lead a process group of its own, as a shell's foreground job is, so that a test can signal the
 * whole group the way a terminal's Ctrl-C does (`process.kill(-child.pid, 'SIGINT')`).
 */
export function vncplayLive(args: string[], opts: { timeoutMs?: number; json?: boolean; ownProcessGroup?: boolean } = {}): LiveRun {
  const argv = [join(repoRoot, 'bin/vncplay.js'), ...args, ...(opts.json === false ? [] : ['--json'])];
  const child = spawn('node', argv, { cwd: repoRoot, detached: opts.ownProcessGroup === true });
  const events: StampedEvent[] = [];
  const waiters: Array<{ match: (e: RunEvent) => boolean; resolve: (s: StampedEvent) => void }> = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const stamped = { at: Date.now(), event: JSON.parse(line) as RunEvent };
      events.push(stamped);
      for (const w of [...waiters]) {
        if (w.match(stamped.event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(stamped);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 110_000);
  const done = new Promise<CliRun & { exitedAt: number; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const evs = events.map((s) => s.event);
      resolve({ code: code ?? -1, signal, stdout, stderr, events: evs, recap: parseRecap(stdout, evs), exitedAt: Date.now() });
    });
  });
  const waitFor = (match: (e: RunEvent) => boolean, timeoutMs = 60_000): Promise<StampedEvent> => {
    const seen = events.find((s) => match(s.event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ match, resolve: (s) => { clearTimeout(t); resolve(s); } });
      void done.then(() => { clearTimeout(t); reject(new Error(`run exited before the event; stderr: ${stderr}\nstdout: ${stdout.slice(-2000)}`)); });
    });
  };
  const waitForOutput = async (re: RegExp, timeoutMs = 60_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!re.test(stdout)) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`output never matched ${re}; stdout: ${stdout.slice(-2000)}`);
      await sleep(50);
    }
  };
  return { child, events, waitFor, waitForOutput, done };
}

/** A task_start (or task_result) of the task named `name` on `host`. */
export const taskStart = (host: string, name: string) => (e: RunEvent): boolean =>
  e.type === 'task_start' && e.host === host && e.task.name === name;
export const taskResult = (host: string, name?: string) => (e: RunEvent): boolean =>
  e.type === 'task_result' && e.host === host && (name === undefined || e.task.name === name);

/** A copy of the fleet inventory in `dir` (the test's own file, so tests can add hosts or vars to it). */
export async function writeInventory(dir: string, transform: (yaml: string) => string = (y) => y, name = 'inventory.yml'): Promise<string> {
  const inv = join(dir, name);
  await writeFile(inv, transform(await readFile(fleetInventory(), 'utf8')));
  return inv;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

import type { RunEvent } from '../runner/events.js';

/** NDJSON: one event per line, flushed as it happens, so a program can follow a run live. */
export function jsonReporter(write: (line: string) => void): (e: RunEvent) => void {
  return (e) => write(JSON.stringify(e) + '\n');
}

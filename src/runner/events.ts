import type { SourcePos } from '../errors.js';
import type { DiffEntry, ModuleEvent } from '../modules/types.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable' | 'ignored' | 'rescued';

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface TaskRef {
  /** Stable id of the task within the run (its position), so a program following events can group them. */
  id: string;
  name: string;
  /** `file:line:col` of the task. */
  path: string;
  module?: string;
  handler: boolean;
}

/**
 * Why a task failed, for programs that follow the events: a stable code (`E_TYPE`, `E_FILE_OWNER`, …), the hint,
 * the playbook position it is about when there is one. A bug inside vncplay (an exception that is no VncplayError)
 * is `E_INTERNAL` and keeps its stack (the plain output shows it at -vvv).
 */
export interface TaskError {
  code: string;
  hint?: string;
  pos?: SourcePos;
  stack?: string;
}

/** Everything the runner tells its reporters. Reporters never reach back into the runner. */
export type RunEvent =
  | { type: 'run_start'; time: string; playbook: string; check: boolean; diff: boolean; forks: number }
  | { type: 'play_start'; time: string; name: string; hosts: string[]; batch: number; batches: number }
  | { type: 'task_start'; time: string; host: string; task: TaskRef }
  | {
      type: 'task_result';
      time: string;
      host: string;
      task: TaskRef;
      status: TaskStatus;
      changed: boolean;
      failed: boolean;
      msg?: string;
      item?: unknown;
      /** Loop item label for display. */
      label?: string;
      diff?: DiffEntry[];
      /** The registered result (redacted under no_log). */
      result?: Record<string, unknown>;
      durationMs: number;
      delegatedTo?: string;
      /** Retried attempts before this result (retries/until). */
      attempts?: number;
      /** A failure's code, hint and position (absent when a module reported an ordinary failure: rc, msg). */
      error?: TaskError;
    }
  | { type: 'warning'; time: string; message: string; host?: string }
  | { type: 'verbose'; time: string; level: number; host?: string; message: string }
  | (ModuleEvent & { time: string; host?: string })
  /** A failure ended the play for every host of the batch (any_errors_fatal, run_once, max_fail_percentage). */
  | { type: 'no_hosts_remaining'; time: string }
  | { type: 'play_end'; time: string; name: string }
  | { type: 'recap'; time: string; hosts: Record<string, HostStats> }
  | { type: 'run_end'; time: string; exitCode: number; durationMs: number; interrupted: boolean };

export type RunEventListener = (event: RunEvent) => void;

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

export function now(): string {
  return new Date().toISOString();
}

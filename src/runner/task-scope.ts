import type { TaskScope } from '../modules/types.js';
import type { PlayRun } from './context.js';

/**
 * The strategy's "once per task, across hosts" place. Every host that runs a task while another host is still
 * running it shares one scope: a controller-side module (security_group) reads a cloud resource once and makes each
 * mutating call once for all of them, and the results fan out to every host. The scope ends with the last host
 * that is running the task, so the next task, and the same task run again later, start from nothing: no cache
 * outlives the task, and nothing is remembered by time.
 *
 * Hosts join a running scope rather than waiting for every host's arguments: a host waiting for the others would
 * hold its fork slot while the hosts it waits for cannot get one (forks < hosts), and whether a host reaches the
 * task at all (`when:`, a failure, another branch) is known only when it gets there.
 */
export class SharedTaskScope implements TaskScope {
  private readonly values = new Map<string, Promise<unknown>>();

  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const known = this.values.get(key) as Promise<T> | undefined;
    if (known) return known;
    const value = compute();
    this.values.set(key, value);
    // A failure is not shared with the hosts that ask later: each may try again.
    value.catch(() => {
      if (this.values.get(key) === value) this.values.delete(key);
    });
    return value;
  }

  forget(key: string): void {
    this.values.delete(key);
  }
}

interface Running {
  scope: SharedTaskScope;
  hosts: number;
}

const runningTasks = new WeakMap<PlayRun, Map<string, Running>>();

/** Runs `body` (one task on one host) inside the scope shared by the hosts running the same task of this batch. */
export async function inTaskScope<T>(run: PlayRun, taskId: string, body: (scope: TaskScope) => Promise<T>): Promise<T> {
  let tasks = runningTasks.get(run);
  if (!tasks) runningTasks.set(run, (tasks = new Map()));
  let running = tasks.get(taskId);
  if (!running) tasks.set(taskId, (running = { scope: new SharedTaskScope(), hosts: 0 }));
  running.hosts++;
  try {
    return await body(running.scope);
  } finally {
    if (--running.hosts === 0 && tasks.get(taskId) === running) tasks.delete(taskId);
  }
}

import { Listr, type ListrTaskWrapper } from 'listr2';
import type { RunEvent } from '../runner/events.js';
import { formatRecap } from './recap.js';

type HostRow = {
  task?: ListrTaskWrapper<unknown, never, never>;
  lastTitle: string;
  failure?: string;
  finish?: () => void;
};

export interface LiveReporter {
  onEvent(e: RunEvent): void;
  /** Resolves once the view has drawn its last frame and the recap. */
  done(): Promise<void>;
}

/** The TTY view: during each play one row per host with the task it is on, then Ansible's recap. */
export function liveReporter(write: (text: string) => void): LiveReporter {
  const rows = new Map<string, HostRow>();
  let rendering: Promise<unknown> = Promise.resolve();

  const startPlay = (name: string, hosts: string[]): void => {
    rows.clear();
    const list = new Listr(
      hosts.map((host) => ({
        title: host,
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
          new Promise<void>((resolve, reject) => {
            const row: HostRow = rows.get(host) ?? { lastTitle: host };
            row.task = task;
            row.finish = () => (row.failure ? reject(new Error(row.failure)) : resolve());
            rows.set(host, row);
          }),
      })),
      { concurrent: true, exitOnError: false },
    );
    write(`PLAY [${name}]\n`);
    rendering = rendering.then(() => list.run().catch(() => undefined));
  };

  const endPlay = (): void => {
    for (const row of rows.values()) row.finish?.();
  };

  return {
    onEvent(e) {
      switch (e.type) {
        case 'play_start':
          startPlay(e.name, e.hosts);
          break;
        case 'task_start': {
          const row = rows.get(e.host);
          if (row?.task) row.task.title = `${e.host}: ${e.task.name}`;
          break;
        }
        case 'task_result': {
          const row = rows.get(e.host);
          if (!row?.task) break;
          if (e.status === 'failed' || e.status === 'unreachable') {
            row.failure = `${e.task.name}: ${e.msg ?? e.status}`;
            row.task.title = `${e.host}: ${row.failure}`;
          } else {
            row.task.title = `${e.host}: ${e.task.name} (${e.status})`;
          }
          break;
        }
        case 'play_end':
          endPlay();
          break;
        case 'recap':
          rendering = rendering.then(() => write('\n' + formatRecap(e.hosts, true)));
          break;
        default:
          break;
      }
    },
    done: () => rendering.then(() => undefined),
  };
}

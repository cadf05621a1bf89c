import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { RunEvent } from '../../src/runner/events.js';
import { runPlaybook, type RunOptions, type RunResult } from '../../src/runner/run.js';

export interface PlayOutcome extends RunResult {
  events: RunEvent[];
  dir: string;
  /** task_result events for a task name, in order. */
  results(taskName: string): Extract<RunEvent, { type: 'task_result' }>[];
}

/** Local hosts (ansible_connection=local) named as given: real processes on the controller, no mock. */
export function localInventory(hosts: string[], vars = ''): string {
  return `[local]\n${hosts.map((h) => `${h} ansible_connection=local`).join('\n')}\n${vars ? `[local:vars]\n${vars}\n` : ''}`;
}

/** Writes the playbook (and any extra files) to a fresh folder and runs it against an INI inventory. */
export async function playYaml(
  yaml: string,
  opts: Partial<Omit<RunOptions, 'playbook' | 'inventory'>> & { inventory?: string; files?: Record<string, string> } = {},
): Promise<PlayOutcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-run-'));
  for (const [rel, text] of Object.entries(opts.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  const file = path.join(dir, 'play.yml');
  await writeFile(file, yaml);
  const playbook = await loadPlaybook(file);
  const inventory = parseInventory(opts.inventory ?? localInventory(['l1']), 'ini');
  const events: RunEvent[] = [];
  const { files: _files, inventory: _inv, ...rest } = opts;
  const result = await runPlaybook({
    ...rest,
    playbook,
    inventory,
    onEvent: (e) => {
      events.push(e);
      rest.onEvent?.(e);
    },
  });
  return {
    ...result,
    events,
    dir,
    results: (name) =>
      events.filter((e): e is Extract<RunEvent, { type: 'task_result' }> => e.type === 'task_result' && e.task.name === name),
  };
}

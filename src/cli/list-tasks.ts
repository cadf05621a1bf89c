import type { PlayDef, TaskDef } from '../playbook/model.js';
import { displayName } from '../runner/execute-task.js';
import { tagsSelected } from '../runner/tags.js';

/** `--list-tasks` in ansible-playbook's shape: every task the tags select, blocks flattened, with its tags. */
export function listTasks(play: PlayDef, only: string[], skip: string[]): string {
  const lines = ['    tasks:'];
  const walk = (tasks: readonly TaskDef[], inherited: string[]): void => {
    for (const t of tasks) {
      const tags = [...new Set([...inherited, ...t.tags])];
      if (t.block) {
        walk([...t.block, ...(t.rescue ?? []), ...(t.always ?? [])], tags);
        continue;
      }
      if (!tagsSelected(tags, only, skip)) continue;
      // An include_tasks or include_role is listed as itself, not its tasks: they are known only when it runs. As
      // ansible-playbook lists them: an unnamed task by its action as written (no role prefix), tags sorted.
      const name = t.name === undefined ? (t.action ?? displayName(t)) : displayName(t);
      lines.push(`      ${name}\tTAGS: [${[...tags].sort().join(', ')}]`);
    }
  };
  walk([...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks], play.tags);
  return lines.join('\n') + '\n';
}

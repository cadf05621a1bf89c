import type { PlayDef } from '../playbook/model.js';
import { listedNodes, NOTHING_INHERITED, planTasks, type PlanNode } from '../playbook/plan.js';
import { displayName } from '../runner/execute-task.js';
import { tagsSelected } from '../runner/tags.js';

/** The play's tasks as the runner walks them: pre_tasks, roles, tasks, post_tasks, with the play's tags. */
function playPlan(play: PlayDef): PlanNode[] {
  return planTasks([...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks], { ...NOTHING_INHERITED, tags: play.tags });
}

/** `--list-tasks` in ansible-playbook's shape: every task the tags select, blocks flattened, with its tags. */
export function listTasks(play: PlayDef, only: string[], skip: string[]): string {
  const lines = ['    tasks:'];
  for (const { task } of listedNodes(playPlan(play))) {
    if (!tagsSelected(task.tags, only, skip)) continue;
    // An include_tasks or include_role is listed as itself, not its tasks: they are known only when it runs. As
    // ansible-playbook lists them: an unnamed task by its action as written (no role prefix), tags sorted.
    const name = task.name === undefined ? (task.action ?? displayName(task)) : displayName(task);
    lines.push(`      ${name}\tTAGS: [${[...task.tags].sort().join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `--list-tags` in ansible-playbook's shape: the play's tags and the effective tags of every task the selection
 * keeps (an include by its own), sorted, once each.
 */
export function listTags(play: PlayDef, only: string[], skip: string[]): string {
  const tags = new Set<string>(play.tags);
  for (const { task } of listedNodes(playPlan(play))) if (tagsSelected(task.tags, only, skip)) for (const t of task.tags) tags.add(t);
  return `      TASK TAGS: [${[...tags].sort().join(', ')}]\n`;
}

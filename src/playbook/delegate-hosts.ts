import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { formatExcerpt, nearest, PlaybookError, type SourcePos } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import type { Playbook, TaskDef } from './model.js';
import { isTemplateString } from './template.js';

/*
 * `delegate_to: NAME` written literally must name a host the run can reach, checked before any host is contacted.
 *
 * An inventory host is reached with its own connection variables, and localhost is the controller. Ansible also
 * accepts any other name and connects to it as an address; vncplay does too (the runner warns when it does), but
 * only a name that resolves: one that does not is a typo of an inventory host far more often than a host that
 * will appear in DNS by the time the task runs. A templated delegate_to (`{{ groups['db'][0] }}`) is checked when
 * the run renders it, and for undefined variables by the undefined-variables pass.
 */

/** Names that are the controller without being declared (Ansible's implicit localhost). */
const LOCALHOST_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** How long a name may take to resolve before the check gives up on it. */
const RESOLVE_TIMEOUT_MS = 5000;

/** Resolves `name` to an address, or rejects; the default asks the system resolver (getaddrinfo, /etc/hosts). */
export type ResolveName = (name: string) => Promise<unknown>;

/** One E_UNKNOWN_DELEGATE error per task whose literal delegate_to is neither an inventory host nor resolvable. */
export async function findUnknownDelegateHosts(playbook: Playbook, inventory: Inventory, resolve: ResolveName = resolveWithTimeout): Promise<PlaybookError[]> {
  const byName = new Map<string, TaskDef[]>();
  for (const play of playbook.plays) {
    for (const task of eachTask([...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks, ...play.handlers])) {
      const name = literalDelegate(task);
      if (name === undefined || LOCALHOST_NAMES.has(name) || inventory.hosts.has(name) || isIP(name) !== 0) continue;
      byName.set(name, [...(byName.get(name) ?? []), task]);
    }
  }
  const errors: PlaybookError[] = [];
  for (const [name, tasks] of byName) {
    const found = await resolve(name).then(
      () => true,
      () => false,
    );
    if (found) continue;
    // One error per place it is written: an inherited delegate_to is reported once, at its block.
    const places = new Map<string, SourcePos>();
    for (const t of tasks) {
      const pos = t.delegateToPos ?? t.pos;
      places.set(`${pos.file}:${pos.line}:${pos.col}`, pos);
    }
    for (const pos of places.values()) errors.push(await unknownDelegateError(name, pos, inventory));
  }
  return errors;
}

/** Every task of a list, blocks' tasks (rescue/always too) included, the blocks themselves too. */
export function* eachTask(tasks: readonly TaskDef[]): Generator<TaskDef> {
  for (const t of tasks) {
    yield t;
    for (const sub of [t.block, t.rescue, t.always]) if (sub) yield* eachTask(sub);
  }
}

function literalDelegate(task: TaskDef): string | undefined {
  const value = task.delegateTo;
  if (typeof value !== 'string' || isTemplateString(value)) return undefined;
  const name = value.trim();
  return name === '' ? undefined : name;
}

function resolveWithTimeout(name: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), RESOLVE_TIMEOUT_MS);
  });
  return Promise.race([lookup(name), timeout]).finally(() => clearTimeout(timer));
}

async function unknownDelegateError(name: string, pos: SourcePos, inv: Inventory): Promise<PlaybookError> {
  const hosts = [...inv.hosts.values()].filter((h) => !h.implicit).map((h) => h.name);
  const guess = nearest(name, hosts);
  const excerpt = await excerptAt(pos);
  return new PlaybookError('E_UNKNOWN_DELEGATE', `delegate_to: '${name}' is not an inventory host, and the name does not resolve to an address`, {
    pos,
    ...(excerpt !== undefined ? { excerpt } : {}),
    hint: guess
      ? `did you mean '${guess}'?`
      : `name a host of the inventory (${hosts.slice(0, 8).join(', ')}${hosts.length > 8 ? ', …' : ''}), localhost, or an address`,
  });
}

async function excerptAt(pos: SourcePos): Promise<string | undefined> {
  try {
    const text = await readFile(pos.file, 'utf8');
    // A vault-encrypted playbook gives no excerpt: its plaintext must not be printed.
    return /^\s*\$ANSIBLE_VAULT;/.test(text) ? undefined : formatExcerpt(text, pos.line, pos.col);
  } catch {
    return undefined;
  }
}

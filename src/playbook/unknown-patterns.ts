import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { formatExcerpt, nearest, PlaybookError, type SourcePos } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { splitPattern } from '../inventory/patterns.js';
import { moduleOfTask } from '../modules/registry.js';
import { eachTask } from './delegate-hosts.js';
import type { PlayDef, Playbook, TaskDef } from './model.js';
import { isTemplateString, render } from './template.js';
import { templateReads } from './undefined-vars.js';
import { keyOf, parseYamlSource, type YamlSource } from './yaml-source.js';

/*
 * A play whose `hosts:` names a group or host the inventory does not have (issue 7, "unknown inventory group").
 *
 * Ansible only warns ("Could not match supplied host pattern, ignoring: vnc_servres") and skips the play, so a
 * typo makes `restart.yml` succeed having done nothing. vncplay refuses a name that is a near miss of a group or
 * host the inventory has (a typo) before any host is contacted (exit 4), at the `hosts:` value, with a did-you-mean
 * hint. Any other unknown name is what Ansible says it is: a pattern this inventory does not serve (a playbook for
 * `webservers` checked with `-i localhost,`), so the play is skipped with Ansible's warning.
 *
 * Only plain names are checked: each `,`/`:`-separated term of the pattern (also after `&` and `!`), once the
 * pattern is rendered with -e (as the runner renders it). Terms that select by shape rather than by name are left
 * alone, since matching nothing can be what they mean: globs (`*`, `?`), regexes (`~…`), subscripts and ranges
 * (`[…]`), `@file` lists, and the names that always exist (`all`, `ungrouped`, the implicit localhost).
 * A pattern that does not render (an undefined -e variable) is the undefined-variables check's error, not this one.
 */

/** Names every inventory has, or that Ansible provides itself (the implicit localhost). */
const ALWAYS_KNOWN = new Set(['all', 'ungrouped', 'localhost', '127.0.0.1', '::1']);

/** The plain names of a host pattern that must each name a group or a host (see the file comment). */
export function plainPatternNames(pattern: string): string[] {
  const names: string[] = [];
  for (const raw of splitPattern(pattern)) {
    const term = raw.replace(/^[&!]/, '');
    if (term === '' || ALWAYS_KNOWN.has(term)) continue;
    if (term.startsWith('~') || term.startsWith('@') || /[*?[\]]/.test(term)) continue;
    if (!names.includes(term)) names.push(term);
  }
  return names;
}

/** Names of `plainPatternNames(pattern)` that are neither a group nor a (declared) host of `inv`. */
export function unknownPatternNames(inv: Inventory, pattern: string): string[] {
  return plainPatternNames(pattern).filter((n) => !inv.groups.has(n) && !(inv.hosts.has(n) && !inv.hosts.get(n)!.implicit));
}

/**
 * One E_UNKNOWN_PATTERN PlaybookError per unknown name in each play's `hosts` that is a near miss of a name the
 * inventory has, positioned at the name in the `hosts:` value (or at the value, when the name comes from a
 * template). `extraVars` are the -e variables.
 */
export async function findUnknownHostPatterns(
  playbook: Playbook,
  inventory: Inventory,
  extraVars: Record<string, unknown>,
): Promise<PlaybookError[]> {
  const errors: PlaybookError[] = [];
  const sources = new Map<string, Promise<YamlSource | undefined>>();
  for (const { play, pattern, name } of unknownNames(playbook, inventory, extraVars)) {
    if (nearestKnownName(name, inventory) === undefined) continue;
    let src = sources.get(play.pos.file);
    if (!src) sources.set(play.pos.file, (src = readSource(play.pos.file)));
    errors.push(unknownNameError(await src, play, pattern, name, inventory));
  }
  return errors;
}

/**
 * Ansible's warning for each unknown name that is not a near miss (those are refused: findUnknownHostPatterns):
 * "Could not match supplied host pattern, ignoring: webservers"; the run skips what it selects.
 */
export function findUnmatchedHostPatterns(playbook: Playbook, inventory: Inventory, extraVars: Record<string, unknown>): string[] {
  const names = [...unknownNames(playbook, inventory, extraVars)].map((u) => u.name).filter((n) => nearestKnownName(n, inventory) === undefined);
  return [...new Set(names)].map((n) => `Could not match supplied host pattern, ignoring: ${n}`);
}

/** Each name of a play's rendered `hosts` the inventory lacks, up to the first play that may add hosts or groups. */
function* unknownNames(playbook: Playbook, inventory: Inventory, extraVars: Record<string, unknown>): Generator<{ play: PlayDef; pattern: string; name: string }> {
  let inventoryMayGrow = false;
  for (const play of playbook.plays) {
    // After a play that runs add_host or group_by, a name may be a host or group the run itself creates.
    if (inventoryMayGrow) return;
    inventoryMayGrow = [...play.handlers, ...play.tasks].some((t) => [...eachTask([t])].some(changesInventory));
    const pattern = renderedPattern(play, extraVars);
    if (pattern === undefined) continue;
    for (const name of unknownPatternNames(inventory, pattern)) yield { play, pattern, name };
  }
}

/** add_host and group_by (under any of their names) add hosts and groups while the playbook runs. */
function changesInventory(task: TaskDef): boolean {
  const name = moduleOfTask(task)?.name;
  return name === 'add_host' || name === 'group_by';
}

/** The play's pattern as the runner sees it, or undefined when it does not render with -e alone. */
function renderedPattern(play: PlayDef, extraVars: Record<string, unknown>): string | undefined {
  if (!isTemplateString(play.hosts)) return play.hosts;
  try {
    return String(render(play.hosts, extraVars, play.pos));
  } catch {
    return undefined;
  }
}

function unknownNameError(src: YamlSource | undefined, play: PlayDef, pattern: string, name: string, inv: Inventory): PlaybookError {
  const templated = pattern !== play.hosts;
  const where = src ? namePosition(src, play.pos, templated ? undefined : name) : undefined;
  const pos: SourcePos = where ?? play.pos;
  const from = templated ? ` (from ${JSON.stringify(play.hosts)})` : '';
  return new PlaybookError('E_UNKNOWN_PATTERN', `hosts: '${name}'${from} is neither a group nor a host of the inventory`, {
    pos,
    ...(src ? { excerpt: formatExcerpt(src.text, pos.line, pos.col) } : {}),
    hint: unknownNameHint(name, inv) + (templated ? templateHint(play.hosts) : ''),
  });
}

/** For a templated pattern: the -e variable that would choose other hosts. */
function templateHint(hosts: string): string {
  const reads = templateReads(hosts, 'value');
  const names = reads ? [...new Set([...reads.unconditional, ...reads.guarded, ...reads.conditional])] : [];
  return names.length > 0 ? `; or choose the hosts with -e ${names[0]}=…` : '';
}

/** The inventory's group or declared host `name` is a near miss of (a typo), if any. */
function nearestKnownName(name: string, inv: Inventory): string | undefined {
  return nearest(name, [...knownGroups(inv), ...[...inv.hosts.values()].filter((h) => !h.implicit).map((h) => h.name)]);
}

const knownGroups = (inv: Inventory): string[] => [...inv.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped');

/** "did you mean 'vnc_servers'?", else the inventory's groups (Ansible would skip the play, doing nothing). */
export function unknownNameHint(name: string, inv: Inventory): string {
  const groups = knownGroups(inv);
  const hosts = [...inv.hosts.values()].filter((h) => !h.implicit).map((h) => h.name);
  const guess = nearestKnownName(name, inv);
  if (guess) return `did you mean '${guess}'?`;
  if (groups.length === 0) return `the inventory has no groups (${hosts.length} host(s)): use hosts: all, or check -i`;
  const shown = groups.slice(0, 12).join(', ');
  return `known groups: ${shown}${groups.length > 12 ? `, … (${groups.length} in all)` : ''}; check the spelling or -i`;
}

async function readSource(file: string): Promise<YamlSource | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    // A vault-encrypted playbook gives no excerpt: its plaintext must not be printed.
    return /^\s*\$ANSIBLE_VAULT;/.test(text) ? undefined : parseYamlSource(file, text).source;
  } catch {
    return undefined;
  }
}

/**
 * Where `name` is written in the `hosts:` value of the play that starts at `playPos`: the name itself inside a
 * one-line scalar or a list item, else the value's start (a templated pattern, a name spread over lines).
 */
function namePosition(src: YamlSource, playPos: SourcePos, name: string | undefined): SourcePos | undefined {
  const play = playNode(src, playPos);
  const pair = play?.items.find((p) => keyOf(p) === 'hosts');
  const value = pair?.value as Node | null | undefined;
  if (!value) return undefined;
  const scalars = isSeq(value) ? value.items.filter((i): i is Node => isScalar(i)) : isScalar(value) ? [value] : [];
  if (name !== undefined) {
    for (const s of scalars) {
      const at = termOffset(src.literal(s), name);
      const start = s.range?.[0];
      if (at !== undefined && start !== undefined && !src.literal(s).slice(0, at).includes('\n')) return src.posAt(start + at);
    }
  }
  return src.posOf(value);
}

/** Offset of `name` as a whole term in a pattern's source text (bounded by separators, quotes or `&`/`!`). */
function termOffset(text: string, name: string): number | undefined {
  let from = 0;
  for (;;) {
    const i = text.indexOf(name, from);
    if (i < 0) return undefined;
    const before = i === 0 ? '' : text[i - 1]!;
    const after = text[i + name.length] ?? '';
    if (/^[\s,:&!'"[]?$/.test(before) && /^[\s,:'"\]]?$/.test(after)) return i;
    from = i + 1;
  }
}

/** The play mapping that starts at `pos` (the loader records a play's position as its mapping's start). */
function playNode(src: YamlSource, pos: SourcePos): { items: Pair<unknown, unknown>[] } | undefined {
  const root = src.root;
  if (!isSeq(root)) return undefined;
  const offset = (src.lines.lineStarts[pos.line - 1] ?? -1) + pos.col - 1;
  for (const item of root.items) {
    if (isMap(item) && item.range?.[0] === offset) return item as { items: Pair<unknown, unknown>[] };
  }
  return undefined;
}

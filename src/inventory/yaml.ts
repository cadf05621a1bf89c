import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type Node, type Pair, type LineCounter, type YAMLMap } from 'yaml';
import { nearest } from '../errors.js';
import { expandHostRange, hasRange, HostRangeError, splitHostPort } from './host-range.js';
import type { FileDiagnostics, InventoryBuilder, Vars } from './model.js';
import { parseAnsibleYaml, yamlProblems } from './yaml-options.js';

/**
 * Ansible's YAML inventory: a mapping of group names, each group `{hosts, children, vars}` (or empty);
 * children nest the same shape; hosts map a name, `name:port` or range to its vars. Stricter than Ansible in one
 * way the brief asks for: an unknown key in a group is an error (Ansible only warns and skips it).
 */

const GROUP_KEYS = ['hosts', 'children', 'vars'] as const;

interface Ctx {
  b: InventoryBuilder;
  diag: FileDiagnostics;
  lines: LineCounter;
  source: string;
  doc: Document;
}

export function parseYamlInventory(text: string, b: InventoryBuilder, diag: FileDiagnostics, source: string): void {
  const parsed = parseAnsibleYaml(text);
  const { doc, lines } = parsed;
  const { problems, fatal } = yamlProblems(parsed, text);
  for (const p of problems) diag.error(p.code, p.message, p.line, p.col, p.hint);
  if (fatal) return;
  const ctx: Ctx = { b, diag, lines, source, doc };
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    b.warnings.push(`${diag.file}: empty YAML inventory, no hosts in it`);
    return;
  }
  if (!isMap(root)) {
    const at = posOf(ctx, root);
    diag.error(
      'E_INV_NOT_MAPPING',
      `a YAML inventory must be a mapping of group names, found ${describe(root)}`,
      at.line,
      at.col,
      'start with `all:` and put hosts under `all: hosts:` or groups under `all: children:`',
    );
    return;
  }
  const plugin = root.items.find((p) => isScalar(p.key) && p.key.value === 'plugin');
  if (plugin) {
    // The rest of such a file is plugin options, not groups: one error says it all.
    const at = posOf(ctx, plugin.key as Node);
    diag.error(
      'E_INV_PLUGIN',
      'this is an inventory plugin configuration (`plugin:`), not a YAML inventory',
      at.line,
      at.col,
      'inventory plugins (cloud, dynamic inventories) are not supported; list hosts in a YAML or INI inventory',
    );
    return;
  }
  for (const pair of uniquePairs(ctx, root)) {
    const name = keyName(ctx, pair, 'group');
    if (name === undefined) continue;
    parseGroup(ctx, name, pair);
  }
}

function parseGroup(ctx: Ctx, name: string, pair: Pair): void {
  const keyAt = posOf(ctx, pair.key as Node);
  ctx.b.addGroup(name, ctx.diag.pos(keyAt.line, keyAt.col));
  const body = deref(ctx, pair.value);
  if (isEmpty(body)) return;
  if (!isMap(body)) {
    const at = posOf(ctx, body!);
    ctx.diag.error(
      'E_INV_BAD_GROUP',
      `group '${name}' must be a mapping with hosts, children or vars, found ${describe(body!)}`,
      at.line,
      at.col,
      isSeq(body) ? `list hosts as a mapping: \`${name}:\\n  hosts:\\n    h1:\\n    h2:\`` : undefined,
    );
    return;
  }
  for (const p of uniquePairs(ctx, body)) {
    const key = keyName(ctx, p, 'key');
    if (key === undefined) continue;
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      const at = posOf(ctx, p.key as Node);
      const guess = nearest(key, GROUP_KEYS);
      ctx.diag.error(
        'E_INV_UNKNOWN_KEY',
        `unknown key '${key}' in group '${name}'; a group has only hosts, children and vars`,
        at.line,
        at.col,
        guess
          ? `did you mean '${guess}'?`
          : `if '${key}' is a host, put it under \`hosts:\`; if it is a group, under \`children:\``,
      );
      continue;
    }
    const value = deref(ctx, p.value);
    if (isEmpty(value)) continue;
    if (key === 'vars') parseVars(ctx, name, value!);
    else if (key === 'hosts') forEachEntry(ctx, name, 'hosts', value!, (entry) => parseHost(ctx, name, entry));
    else
      forEachEntry(ctx, name, 'children', value!, (entry) => {
        const child = keyName(ctx, entry, 'group');
        if (child === undefined) return;
        parseGroup(ctx, child, entry);
        const cycle = ctx.b.addChild(name, child);
        if (cycle) {
          const at = posOf(ctx, entry.key as Node);
          ctx.diag.error(
            'E_INV_CYCLE',
            `group '${child}' as a child of '${name}' makes a loop: ${cycle.join(' → ')}`,
            at.line,
            at.col,
            'a group cannot contain itself, directly or through its children',
          );
        }
      });
  }
}

/** `hosts:`/`children:` take a mapping; a bare string names a single entry, as Ansible allows. */
function forEachEntry(ctx: Ctx, group: string, section: string, node: Node, fn: (p: Pair) => void): void {
  if (isScalar(node) && typeof node.value === 'string') {
    // Synthesize `{name: null}` keeping the scalar as the key for positions.
    fn({ key: node, value: null } as unknown as Pair);
    return;
  }
  if (!isMap(node)) {
    const at = posOf(ctx, node);
    ctx.diag.error(
      'E_INV_BAD_SECTION',
      `'${section}' of group '${group}' must be a mapping, found ${describe(node)}`,
      at.line,
      at.col,
      isSeq(node) ? `write each entry as a key ending in ':' (\`${section}:\\n  name1:\\n  name2:\`), not as a '- item' list` : undefined,
    );
    return;
  }
  for (const p of uniquePairs(ctx, node)) fn(p);
}

function parseVars(ctx: Ctx, group: string, node: Node): void {
  if (!isMap(node)) {
    const at = posOf(ctx, node);
    ctx.diag.error('E_INV_BAD_SECTION', `'vars' of group '${group}' must be a mapping, found ${describe(node)}`, at.line, at.col, 'write `vars:\\n  name: value`');
    return;
  }
  for (const p of uniquePairs(ctx, node)) {
    const k = keyName(ctx, p, 'variable');
    if (k === undefined) continue;
    ctx.b.setGroupVar(group, k, toJs(ctx, p.value));
  }
}

function parseHost(ctx: Ctx, group: string, pair: Pair): void {
  const at = posOf(ctx, pair.key as Node);
  const entry = keyName(ctx, pair, 'host');
  if (entry === undefined) return;
  const value = deref(ctx, pair.value);
  let vars: Vars = {};
  if (!isEmpty(value)) {
    if (!isMap(value)) {
      const vat = posOf(ctx, value!);
      ctx.diag.error(
        'E_INV_BAD_HOST_VARS',
        `vars of host '${entry}' must be a mapping, found ${describe(value!)}`,
        vat.line,
        vat.col,
        `write \`${entry}:\\n  ansible_host: 192.0.2.10\``,
      );
      return;
    }
    vars = toJs(ctx, value) as Vars;
  }
  const { pattern, port } = splitHostPort(entry);
  let names: string[];
  try {
    names = hasRange(pattern) ? expandHostRange(pattern) : [pattern];
  } catch (e) {
    if (!(e instanceof HostRangeError)) throw e;
    ctx.diag.error('E_INV_RANGE', `bad host range in '${entry}': ${e.message}`, at.line, at.col, 'ranges look like web[01:10] or db-[a:f]');
    return;
  }
  for (const n of names) {
    ctx.b.addHost(n, group, ctx.diag.pos(at.line, at.col), ctx.source);
    if (port !== undefined) ctx.b.setHostVar(n, 'ansible_port', port);
    for (const [k, v] of Object.entries(vars)) ctx.b.setHostVar(n, k, v);
  }
}

/** Pairs of a mapping; for a key given twice (already reported as an error) only the last counts, as PyYAML. */
function uniquePairs(_ctx: Ctx, map: YAMLMap): Pair[] {
  const last = new Map<string, number>();
  map.items.forEach((p, i) => last.set(keyText(p), i));
  return map.items.filter((p, i) => last.get(keyText(p)) === i);
}

function keyText(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

/** The key of a pair as a name; reports an error and returns undefined when it is not a usable string. */
function keyName(ctx: Ctx, pair: Pair, what: 'group' | 'host' | 'key' | 'variable'): string | undefined {
  const key = pair.key as Node | null;
  const at = key ? posOf(ctx, key) : { line: 1, col: 1 };
  if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
    ctx.diag.error('E_INV_BAD_NAME', `a ${what} name must be a string`, at.line, at.col, 'quote the name');
    return undefined;
  }
  if (typeof key.value === 'number') {
    if (what === 'host' || what === 'group') {
      ctx.diag.error(
        'E_INV_BAD_NAME',
        `${what} name ${String(key.source ?? key.value)} must be a string`,
        at.line,
        at.col,
        `YAML read it as a number; quote it: "${String(key.source ?? key.value)}"`,
      );
      return undefined;
    }
    return String(key.value);
  }
  if (key.value.trim() === '') {
    ctx.diag.error(what === 'host' ? 'E_INV_EMPTY_HOST' : 'E_INV_BAD_NAME', `empty ${what} name`, at.line, at.col, `give the ${what} a name`);
    return undefined;
  }
  return key.value;
}

function isEmpty(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function toJs(ctx: Ctx, node: unknown): unknown {
  return isNode(node) ? node.toJS(ctx.doc) : (node ?? null);
}

/** Follow a `*alias` to its anchored node so shapes are checked on what it stands for. */
function deref(ctx: Ctx, node: unknown): Node | null {
  if (isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return isNode(node) ? node : null;
}

function posOf(ctx: Ctx, node: Node): { line: number; col: number } {
  const offset = node.range?.[0] ?? 0;
  const p = ctx.lines.linePos(offset);
  return p.line === 0 ? { line: 1, col: offset + 1 } : p;
}

function describe(node: Node): string {
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) {
    const v = node.value;
    return v === null ? 'nothing' : typeof v === 'string' ? `the string '${v}'` : `the ${typeof v} ${String(v)}`;
  }
  return 'something else';
}

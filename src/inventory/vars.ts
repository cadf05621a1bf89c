import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar } from 'yaml';
import { ErrorList, InventoryError, formatExcerpt, nearest, type VncplayError } from '../errors.js';
import { sortGroups, type Inventory, type InventoryGroup, type Vars } from './model.js';
import { groupHosts } from './patterns.js';
import { parseAnsibleYaml, yamlProblems } from './yaml-options.js';

/**
 * group_vars/ and host_vars/ beside an inventory (and beside a playbook), and the order they apply in.
 *
 * Ansible's precedence for inventory variables (lowest first), which hostVarLayers reproduces:
 *   1. inventory-file group vars: `all`, then the host's other groups sorted by (depth, priority, name)
 *   2. group_vars/all beside the inventory, then group_vars/all beside the playbook
 *   3. group_vars/<group> beside the inventory for the host's other groups (same order), then beside the playbook
 *   4. inventory-file host vars, host_vars/<host> beside the inventory (both in InventoryHost.vars), then beside
 *      the playbook
 * So a group_vars/all.yml file beats a var written inline on any group in the inventory file.
 */

export interface GroupVarLayer {
  group: string;
  /**
   * 'inventory' = vars written in the inventory file; 'group_vars' = group_vars/ beside the inventory;
   * 'playbook_group_vars' = group_vars/ beside the playbook.
   */
  source: 'inventory' | 'group_vars' | 'playbook_group_vars';
  vars: Vars;
}

export interface HostVarLayers {
  /**
   * Lowest precedence first, already in Ansible's order: merge in this order (later wins, top-level keys
   * replace). Do not re-sort by group depth: that would undo the inventory-file/group_vars split.
   */
  groupVars: GroupVarLayer[];
  /** Inline host vars, then host_vars/ beside the inventory, then beside the playbook. */
  hostVars: Vars;
}

/** The variable layers that apply to `host`, in Ansible's precedence order. Empty layers are left out. */
export function hostVarLayers(inv: Inventory, host: string): HostVarLayers {
  const h = inv.hosts.get(host);
  const names = h && h.groups.length > 0 ? h.groups : ['all'];
  const groups = sortGroups(names.map((n) => inv.groups.get(n)).filter((g) => g !== undefined));
  // `all` applies to every host, even the implicit localhost that belongs to no group.
  const all = inv.groups.get('all');
  if (all && !groups.includes(all)) groups.unshift(all);
  const groupVars: GroupVarLayer[] = [];
  const push = (g: InventoryGroup, source: GroupVarLayer['source'], vars: Vars | undefined): void => {
    if (vars && Object.keys(vars).length > 0) groupVars.push({ group: g.name, source, vars });
  };
  for (const g of groups) push(g, 'inventory', g.vars);
  const [first, ...rest] = groups;
  if (first?.name === 'all') {
    push(first, 'group_vars', first.fileVars);
    push(first, 'playbook_group_vars', first.playbookVars);
  }
  const others = first?.name === 'all' ? rest : groups;
  for (const g of others) push(g, 'group_vars', g.fileVars);
  for (const g of others) push(g, 'playbook_group_vars', g.playbookVars);
  const hostVars = h ? (h.playbookVars ? { ...h.vars, ...h.playbookVars } : h.vars) : {};
  return { groupVars, hostVars };
}

/** All inventory variables of a host merged in precedence order (what `hostvars[host]` starts from). */
export function inventoryVars(inv: Inventory, host: string): Vars {
  const layers = hostVarLayers(inv, host);
  const out: Vars = {};
  for (const l of layers.groupVars) Object.assign(out, l.vars);
  return Object.assign(out, layers.hostVars);
}

const groupsDictCache = new WeakMap<Inventory, { key: string; groups: Record<string, string[]> }>();

/** Ansible's `groups` magic variable: every group with all its hosts (descendants included), computed once. */
export function groupsDict(inv: Inventory): Record<string, string[]> {
  // Hosts and groups are only ever added (the implicit localhost), so the sizes tell whether it is stale.
  const key = `${inv.hosts.size}/${inv.groups.size}`;
  const hit = groupsDictCache.get(inv);
  if (hit && hit.key === key) return hit.groups;
  const groups: Record<string, string[]> = hit?.groups ?? {};
  fillGroupsDict(inv, groups);
  groupsDictCache.set(inv, { key, groups });
  return groups;
}

/**
 * After add_host or group_by changed the inventory: the `groups` dict is recomputed in place, so every holder of it
 * (the run's magic variables, hostvars) sees the change.
 */
export function refreshGroupsDict(inv: Inventory): void {
  const hit = groupsDictCache.get(inv);
  if (!hit) return;
  fillGroupsDict(inv, hit.groups);
  hit.key = `${inv.hosts.size}/${inv.groups.size}`;
}

function fillGroupsDict(inv: Inventory, groups: Record<string, string[]>): void {
  for (const g of Object.keys(groups)) delete groups[g];
  for (const g of inv.groups.keys()) groups[g] = groupHosts(inv, g);
}

/** Ansible's inventory magic variables for a host (`groups` is shared between hosts: do not mutate it). */
export function magicVars(inv: Inventory, host: string): Vars {
  const h = inv.hosts.get(host);
  const groups = groupsDict(inv);
  const out: Vars = {
    inventory_hostname: host,
    inventory_hostname_short: host.split('.')[0] ?? host,
    group_names: (h?.groups ?? []).filter((g) => g !== 'all').sort(),
    groups,
  };
  if (h?.source) {
    out['inventory_file'] = h.source;
    out['inventory_dir'] = path.dirname(h.source);
  }
  return out;
}

export interface VarsLoadOptions {
  /** Decrypt an `$ANSIBLE_VAULT;…` file's text; without it such a file is an error. */
  decrypt?: (text: string, file: string) => Promise<string>;
  /** How file paths are shown in errors (default: as given). */
  display?: (file: string) => string;
}

const VARS_EXTS = ['', '.yml', '.yaml', '.json'];

/**
 * Read `<dir>/<name>`, `<name>.yml`, `<name>.yaml` or `<name>.json` (the first that exists wins, as Ansible),
 * a folder being read recursively in sorted order. Returns the merged vars and the files used; missing → {}.
 */
export async function readVarsDir(
  dir: string,
  name: string,
  errors: VncplayError[],
  opts: VarsLoadOptions = {},
): Promise<{ vars: Vars; files: string[] }> {
  const files = await findVarsFiles(dir, name);
  const vars: Vars = {};
  for (const f of files) Object.assign(vars, await readVarsFile(f, errors, opts));
  return { vars, files };
}

export async function findVarsFiles(dir: string, name: string): Promise<string[]> {
  for (const ext of VARS_EXTS) {
    const p = path.join(dir, name + ext);
    const st = await statOrNull(p);
    if (!st) continue;
    if (st.isDirectory()) return listVarsFolder(p);
    return [p];
  }
  return [];
}

async function listVarsFolder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await fsp.readdir(dir)).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = path.join(dir, entry);
    const ext = path.extname(entry);
    const st = await statOrNull(full);
    if (!st) continue;
    if (st.isDirectory()) {
      if (!ext) out.push(...(await listVarsFolder(full)));
    } else if (VARS_EXTS.includes(ext)) out.push(full);
  }
  return out;
}

/** One vars file: YAML (or JSON) mapping; empty is {}; vault-encrypted needs opts.decrypt. */
export async function readVarsFile(file: string, errors: VncplayError[], opts: VarsLoadOptions = {}): Promise<Vars> {
  const shown = opts.display ? opts.display(file) : file;
  let text = await fsp.readFile(file, 'utf8');
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    if (!opts.decrypt) {
      errors.push(
        new InventoryError('E_INV_VAULT', `${shown} is vault-encrypted and no vault password was given`, {
          pos: { file: shown, line: 1, col: 1 },
          hint: 'pass --vault-password-file or --ask-vault-pass',
        }),
      );
      return {};
    }
    text = await opts.decrypt(text, file);
  }
  const parsed = parseAnsibleYaml(text);
  const { doc, lines } = parsed;
  const { problems, fatal } = yamlProblems(parsed, text);
  for (const p of problems) {
    errors.push(
      new InventoryError(p.code, p.message, {
        pos: { file: shown, line: p.line, col: p.col },
        excerpt: formatExcerpt(text, p.line, p.col),
        hint: p.hint,
      }),
    );
  }
  if (fatal) return {};
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return {};
  if (!isMap(root)) {
    const at = lines.linePos(root.range?.[0] ?? 0);
    const line = Math.max(1, at.line);
    errors.push(
      new InventoryError('E_INV_VARS_FILE', `${shown} must hold a mapping of variable names to values`, {
        pos: { file: shown, line, col: at.col },
        excerpt: formatExcerpt(text, line, at.col),
        hint: 'write `name: value` lines at the top level (no leading `- `)',
      }),
    );
    return {};
  }
  return doc.toJS() as Vars;
}

/**
 * Load `<baseDir>/group_vars` and `<baseDir>/host_vars` into the inventory: group fileVars and host vars
 * (host_vars files override inline host vars). Near-miss file names become warnings (see warnUnused).
 */
export async function loadVarsBeside(inv: Inventory, baseDir: string, errors: VncplayError[], opts: VarsLoadOptions = {}): Promise<void> {
  const show = opts.display ?? ((f: string) => f);
  const gdir = path.join(baseDir, 'group_vars');
  if (await isDir(gdir)) {
    const used = new Set<string>();
    for (const g of inv.groups.values()) {
      const { vars, files } = await readVarsDir(gdir, g.name, errors, opts);
      files.forEach((f) => used.add(topEntry(gdir, f)));
      Object.assign(g.fileVars, vars);
    }
    await warnUnused(inv, gdir, used, 'group', show);
  }
  const hdir = path.join(baseDir, 'host_vars');
  if (await isDir(hdir)) {
    const used = new Set<string>();
    for (const h of inv.hosts.values()) {
      if (h.implicit) continue;
      const { vars, files } = await readVarsDir(hdir, h.name, errors, opts);
      files.forEach((f) => used.add(topEntry(hdir, f)));
      Object.assign(h.vars, vars);
    }
    await warnUnused(inv, hdir, used, 'host', show);
  }
}

/**
 * Load group_vars/ and host_vars/ beside a playbook (Ansible's playbook-dir vars), replacing those of a previous
 * playbook. Entries that match nothing are not warned about here: playbook folders often serve several inventories.
 * Throws like loadInventory (one InventoryError, or an ErrorList).
 */
export async function loadPlaybookVars(inv: Inventory, playbookDir: string, opts: VarsLoadOptions = {}): Promise<void> {
  const errors: VncplayError[] = [];
  for (const g of inv.groups.values()) delete g.playbookVars;
  for (const h of inv.hosts.values()) delete h.playbookVars;
  const gdir = path.join(playbookDir, 'group_vars');
  if (await isDir(gdir)) {
    for (const g of inv.groups.values()) {
      const { vars, files } = await readVarsDir(gdir, g.name, errors, opts);
      if (files.length > 0) g.playbookVars = vars;
    }
  }
  const hdir = path.join(playbookDir, 'host_vars');
  if (await isDir(hdir)) {
    for (const h of inv.hosts.values()) {
      if (h.implicit) continue;
      const { vars, files } = await readVarsDir(hdir, h.name, errors, opts);
      if (files.length > 0) h.playbookVars = vars;
    }
  }
  inv.varsSources = { inventoryDirs: [], ...inv.varsSources, playbookDir };
  if (!inv.varsSources.decrypt && opts.decrypt) inv.varsSources.decrypt = opts.decrypt;
  throwIfAny(errors);
}

/**
 * group_vars/<name> and host_vars/<name> beside the inventory and the playbook for the groups and hosts a task
 * created (group_by, add_host): Ansible's vars plugins read them whenever a host's variables are built, so they
 * apply from the next task on. A host_vars file beats the variables add_host gave, as it beats inline host vars.
 */
export async function loadVarsOfCreated(inv: Inventory, created: { groups: readonly string[]; hosts: readonly string[] }): Promise<void> {
  const sources = inv.varsSources;
  if (!sources) return;
  const errors: VncplayError[] = [];
  const opts: VarsLoadOptions = sources.decrypt ? { decrypt: sources.decrypt } : {};
  /** The files beside each inventory source (merged, a later source wins) and those beside the playbook. */
  const readFor = async (sub: 'group_vars' | 'host_vars', name: string): Promise<{ inventorySide: Vars; playbookSide?: Vars }> => {
    const inventorySide: Vars = {};
    for (const dir of sources.inventoryDirs) Object.assign(inventorySide, (await readVarsDir(path.join(dir, sub), name, errors, opts)).vars);
    if (sources.playbookDir === undefined) return { inventorySide };
    const beside = await readVarsDir(path.join(sources.playbookDir, sub), name, errors, opts);
    return beside.files.length > 0 ? { inventorySide, playbookSide: beside.vars } : { inventorySide };
  };
  for (const name of created.groups) {
    const g = inv.groups.get(name);
    if (!g) continue;
    const { inventorySide, playbookSide } = await readFor('group_vars', name);
    Object.assign(g.fileVars, inventorySide);
    if (playbookSide) g.playbookVars = playbookSide;
  }
  for (const name of created.hosts) {
    const h = inv.hosts.get(name);
    if (!h) continue;
    const { inventorySide, playbookSide } = await readFor('host_vars', name);
    Object.assign(h.vars, inventorySide);
    if (playbookSide) h.playbookVars = playbookSide;
  }
  throwIfAny(errors);
}

/** The one error as it is, several as an ErrorList. */
export function throwIfAny(errors: VncplayError[]): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ErrorList(errors);
}

function topEntry(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep)[0]!;
}

/**
 * A vars file that matches nothing is normal when several inventories share a folder (Ansible says nothing), but
 * one whose name is a near miss of a real group or host is almost always a typo: warn about those, and about a
 * file shadowed by another one for the same name.
 */
async function warnUnused(inv: Inventory, dir: string, used: Set<string>, kind: 'group' | 'host', show: (f: string) => string): Promise<void> {
  const names = kind === 'group' ? [...inv.groups.keys()] : [...inv.hosts.values()].filter((h) => !h.implicit).map((h) => h.name);
  for (const entry of (await fsp.readdir(dir)).sort()) {
    if (used.has(entry) || entry.startsWith('.') || entry.endsWith('~')) continue;
    const ext = path.extname(entry);
    const name = VARS_EXTS.includes(ext) ? entry.slice(0, entry.length - ext.length) : entry;
    if (names.includes(name)) {
      inv.warnings.push(`${show(path.join(dir, entry))} is ignored: another file for ${kind} '${name}' was found first (no extension, .yml, .yaml, .json)`);
      continue;
    }
    const guess = nearest(name, names);
    if (guess) inv.warnings.push(`${show(path.join(dir, entry))} matches no ${kind}: did you mean '${guess}'?`);
  }
}

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await statOrNull(p))?.isDirectory() ?? false;
}

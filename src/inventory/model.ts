import { InventoryError, formatExcerpt, type SourcePos } from '../errors.js';
import { Unsafe } from '../playbook/unsafe.js';

/** Variables as written in the inventory (not rendered: values may hold `{{ }}`). */
export type Vars = Record<string, unknown>;

export interface InventoryHost {
  name: string;
  /** Own host vars: inline inventory vars, then host_vars/ files on top (Ansible's order). */
  vars: Vars;
  /** host_vars/ beside the current playbook (loadPlaybookVars); above `vars`. */
  playbookVars?: Vars;
  /** Every group the host belongs to, ancestors included, `all` first, in variable-precedence order. */
  groups: string[];
  /** Where the host was first declared. */
  pos?: SourcePos;
  /** Inventory source (file path) that declared it; absent for the implicit localhost. */
  source?: string;
  /** Ansible's implicit localhost: not declared, not in `all`, matched only by its own name. */
  implicit?: boolean;
}

export interface InventoryGroup {
  name: string;
  /** Group vars written in the inventory file itself (`vars:` / `[g:vars]`). */
  vars: Vars;
  /** Group vars from group_vars/NAME(.yml|/) beside the inventory; above every inventory-file group var. */
  fileVars: Vars;
  /** Group vars from group_vars/ beside the current playbook (loadPlaybookVars); just above fileVars. */
  playbookVars?: Vars;
  /** Direct child groups, in declaration order. */
  children: string[];
  /** Direct member hosts, in declaration order (see groupHosts() for descendants too). */
  hosts: string[];
  /** Direct parent groups (`all` for top-level groups). */
  parents: string[];
  /** Longest distance from `all` (0 for `all`); deeper groups win in variable precedence. */
  depth: number;
  /** `ansible_group_priority` (default 1): among groups of equal depth, higher priority wins. */
  priority: number;
  pos?: SourcePos;
}

export interface Inventory {
  /** Hosts in declaration order (the implicit localhost is appended when a pattern first names it). */
  hosts: Map<string, InventoryHost>;
  /** Groups in creation order; `all` and `ungrouped` always exist. */
  groups: Map<string, InventoryGroup>;
  /** Inventory sources loaded (absolute paths, or `host list` for `-i 'a,b,'`). */
  sources: string[];
  /** Things Ansible would warn about (ignored files, duplicate keys); the CLI prints them. */
  warnings: string[];
  /**
   * Where group_vars/ and host_vars/ were read from (loadInventory, loadPlaybookVars), so that a group or host a
   * task creates (group_by, add_host) gets its files too.
   */
  varsSources?: VarsSources;
}

/** The folders holding group_vars/ and host_vars/, and how their files are read. */
export interface VarsSources {
  /** Beside each inventory source, in `-i` order (a later one wins). */
  inventoryDirs: string[];
  /** Beside the current playbook. */
  playbookDir?: string;
  /** Decrypts vault-encrypted files (the run's vault secrets). */
  decrypt?: (text: string, file: string) => Promise<string>;
}

/** Collects positioned errors of one file so a file's errors are all reported at once. */
export class FileDiagnostics {
  readonly errors: InventoryError[] = [];
  constructor(
    readonly file: string,
    readonly source: string,
  ) {}

  pos(line: number, col: number): SourcePos {
    return { file: this.file, line, col };
  }

  error(code: string, message: string, line: number, col: number, hint?: string): InventoryError {
    const err = new InventoryError(code, message, {
      pos: this.pos(line, col),
      excerpt: formatExcerpt(this.source, line, col),
      ...(hint ? { hint } : {}),
    });
    this.errors.push(err);
    return err;
  }
}

/**
 * Builds an Inventory the way Ansible's InventoryData does: groups and hosts are created on first mention,
 * vars merge (later wins), and reconcile() wires top-level groups under `all` and hostless-group hosts into
 * `ungrouped`. Parsers for every format feed one builder, so several sources merge into one inventory.
 */
export class InventoryBuilder {
  readonly hosts: Map<string, InventoryHost>;
  readonly groups: Map<string, InventoryGroup>;
  readonly sources: string[];
  readonly warnings: string[];

  /** A new inventory, or (`reopen`) a finished one changed in place during a run: add_host, group_by. */
  constructor(reopen?: Inventory) {
    this.hosts = reopen?.hosts ?? new Map();
    this.groups = reopen?.groups ?? new Map();
    this.sources = reopen?.sources ?? [];
    this.warnings = reopen?.warnings ?? [];
    if (reopen) return;
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  addGroup(name: string, pos?: SourcePos): InventoryGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, vars: {}, fileVars: {}, children: [], hosts: [], parents: [], depth: 0, priority: 1 };
      if (pos) g.pos = pos;
      this.groups.set(name, g);
    }
    return g;
  }

  addHost(name: string, group: string, pos?: SourcePos, source?: string): InventoryHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, groups: [] };
      if (pos) h.pos = pos;
      if (source) h.source = source;
      this.hosts.set(name, h);
    }
    const g = this.addGroup(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    return h;
  }

  setGroupVar(group: string, key: string, value: unknown): void {
    const g = this.addGroup(group);
    // As Ansible's Group.set_variable: the priority is a property of the group, not a variable.
    if (key === 'ansible_group_priority') {
      const n = Number(value instanceof Unsafe ? value.value : value);
      if (Number.isFinite(n)) g.priority = Math.trunc(n);
      return;
    }
    g.vars[key] = value;
  }

  setHostVar(host: string, key: string, value: unknown): void {
    const h = this.hosts.get(host);
    if (h) h.vars[key] = value;
  }

  /**
   * Make `child` a child of `parent`. Returns the cycle (names, first == last) instead of adding the edge
   * when the edge would make a group its own ancestor.
   */
  addChild(parent: string, child: string): string[] | undefined {
    const p = this.addGroup(parent);
    const c = this.addGroup(child);
    if (p.children.includes(child)) return undefined;
    // `all` is the ancestor of every group, so making it anyone's child is always a loop.
    if (child === 'all') return [parent, 'all', parent];
    const back = this.pathDown(child, parent);
    if (back) return [parent, ...back];
    p.children.push(child);
    c.parents.push(parent);
    return undefined;
  }

  /** A path of group names from `from` down to `to` via children, or undefined. */
  private pathDown(from: string, to: string): string[] | undefined {
    const prev = new Map<string, string | null>([[from, null]]);
    const queue = [from];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      if (cur === to) {
        const path: string[] = [];
        for (let n: string | null = cur; n !== null; n = prev.get(n) ?? null) path.unshift(n);
        return path;
      }
      for (const k of this.groups.get(cur)?.children ?? []) {
        if (!prev.has(k)) {
          prev.set(k, cur);
          queue.push(k);
        }
      }
    }
    return undefined;
  }

  /** Ansible's reconcile_inventory, then depths and each host's full group list. */
  finish(): Inventory {
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    }
    const ungrouped = this.groups.get('ungrouped')!;
    const direct = this.directGroups();
    for (const h of this.hosts.values()) {
      const mine = direct.get(h.name) ?? new Set<string>();
      const others = [...mine].filter((n) => n !== 'all' && n !== 'ungrouped');
      if (others.length > 0 && mine.has('ungrouped')) {
        ungrouped.hosts = ungrouped.hosts.filter((n) => n !== h.name);
      } else if (others.length === 0 && !mine.has('ungrouped')) {
        ungrouped.hosts.push(h.name);
      }
    }
    for (const name of this.hosts.keys()) {
      if (this.groups.has(name)) this.warnings.push(`Found both group and host with same name: ${name}`);
    }
    this.computeDepths();
    const finalDirect = this.directGroups();
    for (const h of this.hosts.values()) {
      const set = new Set<string>(['all']);
      for (const g of finalDirect.get(h.name) ?? []) for (const a of this.ancestorsOf(g)) set.add(a);
      h.groups = sortGroups([...set].map((n) => this.groups.get(n)!)).map((g) => g.name);
    }
    return { hosts: this.hosts, groups: this.groups, sources: this.sources, warnings: this.warnings };
  }

  private directGroups(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const g of this.groups.values()) {
      for (const h of g.hosts) {
        let s = out.get(h);
        if (!s) out.set(h, (s = new Set()));
        s.add(g.name);
      }
    }
    return out;
  }

  /** The group and all its ancestors. */
  private ancestorsOf(name: string): Set<string> {
    const seen = new Set<string>([name]);
    const stack = [name];
    while (stack.length > 0) {
      for (const p of this.groups.get(stack.pop()!)?.parents ?? []) {
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return seen;
  }

  /** Depth is the longest path from `all` (the graph is acyclic: addChild refuses loops). */
  private computeDepths(): void {
    const memo = new Map<string, number>();
    const depthOf = (name: string): number => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const g = this.groups.get(name)!;
      const d = g.parents.length === 0 ? 0 : Math.max(...g.parents.map(depthOf)) + 1;
      memo.set(name, d);
      return d;
    };
    for (const g of this.groups.values()) g.depth = depthOf(g.name);
  }
}

/** Ansible's sort_groups: by depth, then ansible_group_priority, then name; `all` (depth 0) first. */
export function sortGroups(groups: InventoryGroup[]): InventoryGroup[] {
  return [...groups].sort(
    (a, b) => a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

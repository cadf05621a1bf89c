import fs from 'node:fs';
import path from 'node:path';
import { InventoryError } from '../errors.js';
import type { Inventory, InventoryHost } from './model.js';
import { fnmatchRegex } from '../playbook/fnmatch.js';

/**
 * Host patterns, as Ansible evaluates them for play `hosts:` and `--limit`:
 * - terms split on `,` (or, when there is no comma, on `:` outside `[...]`, so IPv6 addresses and ranges survive);
 * - plain terms are unions in the order written, then `&term` intersections, then `!term` exclusions
 *   (only `&`/`!` terms means `all` first);
 * - a term is an exact host name, or matches groups and hosts by glob (`web*`, `db?`, `db[a-c]`, `h[!1]`) or regex
 *   (`~web\d+`, anchored at the start only, as re.match); digits alone in brackets are a subscript, never a glob;
 *   a group contributes its hosts and its descendants' hosts;
 * - `term[i]`, `term[i:j]` (inclusive), `term[i:]` pick from the term's hosts; `term[i-j]` (Ansible's removed
 *   form) is a subscript only when `term` names something, else it is read as a glob character class;
 * - `@path` reads one pattern per line from a file (e.g. a .retry file), relative to `cwd`;
 * - `localhost`/`127.0.0.1`/`::1` not in the inventory match Ansible's implicit localhost (connection local).
 * Hosts come out as Ansible orders them: each term's hosts in group order (see groupHosts), terms in the order written.
 */

export interface SelectOptions {
  /** A `--limit` pattern: the result is narrowed to hosts it matches too. */
  limit?: string;
  /** Folder `@file` terms are relative to (default: process.cwd()). */
  cwd?: string;
}

export interface HostSelection {
  hosts: string[];
  /** One "Could not match supplied host pattern, ignoring: X" per term that matched nothing. */
  warnings: string[];
}

const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Host names matching `pattern` (and `opts.limit`); warnings dropped. See matchHosts for the warnings. */
export function selectHosts(inv: Inventory, pattern: string, opts: SelectOptions = {}): string[] {
  return matchHosts(inv, pattern, opts).hosts;
}

/** Host names matching `pattern` (and `opts.limit`), with a warning per term that matched nothing. */
export function matchHosts(inv: Inventory, pattern: string, opts: SelectOptions = {}): HostSelection {
  const warnings: string[] = [];
  let hosts = evaluate(inv, splitPattern(pattern), opts, warnings);
  if (opts.limit !== undefined && opts.limit.trim() !== '') {
    const allowed = new Set(evaluate(inv, splitPattern(opts.limit), opts, warnings));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  return { hosts, warnings: [...new Set(warnings)] };
}

/** Ansible's split_host_pattern. */
export function splitPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (looksLikeIpv6(pattern.trim())) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function looksLikeIpv6(s: string): boolean {
  const bare = s.replace(/^\[(.*)\](?::\d+)?$/, '$1');
  return /^[0-9A-Fa-f:.]+$/.test(bare) && (bare.match(/:/g)?.length ?? 0) >= 2;
}

function evaluate(inv: Inventory, terms: string[], opts: SelectOptions, warnings: string[]): string[] {
  const regular = terms.filter((t) => t[0] !== '&' && t[0] !== '!');
  const inter = terms.filter((t) => t[0] === '&');
  const excl = terms.filter((t) => t[0] === '!');
  let hosts: string[] = [];
  const have = new Set<string>();
  for (const t of regular.length > 0 ? regular : ['all']) {
    for (const h of matchTerm(inv, t, opts, warnings)) {
      if (!have.has(h)) {
        have.add(h);
        hosts.push(h);
      }
    }
  }
  for (const t of inter) {
    const keep = new Set(matchTerm(inv, t.slice(1), opts, warnings));
    hosts = hosts.filter((h) => keep.has(h));
  }
  for (const t of excl) {
    const drop = new Set(matchTerm(inv, t.slice(1), opts, warnings));
    hosts = hosts.filter((h) => !drop.has(h));
  }
  return hosts;
}

function matchTerm(inv: Inventory, term: string, opts: SelectOptions, warnings: string[]): string[] {
  if (term.startsWith('@')) return matchFile(inv, term.slice(1), opts, warnings);
  const exact = inv.hosts.get(term);
  if (exact) return [exact.name];
  const { expr, subscript } = splitSubscript(inv, term);
  const found = enumerate(inv, expr, warnings);
  return subscript ? applySubscript(found, subscript, term) : found;
}

function matchFile(inv: Inventory, file: string, opts: SelectOptions, warnings: string[]): string[] {
  const full = path.resolve(opts.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InventoryError(
      'E_LIMIT_FILE',
      code === 'EISDIR' ? `limit file @${file} is a directory` : `cannot read limit file @${file}: ${code ?? String(e)}`,
      { hint: 'a limit file lists one host name or pattern per line (a .retry file is one)', cause: e },
    );
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return evaluate(inv, lines.length > 0 ? lines : ['!all'], opts, warnings);
}

type Subscript = { index: number } | { start: number; end: number | undefined };

const WITH_SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

function splitSubscript(inv: Inventory, term: string): { expr: string; subscript?: Subscript } {
  if (term.startsWith('~')) return { expr: term };
  const m = WITH_SUBSCRIPT.exec(term);
  if (!m) return { expr: term };
  const expr = m[1]!;
  if (m[2] !== undefined) return { expr, subscript: { index: Number(m[2]) } };
  // `x[1-2]` was a subscript before Ansible 2.0; read it that way only when `x` names something.
  if (m[4] === '-' && enumerate(inv, expr, []).length === 0) return { expr: term };
  return { expr, subscript: { start: Number(m[3]), end: m[5] === '' ? undefined : Number(m[5]) } };
}

function applySubscript(hosts: string[], s: Subscript, term: string): string[] {
  if (hosts.length === 0) return hosts;
  if ('index' in s) {
    const i = s.index < 0 ? hosts.length + s.index : s.index;
    const h = hosts[i];
    if (h === undefined) {
      throw new InventoryError('E_PATTERN_SUBSCRIPT', `no host at index ${s.index} in '${term}' (it matches ${hosts.length} host(s))`, {
        hint: `indexes start at 0; use 0..${hosts.length - 1}`,
      });
    }
    return [h];
  }
  return hosts.slice(s.start, s.end === undefined ? undefined : s.end + 1);
}

/** Ansible's _enumerate_matches: groups first; hosts when no group matched or the term is a glob/regex. */
function enumerate(inv: Inventory, expr: string, warnings: string[]): string[] {
  const re = compileTerm(expr);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (h: string): void => {
    if (!seen.has(h)) {
      seen.add(h);
      out.push(h);
    }
  };
  const groups = [...inv.groups.keys()].filter((g) => re.test(g));
  for (const g of groups) for (const h of groupHosts(inv, g)) add(h);
  if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr)) {
    for (const h of inv.hosts.values()) if (!h.implicit && re.test(h.name)) add(h.name);
  }
  if (out.length === 0 && LOCALHOST_NAMES.includes(expr)) add(implicitLocalhost(inv, expr).name);
  if (out.length === 0 && groups.length === 0 && expr !== 'all') {
    warnings.push(`Could not match supplied host pattern, ignoring: ${expr}`);
  }
  return out;
}

/** fnmatch-style glob (case-sensitive, whole name) or, after `~`, a regex anchored at the start (re.match). */
function compileTerm(expr: string): RegExp {
  if (expr.startsWith('~')) {
    try {
      return new RegExp(`^(?:${expr.slice(1)})`);
    } catch (e) {
      throw new InventoryError('E_PATTERN_INVALID', `invalid regular expression in host pattern '${expr}'`, {
        hint: (e as Error).message,
        cause: e,
      });
    }
  }
  return fnmatchRegex(expr);
}

/**
 * Hosts of a group and of all its descendant groups in Ansible's order: breadth first, the group's own hosts,
 * then its children's in the order they were added, then their children's, each host once. (Ansible visits
 * grandchildren in hash order; here they keep declaration order, so the result is stable.) For `all` this puts
 * hosts of shallow groups first, exactly as `ansible all --list-hosts` does. `all` excludes the implicit localhost.
 */
export function groupHosts(inv: Inventory, group: string): string[] {
  const start = inv.groups.get(group);
  if (!start) return [];
  const out: string[] = [];
  const seenHosts = new Set<string>();
  const seenGroups = new Set<string>([group]);
  let level = [start];
  while (level.length > 0) {
    const next: typeof level = [];
    for (const g of level) {
      for (const h of g.hosts) {
        if (seenHosts.has(h)) continue;
        seenHosts.add(h);
        if (!inv.hosts.get(h)?.implicit) out.push(h);
      }
      for (const c of g.children) {
        const cg = inv.groups.get(c);
        if (cg && !seenGroups.has(c)) {
          seenGroups.add(c);
          next.push(cg);
        }
      }
    }
    level = next;
  }
  return out;
}

/** Ansible's implicit localhost: connection local, in no group, created once on first use. */
export function implicitLocalhost(inv: Inventory, name = 'localhost'): InventoryHost {
  for (const h of inv.hosts.values()) if (h.implicit) return h;
  const h: InventoryHost = {
    name,
    vars: { ansible_connection: 'local', ansible_host: '127.0.0.1' },
    groups: [],
    implicit: true,
  };
  inv.hosts.set(name, h);
  return h;
}

import { nearest } from '../errors.js';
import { expandHostRange, hasRange, HostRangeError, splitHostPort } from './host-range.js';
import type { FileDiagnostics, InventoryBuilder } from './model.js';
import { iniValue } from './python-literal.js';

/**
 * Ansible's INI inventory: `[group]` host lines (`name[:port] key=value …`, shell-like quoting, `#` comments),
 * `[group:vars]` (one `key = value` per line), `[group:children]` (one group name per line). Lines before the
 * first section are `ungrouped` hosts. Values go through Python literal rules (see python-literal.ts).
 * A group named in `[x:children]` or `[x:vars]` must be declared somewhere in the file by a `[x]` or
 * `[x:children]` section, as in Ansible; otherwise that is an error.
 */

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;
const SECTION_KINDS = ['hosts', 'children', 'vars'] as const;
type SectionKind = (typeof SECTION_KINDS)[number];

interface Pending {
  kind: 'vars' | 'children';
  line: number;
  col: number;
  parents: string[];
}

export function parseIniInventory(text: string, b: InventoryBuilder, diag: FileDiagnostics, source: string): void {
  const lines = text.split(/\r?\n/);
  const pending = new Map<string, Pending>();
  const declared = new Set<string>(['all', 'ungrouped']);
  let group = 'ungrouped';
  let kind: SectionKind | 'skip' = 'hosts';

  let yamlSeen = false;
  lines.forEach((raw, idx) => {
    if (yamlSeen) return;
    const lineNo = idx + 1;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const col = indent + 1;

    const sec = SECTION.exec(line);
    if (sec) {
      const name = sec[1]!;
      const k = sec[2] ?? 'hosts';
      if (!(SECTION_KINDS as readonly string[]).includes(k)) {
        const guess = nearest(k, SECTION_KINDS);
        diag.error(
          'E_INV_INI_SECTION',
          `section [${name}:${k}] has unknown type '${k}'`,
          lineNo,
          col + 1 + name.length + 1,
          guess ? `did you mean [${name}:${guess}]?` : 'a section is [group], [group:vars] or [group:children]',
        );
        // Lines of a section we cannot understand are skipped rather than misread as hosts.
        kind = 'skip';
        return;
      }
      group = name;
      kind = k as SectionKind;
      b.addGroup(name, diag.pos(lineNo, col));
      if (kind === 'vars') {
        if (!declared.has(name) && !pending.has(name)) {
          pending.set(name, { kind: 'vars', line: lineNo, col: col + 1, parents: [] });
        }
      } else {
        declared.add(name);
        const p = pending.get(name);
        if (p) {
          pending.delete(name);
          if (p.kind === 'children') for (const parent of p.parents) addChildAt(b, diag, parent, name, p.line, p.col);
        }
      }
      return;
    }
    if (line.startsWith('[') && line.replace(/\s*[#;].*$/, '').endsWith(']')) {
      diag.error(
        'E_INV_INI_SECTION',
        `invalid section header '${line}'`,
        lineNo,
        col,
        'a section is [group], [group:vars] or [group:children]: no spaces, and the group name has no ":" or "]"',
      );
      return;
    }

    if (kind === 'skip') return;
    if (line === '---' || line.startsWith('--- ')) {
      // A YAML document marker: everything after would only produce noise.
      diag.error('E_INV_INI_LINE', `'---' in an INI inventory`, lineNo, col, 'this looks like YAML: name the file .yml');
      yamlSeen = true;
      return;
    }
    if (kind === 'hosts') parseHostLine(raw, lineNo, group, b, diag, source);
    else if (kind === 'vars') parseVarLine(line, lineNo, col, group, b, diag);
    else {
      const m = GROUP_NAME.exec(line);
      if (!m) {
        diag.error(
          'E_INV_INI_LINE',
          `expected a group name in [${group}:children], got '${line}'`,
          lineNo,
          col,
          'list one child group name per line; hosts go in a [group] section',
        );
        return;
      }
      const child = m[1]!;
      if (declared.has(child)) addChildAt(b, diag, group, child, lineNo, col);
      else {
        const p = pending.get(child);
        if (p && p.kind === 'children') p.parents.push(group);
        else pending.set(child, { kind: 'children', line: lineNo, col, parents: [group] });
      }
    }
  });

  if (yamlSeen) return;
  for (const [name, p] of pending) {
    const hint = undefinedGroupHint(name, declared);
    if (p.kind === 'vars') {
      diag.error('E_INV_UNDEFINED_GROUP', `section [${name}:vars] is for a group that is never defined`, p.line, p.col, hint);
    } else {
      diag.error(
        'E_INV_UNDEFINED_GROUP',
        `section [${p.parents[p.parents.length - 1]}:children] includes undefined group '${name}'`,
        p.line,
        p.col,
        hint,
      );
    }
    // Keep going with the group in place so later checks (patterns, group_vars) see it.
    b.addGroup(name);
  }
}

function undefinedGroupHint(name: string, declared: Set<string>): string {
  const guess = nearest(name, declared);
  const declare = `declare it, even empty, with a [${name}] section (Ansible refuses undefined groups here too)`;
  return guess ? `did you mean '${guess}'? or ${declare}` : declare;
}

function addChildAt(b: InventoryBuilder, diag: FileDiagnostics, parent: string, child: string, line: number, col: number): void {
  const cycle = b.addChild(parent, child);
  if (cycle) {
    diag.error(
      'E_INV_CYCLE',
      `group '${child}' as a child of '${parent}' makes a loop: ${cycle.join(' → ')}`,
      line,
      col,
      'a group cannot contain itself, directly or through its children',
    );
  }
}

function parseVarLine(line: string, lineNo: number, col: number, group: string, b: InventoryBuilder, diag: FileDiagnostics): void {
  const eq = line.indexOf('=');
  const key = eq < 0 ? '' : line.slice(0, eq).trim();
  if (eq < 0 || key === '') {
    diag.error(
      'E_INV_INI_LINE',
      `expected key=value in [${group}:vars], got '${line}'`,
      lineNo,
      col,
      'one variable per line, like: ansible_user=vnc',
    );
    return;
  }
  b.setGroupVar(group, key, iniValue(line.slice(eq + 1).trim()));
}

function parseHostLine(raw: string, lineNo: number, group: string, b: InventoryBuilder, diag: FileDiagnostics, source: string): void {
  let tokens: Token[];
  try {
    tokens = shellSplit(raw);
  } catch (e) {
    const at = e instanceof ShellSplitError ? e.offset : 0;
    diag.error('E_INV_INI_LINE', `cannot parse host line: ${(e as Error).message}`, lineNo, at + 1, 'close every quote you open');
    return;
  }
  const first = tokens[0];
  if (!first) return;
  const hostCol = first.start + 1;
  if (first.text.includes('=')) {
    diag.error(
      'E_INV_INI_LINE',
      `expected a host name in [${group}], got the assignment '${first.text}'`,
      lineNo,
      hostCol,
      group === 'ungrouped'
        ? 'variables need a section: put them under [all:vars] or after a host name on its line'
        : `group variables go in a [${group}:vars] section; host variables follow the host name on its line`,
    );
    return;
  }
  const { pattern, port } = splitHostPort(first.text);
  if (pattern.endsWith(':') && port === undefined) {
    diag.error('E_INV_INI_LINE', `host '${first.text}' ends with ':'`, lineNo, hostCol, 'write host:PORT, or drop the colon');
    return;
  }
  const vars: Record<string, unknown> = {};
  let ok = true;
  for (const t of tokens.slice(1)) {
    const eq = t.text.indexOf('=');
    if (eq <= 0) {
      diag.error(
        'E_INV_INI_LINE',
        `expected key=value after host '${first.text}', got '${t.text}'`,
        lineNo,
        t.start + 1,
        'one host per line; quote values with spaces: key="a b"',
      );
      ok = false;
      continue;
    }
    vars[t.text.slice(0, eq)] = iniValue(t.text.slice(eq + 1));
  }
  if (!ok) return;
  let names: string[];
  try {
    names = hasRange(pattern) ? expandHostRange(pattern) : [pattern];
  } catch (e) {
    if (!(e instanceof HostRangeError)) throw e;
    diag.error('E_INV_RANGE', `bad host range in '${pattern}': ${e.message}`, lineNo, hostCol, 'ranges look like web[01:10] or db-[a:f]');
    return;
  }
  for (const name of names) {
    b.addHost(name, group, diag.pos(lineNo, hostCol), source);
    if (port !== undefined) b.setHostVar(name, 'ansible_port', port);
    for (const [k, v] of Object.entries(vars)) b.setHostVar(name, k, v);
  }
}

export interface Token {
  text: string;
  /** 0-based offset of the token's first character in the line. */
  start: number;
}

export class ShellSplitError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode): whitespace separates tokens, '…' is literal,
 * "…" honours \" and \\ only, a backslash outside quotes escapes the next character, `#` outside quotes
 * starts a comment even inside a word.
 */
export function shellSplit(line: string): Token[] {
  const out: Token[] = [];
  let cur = '';
  let inToken = false;
  let start = 0;
  let i = 0;
  const begin = (): void => {
    if (!inToken) {
      inToken = true;
      cur = '';
      start = i;
    }
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inToken) out.push({ text: cur, start });
      inToken = false;
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      begin();
      if (i + 1 >= line.length) throw new ShellSplitError('no character after the final backslash', i);
      cur += line[i + 1];
      i += 2;
    } else if (c === "'") {
      begin();
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSplitError('no closing quotation', i);
      cur += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      begin();
      const open = i;
      i++;
      for (;;) {
        if (i >= line.length) throw new ShellSplitError('no closing quotation', open);
        const d = line[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          cur += line[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
    } else {
      begin();
      cur += c;
      i++;
    }
  }
  if (inToken) out.push({ text: cur, start });
  return out;
}

/**
 * Host entries in inventories: `name`, `name:port`, `[v6::addr]:port`, and ranges `web[01:10].example.com`,
 * `db-[a:f]`, `node[0:20:5]` (several ranges per name are allowed), as Ansible expands them.
 */

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class HostRangeError extends Error {}

export interface HostEntry {
  /** The host name or range pattern without the port. */
  pattern: string;
  port?: number;
}

/**
 * Split an optional `:port` off a host entry. Colons inside `[...]` belong to ranges; a bare IPv6 address
 * (more than one colon outside brackets) has no port; `[addr]:port` is the bracketed IPv6 form.
 */
export function splitHostPort(entry: string): HostEntry {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(entry);
  if (v6 && (v6[1]!.match(/:/g)?.length ?? 0) >= 2) {
    return v6[2] === undefined ? { pattern: v6[1]! } : { pattern: v6[1]!, port: Number(v6[2]) };
  }
  const colons = outerColons(entry);
  if (colons.length !== 1) return { pattern: entry };
  const at = colons[0]!;
  const port = entry.slice(at + 1);
  if (!/^\d+$/.test(port)) return { pattern: entry };
  return { pattern: entry.slice(0, at), port: Number(port) };
}

/** Offsets of ':' characters that are not inside a `[...]` range. */
function outerColons(s: string): number[] {
  const out: number[] = [];
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ':' && depth === 0) out.push(i);
  }
  return out;
}

export function hasRange(pattern: string): boolean {
  return pattern.includes('[');
}

/**
 * Expand every `[begin:end(:step)]` range in `pattern` (numeric with zero padding when begin is
 * zero-padded, or single letters). Throws HostRangeError with Ansible's wording for a bad range.
 */
export function expandHostRange(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open < 0) return [pattern];
  const close = pattern.indexOf(']', open);
  if (close < 0) throw new HostRangeError(`unclosed '[' in host range '${pattern}'`);
  const head = pattern.slice(0, open);
  const body = pattern.slice(open + 1, close);
  const tail = pattern.slice(close + 1);
  const bounds = body.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new HostRangeError(`host range must be begin:end or begin:end:step, got '[${body}]'`);
  }
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new HostRangeError(`host range must specify an end value, got '[${body}]'`);
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
    throw new HostRangeError(`host range step must be a positive integer, got '${stepText}'`);
  }
  const step = Number(stepText);
  const out: string[] = [];
  for (const piece of rangeValues(beg, end, step, body)) {
    out.push(...expandHostRange(head + piece + tail));
  }
  return out;
}

function rangeValues(beg: string, end: string, step: number, body: string): string[] {
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw new HostRangeError(`host range must have begin <= end, got '[${body}]'`);
    const out: string[] = [];
    for (let i = ib; i <= ie; i += step) out.push(LETTERS[i]!);
    return out;
  }
  if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) {
    throw new HostRangeError(`host range bounds must be numbers or single letters, got '[${body}]'`);
  }
  const padded = beg.length > 1 && beg.startsWith('0');
  if (padded && beg.length !== end.length) {
    throw new HostRangeError(`host range must specify equal-length begin and end formats, got '[${body}]'`);
  }
  const b = Number(beg);
  const e = Number(end);
  if (b > e) throw new HostRangeError(`host range must have begin <= end, got '[${body}]'`);
  if ((e - b) / step > 100_000) throw new HostRangeError(`host range '[${body}]' expands to too many hosts`);
  const out: string[] = [];
  for (let i = b; i <= e; i += step) out.push(padded ? String(i).padStart(beg.length, '0') : String(i));
  return out;
}

import { cidrText, parseTag, ruleTag, type FwRule } from './rule.js';
import type { TaggedEntry } from './nftables.js';

/**
 * ufw backend: one ufw rule per vncplay rule, tagged with ufw's own `comment`, so `ufw show added` finds it again.
 * ufw rules are always persistent. Accept rules are prepended (first match wins in ufw), drop/reject appended.
 */

/** `ufw show added` → the rules ufw lists, tagged ones parsed. */
export function parseUfwAdded(text: string): TaggedEntry[] {
  const out: TaggedEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('ufw ')) continue;
    const m = /comment '((?:[^'\\]|\\.)*)'/.exec(line);
    const tag = m?.[1] ?? '';
    const rule = parseTag(tag);
    out.push(rule ? { tag, rule } : { tag });
  }
  return out;
}

function spec(r: FwRule): string[] {
  const port = r.portFrom === r.portTo ? String(r.portFrom) : `${r.portFrom}:${r.portTo}`;
  const verb = r.action === 'accept' ? 'allow' : r.action === 'drop' ? 'deny' : 'reject';
  return [verb, 'proto', r.proto, 'from', r.source ? cidrText(r.source) : 'any', 'to', 'any', 'port', port];
}

export function ufwAdd(r: FwRule): string[] {
  const argv = ['ufw'];
  if (r.action === 'accept') argv.push('prepend');
  return [...argv, ...spec(r), 'comment', ruleTag(r)];
}

export function ufwDelete(r: FwRule): string[] {
  return ['ufw', 'delete', ...spec(r)];
}

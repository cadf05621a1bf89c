import type { Step } from '../types.js';
import type { FirewallBackend } from './backend.js';
import type { TaggedEntry } from './nftables.js';
import { cidrText, parseTag, ruleKey, ruleTag, sameTags, type FwRule } from './rule.js';

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

export const ufwBackend: FirewallBackend<'ufw'> = {
  name: 'ufw',
  detect: "have ufw && grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf",
  readScript: String.raw`
  have ufw || { echo "@@error ufw is not installed"; exit 0; }
  echo "@@ufw"; ufw show added 2>&1`,
  readState: (s) => ({ backend: 'ufw', ufw: parseUfwAdded(s.get('ufw') ?? '') }),
  currentRules: (facts) => facts.ufw.flatMap((e) => (e.rule ? [e.rule] : [])),
  runtimeDiffers: (_facts, before, after) => !sameTags(before, after),
  runtimeSteps({ facts, wanted, state }) {
    const steps: Step[] = [];
    for (const w of wanted) {
      const existing = facts.ufw.find((e) => e.rule && ruleKey(e.rule) === ruleKey(w));
      if (state === 'absent') {
        if (existing?.rule) steps.push({ kind: 'exec', argv: ufwDelete(existing.rule) });
      } else if (!existing) steps.push({ kind: 'exec', argv: ufwAdd(w) });
      else if (existing.tag !== ruleTag(w) && existing.rule) {
        steps.push({ kind: 'exec', argv: ufwDelete(existing.rule) }, { kind: 'exec', argv: ufwAdd(w) });
      }
    }
    return steps;
  },
  diffHeader: 'ufw rules',
  recovery: { kind: 'inverse', assumeApplied: (facts, after) => ({ ...facts, ufw: after.map((r) => ({ tag: ruleTag(r), rule: r })) }) },
};

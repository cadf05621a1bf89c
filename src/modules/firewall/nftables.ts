import { ModuleError } from '../../errors.js';
import type { Change } from '../types.js';
import { restoreFileLine, type FirewallBackend } from './backend.js';
import { cidrText, parseTag, portText, ruleTag, sameTags, type FwRule } from './rule.js';

/**
 * nftables backend: vncplay owns `table inet vncplay` with one base chain `input` hooked at priority filter - 1.
 * Its accept only exempts a packet from vncplay's own drops (other tables still see it); its drop/reject are final.
 * Every change is ONE `nft -f -` transaction that re-states the whole chain, so a crash mid-way cannot leave half
 * a rule set, and the same rendering serves the rollback and the persistent file.
 */

export const NFT_TABLE = 'inet vncplay';
export const NFT_CHAIN = 'input';
export const NFT_PERSIST_FILE = '/etc/nftables.d/vncplay.nft';
export const NFT_MAIN_CONF = '/etc/nftables.conf';
export const NFT_INCLUDE_LINE = `include "${NFT_PERSIST_FILE}"`;

export interface TaggedEntry {
  /** The comment as read from the host. */
  tag: string;
  /** The rule the tag describes; undefined for a rule that is not vncplay's (kept out of every comparison). */
  rule?: FwRule;
}

export interface NftState {
  table: boolean;
  chain: boolean;
  entries: TaggedEntry[];
}

interface NftJsonRule {
  family?: string;
  table?: string;
  chain?: string;
  comment?: string;
}

/** `nft -j list table inet vncplay` → our chain's rules in order. Empty text means no table. */
export function parseNftJson(text: string): NftState {
  const t = text.trim();
  if (t === '') return { table: false, chain: false, entries: [] };
  let doc: { nftables?: Record<string, unknown>[] };
  try {
    doc = JSON.parse(t) as { nftables?: Record<string, unknown>[] };
  } catch (e) {
    throw new ModuleError('E_FIREWALL_NFT_JSON', `cannot parse 'nft -j' output: ${t.slice(0, 200)}`, { cause: e });
  }
  const state: NftState = { table: false, chain: false, entries: [] };
  for (const item of doc.nftables ?? []) {
    if ('table' in item) state.table = true;
    const chain = item['chain'] as { name?: string } | undefined;
    if (chain?.name === NFT_CHAIN) state.chain = true;
    const rule = item['rule'] as NftJsonRule | undefined;
    if (rule && rule.chain === NFT_CHAIN) {
      const tag = rule.comment ?? '';
      const parsed = parseTag(tag);
      state.entries.push(parsed ? { tag, rule: parsed } : { tag });
    }
  }
  return state;
}

/** One rule in nft syntax (without `add rule …`). Every piece was validated by the rule model. */
export function nftRuleText(r: FwRule): string {
  const parts: string[] = [];
  if (r.source) parts.push(`${r.source.family === 4 ? 'ip' : 'ip6'} saddr ${cidrText(r.source)}`);
  parts.push(`${r.proto} dport ${portText(r)}`);
  if (r.action === 'reject') parts.push(r.proto === 'tcp' ? 'reject with tcp reset' : 'reject');
  else parts.push(r.action);
  parts.push(`comment "${ruleTag(r)}"`);
  return parts.join(' ');
}

const CHAIN_DECL = 'type filter hook input priority filter - 1; policy accept;';

/** The runtime transaction: declare table+chain (no-op when present), flush the chain, add the rules in order. */
export function nftApplyScript(rules: readonly FwRule[]): string {
  const lines = [
    `table ${NFT_TABLE} {`,
    `  chain ${NFT_CHAIN} {`,
    `    ${CHAIN_DECL}`,
    '  }',
    '}',
    `flush chain ${NFT_TABLE} ${NFT_CHAIN}`,
    ...rules.map((r) => `add rule ${NFT_TABLE} ${NFT_CHAIN} ${nftRuleText(r)}`),
  ];
  return lines.join('\n') + '\n';
}

/** Back to "no table at all" (the state before vncplay's first rule). */
export function nftDropTableScript(): string {
  return `table ${NFT_TABLE}\ndelete table ${NFT_TABLE}\n`;
}

/** The persistent file: re-creates the table from scratch whenever nftables.conf is loaded. */
export function nftPersistFile(rules: readonly FwRule[]): string {
  return [
    '# Managed by vncplay (firewall module, persistent: true). Included from /etc/nftables.conf.',
    `table ${NFT_TABLE}`,
    `delete table ${NFT_TABLE}`,
    `table ${NFT_TABLE} {`,
    `  chain ${NFT_CHAIN} {`,
    `    ${CHAIN_DECL}`,
    ...rules.map((r) => `    ${nftRuleText(r)}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Our include file + the include line in /etc/nftables.conf. */
function nftPersistChange(after: readonly FwRule[], persisted: string | null | undefined): Change {
  const script = [
    'mkdir -p /etc/nftables.d || exit 1',
    `cat > ${NFT_PERSIST_FILE}.vncplay-tmp && chmod 0644 ${NFT_PERSIST_FILE}.vncplay-tmp && mv -f ${NFT_PERSIST_FILE}.vncplay-tmp ${NFT_PERSIST_FILE} || exit 1`,
    `grep -qxF "$1" ${NFT_MAIN_CONF} 2>/dev/null || printf '%s\\n' "$1" >> ${NFT_MAIN_CONF}`,
  ].join('\n');
  return {
    summary: `persist table inet vncplay in ${NFT_PERSIST_FILE}`,
    diff: { path: NFT_PERSIST_FILE, before: persisted ?? '', after: nftPersistFile(after) },
    steps: [{ kind: 'exec', argv: ['sh', '-c', script, 'sh', NFT_INCLUDE_LINE], stdin: nftPersistFile(after) }],
  };
}

const rulesOf = (state: NftState): FwRule[] => state.entries.flatMap((e) => (e.rule ? [e.rule] : []));

export const nftablesBackend: FirewallBackend<'nftables'> = {
  name: 'nftables',
  detect: 'have nft',
  readScript: String.raw`
  have nft || { echo "@@error nft is not installed"; exit 0; }
  out=$(nft -j list table inet vncplay 2>&1); rc=$?
  echo "@@nft"
  if [ $rc -eq 0 ]; then printf '%s\n' "$out"; else case $out in *"No such file"*) ;; *) echo "@@error nft: $out"; exit 0;; esac; fi
  grep -qxF '${NFT_INCLUDE_LINE}' ${NFT_MAIN_CONF} 2>/dev/null && echo "@@include"
  if [ -f ${NFT_PERSIST_FILE} ]; then echo "@@persist"; cat ${NFT_PERSIST_FILE}; fi`,
  readState: (s) => ({
    backend: 'nftables',
    nft: parseNftJson(s.get('nft') ?? ''),
    nftInclude: s.has('include'),
    persisted: s.get('persist') ?? null,
  }),
  currentRules: (facts) => rulesOf(facts.nft),
  runtimeDiffers: (_facts, before, after) => !sameTags(before, after),
  runtimeSteps: ({ transition }) => [{ kind: 'exec', argv: ['nft', '-f', '-'], stdin: nftApplyScript(transition.after) }],
  persistence: {
    differs: (facts, _wanted, _state, after) => facts.persisted !== nftPersistFile(after) || !facts.nftInclude,
    change: ({ facts, transition }) => nftPersistChange(transition.after, facts.persisted),
  },
  diffHeader: 'nftables table inet vncplay',
  recovery: {
    kind: 'armed',
    rollbackLines(facts, before, persistChanges) {
      const nft = facts.nft.table ? nftApplyScript(before) : nftDropTableScript();
      const lines = ["nft -f - <<'VNCPLAY_EOF'", nft.trimEnd(), 'VNCPLAY_EOF'];
      if (persistChanges) lines.push(restoreFileLine(NFT_PERSIST_FILE, facts.persisted, '# vncplay: no persistent rules\n'));
      return lines;
    },
  },
};

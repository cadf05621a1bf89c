import type { Change, Step } from '../types.js';
import type { IptState } from './iptables.js';
import type { NftState, TaggedEntry } from './nftables.js';
import type { FwAction, FwRule, Proto } from './rule.js';

/**
 * The one interface every firewall backend implements (as security_group's providers implement
 * SecurityGroupAdapter): detect, read state, compare, plan the runtime and persistent changes, and say how a change
 * the fresh-connection check refutes is undone. The firewall module (index.ts) holds no per-backend branches; the
 * Ansible front-ends (firewalld, ufw, iptables modules) reuse the backends' readers and command builders.
 */

export type Backend = 'nftables' | 'iptables' | 'firewalld' | 'ufw';

export interface FirewallArgs {
  port: string | number;
  proto?: Proto;
  source?: string | string[];
  action?: FwAction;
  state?: 'present' | 'absent';
  comment?: string;
  persistent?: boolean;
  backend?: 'auto' | Backend;
  allow_lockout?: boolean;
  rollback_timeout?: number;
}

export interface SshEndpoint {
  clientIp: string;
  serverPort: number;
}

interface CommonFacts {
  /** From $SSH_CONNECTION on the host; absent when vncplay is not connected over SSH. */
  ssh?: SshEndpoint;
}

export interface NftFacts extends CommonFacts {
  backend: 'nftables';
  nft: NftState;
  /** /etc/nftables.d/vncplay.nft text; null when it does not exist. */
  persisted?: string | null;
  /** /etc/nftables.conf already includes our file. */
  nftInclude?: boolean;
}

export interface IptFacts extends CommonFacts {
  backend: 'iptables';
  ipt: IptState;
  /** ip6tables' view; undefined when the host has no ip6tables-save. */
  ip6t?: IptState;
  /** /etc/iptables/rules.v4 text, null when it does not exist. */
  persisted?: string | null;
  /** /etc/iptables/rules.v6 text, null when it does not exist. */
  persisted6?: string | null;
}

export interface FirewalldFacts extends CommonFacts {
  backend: 'firewalld';
  firewalld: { runtime: FwRule[]; permanent: FwRule[] };
}

export interface UfwFacts extends CommonFacts {
  backend: 'ufw';
  ufw: TaggedEntry[];
}

export type FirewallFacts = NftFacts | IptFacts | FirewalldFacts | UfwFacts;
export type FactsOf<B extends Backend> = Extract<FirewallFacts, { backend: B }>;

/** What plan() and finish() both derive from facts: the transition and whether it is armed. */
export interface Transition {
  before: FwRule[];
  after: FwRule[];
  runtime: boolean;
  persist: boolean;
  armed: boolean;
  id: string;
}

/** Everything a backend needs to plan one task. */
export interface BackendPlan<B extends Backend> {
  facts: FactsOf<B>;
  /** The task's rules, one per source. */
  wanted: FwRule[];
  state: 'present' | 'absent';
  transition: Transition;
}

/** nftables/iptables: the host runs a rollback script by itself unless vncplay confirms the change in time. */
export interface ArmedRecovery<B extends Backend> {
  kind: 'armed';
  /** Shell lines that return the host to `before` (and the persistent files, when the change rewrote them). */
  rollbackLines(facts: FactsOf<B>, before: readonly FwRule[], persistChanges: boolean): string[];
}

/** firewalld/ufw: no armed rollback; the inverse task is planned against the state the change left. */
export interface InverseRecovery<B extends Backend> {
  kind: 'inverse';
  /** The facts as they are once `after` is applied. */
  assumeApplied(facts: FactsOf<B>, after: readonly FwRule[]): FactsOf<B>;
}

export interface Persistence<B extends Backend> {
  /** Does the persistent configuration differ from what the task wants? */
  differs(facts: FactsOf<B>, wanted: readonly FwRule[], state: 'present' | 'absent', after: readonly FwRule[]): boolean;
  /** The change that makes it hold `after` (called only when it differs). */
  change(plan: BackendPlan<B>): Change;
}

export interface FirewallBackend<B extends Backend> {
  readonly name: B;
  /** A shell condition, true when `backend: auto` should pick this backend (tried in the module's order). */
  readonly detect: string;
  /** Shell lines that print this backend's state as @@sections, or `@@error …` and exit 0. */
  readonly readScript: string;
  /** Those sections → this backend's facts (without ssh). */
  readState(sections: ReadonlyMap<string, string>): FactsOf<B>;
  /** vncplay's rules as the host runs them now, in the order they match. */
  currentRules(facts: FactsOf<B>): FwRule[];
  /** Does the running firewall differ from the rules `after`? */
  runtimeDiffers(facts: FactsOf<B>, before: readonly FwRule[], after: readonly FwRule[]): boolean;
  /** What survives a reboot, for persistent: true; absent when the backend's rules always persist (ufw). */
  readonly persistence?: Persistence<B>;
  /** Throws for a task this backend cannot carry out on this host (checked before anything is planned). */
  refuse?(facts: FactsOf<B>, wanted: readonly FwRule[]): void;
  /** The commands that make the running firewall hold `after` (called only when runtimeDiffers). */
  runtimeSteps(plan: BackendPlan<B>): Step[];
  /** The header of the rule-list diff. */
  readonly diffHeader: string;
  readonly recovery: ArmedRecovery<B> | InverseRecovery<B>;
}

/** A shell line that writes `content` (or `fallback` when the file did not exist) back to `path`. */
export function restoreFileLine(path: string, content: string | null | undefined, fallback: string): string {
  const text = content ?? fallback;
  return `printf '%s' '${Buffer.from(text).toString('base64')}' | base64 -d > '${path}'`;
}

/** Split a gather script's output into its @@sections (`@@name rest` opens one; the lines up to the next belong to it). */
export function sections(out: string): Map<string, string> {
  const map = new Map<string, string>();
  let name: string | undefined;
  let buf: string[] = [];
  const flush = (): void => {
    if (name !== undefined) map.set(name, buf.join('\n'));
  };
  for (const line of out.split('\n')) {
    const m = /^@@(\S+)(?: (.*))?$/.exec(line);
    if (m) {
      flush();
      name = m[1]!;
      buf = m[2] === undefined ? [] : [m[2]];
    } else buf.push(line);
  }
  flush();
  return map;
}


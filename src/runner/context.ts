import type { LimitFunction } from 'p-limit';
import type { BecomeMethod } from '../connection/become.js';
import type { Connection } from '../connection/types.js';
import type { InventoryUpdate } from '../inventory/dynamic.js';
import type { LazyMapping } from '../playbook/filters.js';
import type { Gathering, PlayDef, TaskDef } from '../playbook/model.js';
import type { RunEvent } from './events.js';
import type { HostState } from './host-state.js';

/** Options of one run, as the CLI or a library caller gives them. */
export interface RunSettings {
  check: boolean;
  diff: boolean;
  forks: number;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  extraVars: Record<string, unknown>;
  verbosity: number;
  /** -b: become where neither the play nor the inventory says otherwise. */
  become: boolean;
  /** ansible.cfg's become_user: the user to become where neither the play nor the inventory says (default root). */
  becomeUser?: string;
  /** ansible.cfg's become_method (sudo or su). */
  becomeMethod?: string;
  /** ansible.cfg's gathering: implicit (facts unless gather_facts: false), explicit (only when true), smart (once per host per run). */
  gathering: Gathering;
}

/** The play/block/task keywords that choose how to reach a host; the host's own variables (ansible_user …) still win. */
export interface ConnectionKeywords {
  user?: string;
  connection?: 'ssh' | 'local';
  /** become_method (keyword, else ansible.cfg): the connection becomes other users this way. */
  becomeMethod?: BecomeMethod;
}

/** One open connection per distinct set of connection keywords. */
export function connectionKey(k: ConnectionKeywords): string {
  return `${k.connection ?? ''}|${k.user ?? ''}|${k.becomeMethod ?? ''}`;
}

/** What every part of the runner shares during one run. */
export interface RunEnv {
  settings: RunSettings;
  limit: LimitFunction;
  hosts: Map<string, HostState>;
  /** All inventory host names in inventory order, and group membership, for magic variables. */
  groups: Record<string, string[]>;
  /** `hostvars`: every host's variables, rendered lazily in that host's own scope. */
  hostvars: LazyMapping;
  playbookDir: string;
  emit(event: RunEvent): void;
  /** The host's connection for these keywords, opened on first use; rejects with a ConnectionError when unreachable. */
  connectionFor(host: string, keywords?: ConnectionKeywords): Promise<Connection>;
  /**
   * The host a task delegates to: an inventory host's state, the implicit localhost, or (a name the inventory lacks)
   * a host reached by that name with the `all` group's variables, made on first use with a warning.
   */
  delegateHost(name: string): HostState;
  /** A second, fresh connection to the host (new TCP + SSH handshake, `true`, closed): does the host still let us in? */
  probeNewConnection(host: string, keywords?: ConnectionKeywords): Promise<boolean>;
  /**
   * add_host/group_by: change the run's inventory (group_by for `host`), reading the vars files of new groups and
   * hosts; true when it changed.
   */
  updateInventory(host: string, update: InventoryUpdate): Promise<boolean>;
  /**
   * Closes the host's pooled connection for these keywords and opens a new one in its place (with another connect
   * timeout when given); a failed attempt leaves no connection in the pool, so the next one tries again.
   */
  reconnect(host: string, keywords?: ConnectionKeywords, connectTimeoutMs?: number): Promise<Connection>;
  /** Asks the person at the controller's terminal for a line (pause's prompt); absent without a terminal. */
  ask?(question: string, echo: boolean): Promise<string>;
  /** Set once the run is interrupted: no new task starts. */
  interrupted(): boolean;
  signal: AbortSignal;
  /** --start-at-task: true until the named task is reached. */
  skippingToStart: boolean;
  /** Values that must never appear in any output (become passwords, vault values, no_log results). */
  redact(value: string): string;
  /** Hide `value` from every later event too (a module's secretArgs, a connection password). */
  addSecret?(value: string): void;
}

/** Per play-batch state shared by the hosts of the batch. */
export interface PlayRun {
  play: PlayDef;
  /** Hosts of this batch, in inventory order. */
  batch: string[];
  /** Hosts of the whole play (ansible_play_hosts_all). */
  playHosts: string[];
  /** run_once results, shared by every host of the batch. */
  runOnce: Map<string, Promise<unknown>>;
  /** Handlers of roles that include_role loaded during the run (besides the play's own). */
  includedHandlers: TaskDef[];
}

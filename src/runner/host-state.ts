import type { Connection } from '../connection/types.js';
import { emptyStats, type HostStats } from './events.js';

/** What the runner knows about one inventory host for the whole run (facts persist across plays, as in Ansible). */
export class HostState {
  /** set_fact values and registered results; host-originated, so marked unsafe when stored. */
  readonly facts: Record<string, unknown> = {};
  /** Variables include_vars read from vars files: rendered when read, like play vars, and below set_fact. */
  readonly includedVars: Record<string, unknown> = {};
  readonly stats: HostStats = emptyStats();
  /** Handler names/topics notified and not yet run. */
  readonly notified = new Set<string>();
  failed = false;
  unreachable = false;
  /** `meta: end_host` or `end_play` for this play only. */
  endedPlay = false;
  /**
   * Open connections, one per choice of connection keywords (remote_user, connection: see connectionKey), each
   * opened on first use and kept for the whole run.
   */
  readonly connections = new Map<string, Promise<Connection>>();

  constructor(
    readonly name: string,
    /** Inventory variables for this host, group vars merged in Ansible's order, then host vars. */
    readonly inventoryVars: Record<string, unknown>,
  ) {}

  /** Still taking part in the run: failed and unreachable hosts are left out of later tasks and plays. */
  get active(): boolean {
    return !this.failed && !this.unreachable;
  }
}

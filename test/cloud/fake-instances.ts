import { newId } from './fake-server.js';

/**
 * The instance life cycle the fake clouds share: start/stop/reboot put an instance into a transitional state that
 * lasts `transitionPolls` describe calls (so a client has to poll through "pending"/"Starting"), unless it is
 * `stuck`, which never settles (for wait timeouts). Each fake maps these states to its provider's names and errors.
 */

export type LifeState = 'pending' | 'running' | 'stopping' | 'stopped' | 'rebooting' | 'terminated';

export interface FakeInstance {
  id: string;
  state: LifeState;
  privateIp: string;
  publicIp: string;
  /** Describe calls left before a transitional state settles. */
  pollsLeft: number;
  /** Never leaves its transitional state. */
  stuck: boolean;
  /** The last stop/reboot was forced (ForceStop / Force / StopType HARD). */
  lastForced?: boolean;
}

const SETTLED: Partial<Record<LifeState, LifeState>> = { pending: 'running', rebooting: 'running', stopping: 'stopped' };

export class InstanceFleet {
  readonly instances = new Map<string, FakeInstance>();
  transitionPolls = 2;
  /** Called when an action starts a transition: fleet tests power the real host behind the instance back on. */
  onBegin?: (i: FakeInstance, state: LifeState) => void;

  add(i: Partial<FakeInstance> & { state: LifeState }, prefix = 'i'): FakeInstance {
    const n = this.instances.size + 10;
    const full: FakeInstance = {
      id: i.id ?? newId(prefix),
      state: i.state,
      privateIp: i.privateIp ?? `10.0.0.${n}`,
      publicIp: i.publicIp ?? `203.0.113.${n}`,
      pollsLeft: i.pollsLeft ?? this.transitionPolls,
      stuck: i.stuck ?? false,
    };
    this.instances.set(full.id, full);
    return full;
  }

  /** A describe saw the instance: transitions advance. */
  observe(i: FakeInstance): void {
    const next = SETTLED[i.state];
    if (!next || i.stuck) return;
    if (i.pollsLeft > 0) i.pollsLeft--;
    else i.state = next;
  }

  /** Move into a transitional state (the caller has checked the move is allowed). */
  begin(i: FakeInstance, state: LifeState, forced?: boolean): void {
    i.state = state;
    i.pollsLeft = this.transitionPolls;
    if (forced !== undefined) i.lastForced = forced;
    this.onBegin?.(i, state);
  }
}

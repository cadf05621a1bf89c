import type { Provider } from '../security-group/types.js';

export type { Provider };

/**
 * An instance's state in one vocabulary for the three providers (each adapter maps its own names onto it).
 * `pending` covers AWS pending, ECS Starting/Pending and CVM PENDING/STARTING.
 */
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'rebooting' | 'terminating' | 'terminated' | 'failed';

/** What a describe call read about one instance. */
export interface InstanceView {
  id: string;
  state: InstanceState;
  /** The provider's own name for the state (running / Running / RUNNING), for messages. */
  providerState: string;
  privateIps: string[];
  publicIps: string[];
}

/** One provider's instance calls, each already wrapped in the shared retry helper. */
export interface InstanceAdapter {
  readonly provider: Provider;
  /** The provider's error code for an unknown instance id, named in the not-found failure. */
  readonly notFoundCode: string;
  /** undefined when the provider does not know the id. */
  describe(id: string, signal: AbortSignal): Promise<InstanceView | undefined>;
  start(id: string, signal: AbortSignal): Promise<void>;
  stop(id: string, force: boolean, signal: AbortSignal): Promise<void>;
  reboot(id: string, force: boolean, signal: AbortSignal): Promise<void>;
}

/**
 * Lockstep for the linear strategy: every host still in the play arrives before its next task, and the round
 * starts when all of them have arrived (or left). Hosts on different branches (a rescue, an include) still advance
 * one task per round, as Ansible's linear strategy does. `beforeRound` may end the play for everyone
 * (any_errors_fatal, max_fail_percentage) by returning false.
 */
export class Rounds {
  private readonly active = new Set<string>();
  private readonly waiting = new Map<string, (go: boolean) => void>();
  private stopped = false;

  constructor(
    hosts: Iterable<string>,
    private readonly beforeRound: () => boolean = () => true,
  ) {
    for (const h of hosts) this.active.add(h);
  }

  /** Resolves true when the host may run its next task, false when the play ends for it. */
  arrive(host: string): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiting.set(host, resolve);
      // Released after the caller's `await` is in place, so every host resumes in the release order below.
      queueMicrotask(() => this.release());
    });
  }

  /** The host has no more tasks in this phase (done, failed or unreachable). */
  leave(host: string): void {
    this.active.delete(host);
    this.waiting.delete(host);
    this.release();
  }

  private release(): void {
    if (this.waiting.size === 0 || this.waiting.size < this.active.size) return;
    const go = this.beforeRound();
    if (!go) this.stopped = true;
    // In the hosts' own order (not arrival order), as Ansible's linear strategy queues them: so the first host of
    // the batch is the one that runs a run_once or add_host task.
    const waiters = [...this.active].flatMap((h) => this.waiting.get(h) ?? []);
    this.waiting.clear();
    for (const w of waiters) w(go);
  }
}

/** The free strategy's gate: every host runs ahead on its own. */
export class FreeGate {
  private stopped = false;
  constructor(private readonly beforeTask: () => boolean = () => true) {}
  arrive(_host: string): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (!this.beforeTask()) this.stopped = true;
    return Promise.resolve(!this.stopped);
  }
  leave(_host: string): void {}
}

export type Gate = Pick<Rounds, 'arrive' | 'leave'>;

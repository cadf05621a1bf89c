import type { ClientChannel } from 'ssh2';

/** What a session keeps of the command it runs: at least how to fail it. */
export interface PendingCommand {
  reject(e: Error): void;
}

/**
 * The life of a long-lived shell on one SSH channel, shared by the line session (line-session.ts) and the become
 * shell session (shell-session.ts): not ready until its driver says so, then one command at a time, dead for good
 * once the channel closes, a protocol error or a kill ends it — the waiting caller and the running command are
 * rejected then. Subclasses read the channel's output and call `markReady` and `fail`.
 */
export abstract class ChannelSession<P extends PendingCommand> {
  protected ready = false;
  protected dead = false;
  protected pending: P | undefined;
  private readyWaiter: { resolve(): void; reject(e: Error): void } | undefined;

  /** `what` names the session in its errors: "the line session closed". */
  protected constructor(
    protected readonly ch: ClientChannel,
    private readonly what: string,
  ) {
    ch.on('error', () => undefined);
    ch.once('close', () => this.fail(new Error(`the ${what} closed`)));
  }

  /** Resolves once the driver runs; rejects if the channel ends first. */
  waitReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.dead) return Promise.reject(new Error(`the ${this.what} closed`));
    return new Promise((resolve, reject) => (this.readyWaiter = { resolve, reject }));
  }

  /** True once the driver ran: a session that closes after this is replaced; one that never started is not retried. */
  get wasReady(): boolean {
    return this.ready;
  }

  get usable(): boolean {
    return this.ready && !this.dead && this.pending === undefined;
  }

  /** Stop the session now (abort): the running command is cut off like a closed exec channel. */
  kill(): void {
    this.fail(new Error(`the ${this.what} was stopped`));
    this.ch.close();
  }

  /** The answer to a command sent while the session is not `usable`. */
  protected refused(): Promise<never> {
    return Promise.reject(new Error(`the ${this.what} is busy or closed`));
  }

  protected markReady(): void {
    this.ready = true;
    this.readyWaiter?.resolve();
    this.readyWaiter = undefined;
  }

  protected protocolError(what: string): void {
    this.fail(new Error(`${this.what} protocol error: ${what}`));
    this.ch.close();
  }

  protected fail(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.readyWaiter?.reject(e);
    this.readyWaiter = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }
}

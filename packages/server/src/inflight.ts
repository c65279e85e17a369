/**
 * A legacy request in flight, cancellable by notifications/cancelled. Its AbortSignal is
 * created only when someone reads it: AbortController plus listener wiring costs more than
 * a trivial tool call, and most handlers never look at the signal.
 */
export interface SignalSource {
  readonly signal: AbortSignal;
}

export class InflightRequest implements SignalSource {
  private controller: AbortController | undefined;
  private cancelledReason: unknown;
  private cancelled = false;

  constructor(private readonly base: AbortSignal) {}

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.cancelled) controller.abort(this.cancelledReason);
      else if (this.base.aborted) controller.abort(this.base.reason);
      else this.base.addEventListener('abort', this, { once: true });
    }
    return controller.signal;
  }

  /** True once the client cancelled or the transport aborted. */
  get aborted(): boolean {
    return this.cancelled || this.base.aborted;
  }

  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelledReason = reason;
    this.controller?.abort(reason);
  }

  /** EventListener protocol: the transport's signal aborted. */
  handleEvent(): void {
    this.controller?.abort(this.base.reason);
  }

  dispose(): void {
    if (this.controller !== undefined) this.base.removeEventListener('abort', this);
  }
}

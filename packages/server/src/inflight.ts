/**
 * A legacy request in flight, cancellable by notifications/cancelled. Its AbortSignal is
 * created only when someone reads it: AbortController plus listener wiring costs more than
 * a trivial tool call, and most handlers never look at the signal.
 */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/**
 * A request's cancellation as a transport holds it: `aborted` is a plain flag and the
 * AbortSignal is made only when someone reads `signal` (already aborted if it came late).
 */
export class RequestAbort implements SignalSource {
  private controller: AbortController | undefined;
  private why: unknown;
  aborted = false;

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.aborted) controller.abort(this.why);
    }
    return controller.signal;
  }

  get reason(): unknown {
    return this.why;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.why = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.controller?.abort(this.why);
  }
}

/** What an in-flight request watches: the transport's signal, or its lazy RequestAbort. */
export type AbortSource = AbortSignal | RequestAbort;

function signalOf(source: AbortSource): AbortSignal {
  return source instanceof RequestAbort ? source.signal : source;
}

export class InflightRequest implements SignalSource {
  private controller: AbortController | undefined;
  private cancelledReason: unknown;
  private cancelled = false;

  constructor(private readonly base: AbortSource) {}

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.cancelled) controller.abort(this.cancelledReason);
      else if (this.base.aborted) controller.abort(this.base.reason);
      else signalOf(this.base).addEventListener('abort', this, { once: true });
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
    if (this.controller !== undefined) signalOf(this.base).removeEventListener('abort', this);
  }
}

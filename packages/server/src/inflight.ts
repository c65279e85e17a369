/**
 * Cancellation of requests in flight, with AbortSignals created only when someone reads them:
 * AbortController plus listener wiring costs more than a trivial tool call, and most handlers
 * never look at the signal.
 */

/** Hears an abort (AbortSignal's EventListenerObject shape). */
export interface AbortListener {
  handleEvent(): void;
}

export interface SignalSource {
  readonly signal: AbortSignal;
}

/**
 * A request's cancellation as a transport holds it: `aborted` is a plain flag, `abort`
 * listeners are a plain list, and the AbortSignal is made only when someone reads `signal`
 * (already aborted if it came late). Creating an AbortSignal costs more than a trivial tool
 * call, and most requests end without anyone looking at it.
 */
export class RequestAbort implements SignalSource {
  private controller: AbortController | undefined;
  private listeners: AbortListener[] | undefined;
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

  /** Like AbortSignal's: `listener` hears the abort once (never if it already happened). */
  addEventListener(_type: 'abort', listener: AbortListener, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners?.splice(i, 1);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.why = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.controller?.abort(this.why);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const l of listeners ?? []) l.handleEvent();
  }
}

/** What an in-flight request watches: the transport's signal, or its lazy RequestAbort. */
export type AbortSource = AbortSignal | RequestAbort;

/** A request in flight, cancellable by notifications/cancelled (legacy) or its transport. */
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

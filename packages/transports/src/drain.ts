/**
 * Graceful drain of a node's MCP transports: from `drain()` on, new requests are refused
 * (503, Retry-After, `Connection: close`), streams with nothing in flight end the way
 * SEP-1699 allows (`retry:` after a primed event id, then close) so clients resume on another
 * node with Last-Event-ID, WebSockets close with 1001 once their requests are answered, and
 * requests in flight get until the deadline to finish.
 */
import { ProtocolError } from '@mcp-cluster/protocol';

/** What one registered transports plugin does on each step of a drain. */
interface DrainTarget {
  /** Ends what has nothing in flight; in-flight work goes on. */
  start(): void;
  /** The deadline passed: ends everything still open (resumable streams get `retry:`). */
  finish(): void;
  /** HTTP exchanges in flight plus open WebSockets. */
  pending(): number;
}

/** How the drain ended. */
export interface DrainOutcome {
  /** True when everything finished before the deadline. */
  readonly settled: boolean;
  /** Exchanges and WebSockets still open at the deadline (ended then). */
  readonly leftOpen: number;
}

/**
 * Created by the node and passed to `mcpTransports` (option `drain`); the node calls `drain`
 * once its load balancer has stopped sending it new clients.
 */
export class TransportDrain {
  private active = false;
  private readonly targets: DrainTarget[] = [];
  private wake: (() => void) | undefined;

  /** True from the start of `drain()`: new requests are refused. */
  get draining(): boolean {
    return this.active;
  }

  /** @internal Called by `mcpTransports`. */
  register(target: DrainTarget): void {
    this.targets.push(target);
  }

  /** @internal Something in flight ended: the drain may be complete. */
  changed(): void {
    if (this.active && this.pending() === 0) this.wake?.();
  }

  private pending(): number {
    let n = 0;
    for (const t of this.targets) n += t.pending();
    return n;
  }

  /**
   * Refuses new requests, ends idle streams, waits for in-flight work up to `timeoutMs`, then
   * ends what is left. Resolves when the transports hold nothing open.
   */
  async drain(timeoutMs: number): Promise<DrainOutcome> {
    this.active = true;
    for (const t of this.targets) t.start();
    let timer: NodeJS.Timeout | undefined;
    const settled = await new Promise<boolean>((resolve) => {
      this.wake = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
      this.changed();
    });
    clearTimeout(timer);
    this.wake = undefined;
    const leftOpen = this.pending();
    if (!settled) for (const t of this.targets) t.finish();
    return { settled, leftOpen };
  }
}

/** The JSON-RPC error of a request refused because the node is draining. */
export function drainingError(retryAfterMs: number): ProtocolError {
  return ProtocolError.of('Unavailable', 'Server is draining: retry on another node', {
    retryAfterMs,
  });
}

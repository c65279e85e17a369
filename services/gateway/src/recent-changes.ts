/**
 * The change events (list_changed, resources/updated) this gateway heard lately, kept in
 * memory so a gateway taking over a session's standalone stream can deliver what was raised
 * while that stream was attached nowhere: between the moment its previous gateway stopped
 * delivering (drained and closed, or SIGKILLed) and the moment the client resumed here.
 *
 * Every gateway hears every change event (the bus fans them out to all), so this costs no
 * Redis write and nothing per session: one entry per event, bounded in age and count. The
 * origin's last delivery time comes from its stream mirror (RedisStreamMirror.lastAt).
 */
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import { changeNotification } from '@mcp-cluster/server';
import type { ChangeEvent } from '@mcp-cluster/server';

/** How long an event is kept: longer than a client takes to resume on another gateway. */
export const RECENT_CHANGES_MS = 60_000;
/** Bound on events kept (oldest dropped first). */
export const MAX_RECENT_CHANGES = 2_048;
/**
 * Clock skew and bus latency between two gateways: events heard here up to this long before
 * the origin's last mirrored event are delivered too (a possible duplicate, never a loss).
 */
export const CHANGE_SKEW_MS = 500;

interface Heard {
  readonly at: number;
  readonly event: ChangeEvent;
}

export class RecentChanges {
  private readonly events: Heard[] = [];

  constructor(
    private readonly keepMs = RECENT_CHANGES_MS,
    private readonly max = MAX_RECENT_CHANGES,
  ) {}

  heard(event: ChangeEvent, at = Date.now()): void {
    this.events.push({ at, event });
    this.prune(at);
  }

  /** Events heard after `since` (less the skew margin; undefined: all kept) and before `until`. */
  between(since: number | undefined, until: number): ChangeEvent[] {
    this.prune(Date.now());
    const from = since === undefined ? -Infinity : since - CHANGE_SKEW_MS;
    return this.events.filter((h) => h.at > from && h.at < until).map((h) => h.event);
  }

  private prune(now: number): void {
    let drop = Math.max(0, this.events.length - this.max);
    while (drop < this.events.length && now - (this.events[drop]?.at ?? now) > this.keepMs) drop++;
    if (drop > 0) this.events.splice(0, drop);
  }
}

/**
 * The notifications `session` missed among `events`: every list_changed (they go to every
 * session with a stream, as in the gateway's fan-out), and resources/updated for the uris it is
 * subscribed to. `subscriptions` reads them fresh (they change on workers).
 */
export async function missedBy(
  events: readonly ChangeEvent[],
  subscriptions: () => Promise<ReadonlySet<string> | undefined>,
): Promise<JsonRpcMessage[]> {
  if (events.length === 0) return [];
  const subscribed = events.some((e) => e.type === 'resources/updated')
    ? await subscriptions()
    : undefined;
  return events
    .filter((e) => e.type !== 'resources/updated' || subscribed?.has(e.uri) === true)
    .map((e) => changeNotification(e));
}

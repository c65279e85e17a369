import type { BusEvent, BusEventType } from './subjects.js';
import { BUS_EVENT_TYPES } from './subjects.js';
import type { BusFilter, BusHandler, BusStats } from './types.js';

/** Event types a filter selects, deduplicated, in table order. */
export function filterTypes(filter: BusFilter): readonly BusEventType[] {
  if (filter.types === undefined) return BUS_EVENT_TYPES;
  const wanted = new Set(filter.types);
  return BUS_EVENT_TYPES.filter((t) => wanted.has(t));
}

/** Calls a handler so that its failure is counted and never reaches the bus or the publisher. */
export function invokeHandler(handler: BusHandler, event: BusEvent, stats: BusStats): void {
  stats.delivered++;
  try {
    const result = handler(event);
    if (result !== undefined) result.catch(() => void stats.handlerErrors++);
  } catch {
    stats.handlerErrors++;
  }
}

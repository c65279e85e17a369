import { MemoryEventBus } from './memory.js';
import { NatsEventBus } from './nats.js';
import { resolvePrefix } from './subjects.js';
import type { EventBus } from './types.js';

export interface EventBusOptions {
  /** NATS server URL; without it the bus is in-process memory (embedded mode). */
  readonly natsUrl?: string | undefined;
  readonly prefix?: string | undefined;
  readonly name?: string | undefined;
}

/** The one wiring point for the bus: NATS when a URL is configured, memory otherwise. */
export async function createEventBus(options: EventBusOptions = {}): Promise<EventBus> {
  const prefix = resolvePrefix(options.prefix);
  if (options.natsUrl === undefined || options.natsUrl === '') return new MemoryEventBus();
  return NatsEventBus.connect({
    url: options.natsUrl,
    prefix,
    ...(options.name === undefined ? {} : { name: options.name }),
  });
}

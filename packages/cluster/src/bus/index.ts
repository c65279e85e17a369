export type { BusEvent, BusEventOf } from './subjects.js';
export {
  BUS_EVENT_TYPES,
  BusEventType,
  DEFAULT_SUBJECT_PREFIX,
  MAX_REVOKED_IDS,
  busEventSchemas,
  subjectFor,
  subjectOf,
  subjectToken,
} from './subjects.js';
export type {
  BusConnectionListener,
  BusConnectionState,
  BusFilter,
  BusHandler,
  BusStats,
  BusSubscription,
  EventBus,
} from './types.js';
export { MemoryEventBus } from './memory.js';
export type { NatsEventBusOptions } from './nats.js';
export { DEFAULT_NATS_BUS_OPTIONS, NatsEventBus } from './nats.js';
export type { EventBusOptions } from './create.js';
export { createEventBus } from './create.js';
export type { BusChangeFeed, ClusterChange, ClusterChangeListener } from './change-feed.js';
export { createBusChangeFeed } from './change-feed.js';

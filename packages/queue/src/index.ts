export type { DurableTaskHost } from './host.js';
export { createDurableTaskHost } from './host.js';
export type { DurableTaskHostOptions, ResolvedDurableOptions } from './options.js';
export { DEFAULT_DURABLE_OPTIONS, resolveDurableOptions } from './options.js';
export type { TaskKeys } from './keys.js';
export { QUEUE_NAME, taskKeys } from './keys.js';
export { TaskStoreError } from './record.js';

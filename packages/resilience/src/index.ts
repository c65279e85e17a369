export type { BreakerOptions, BreakerTransition, WorkerBreakersDeps } from './breakers.js';
export { DEFAULT_BREAKER_OPTIONS, WorkerBreakers, rollingWindowOptions } from './breakers.js';
export { withBreakers } from './with-breakers.js';

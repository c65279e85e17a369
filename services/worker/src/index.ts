export type { RunningWorker } from './worker.js';
export { startWorker } from './worker.js';

export type { RunningWorker, WorkerLog } from './worker.js';
export { startWorker } from './worker.js';

export type { RunningGateway } from './gateway.js';
export { startGateway } from './gateway.js';

export type { GatewayOptions, RunningGateway } from './gateway.js';
export { startGateway } from './gateway.js';

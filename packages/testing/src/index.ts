/** @mcp-cluster/testing: test a pack through a real MCP client, in memory. */
export { packTransport } from './pack-transport.js';
export type { PackTransport, PackTransportOptions } from './pack-transport.js';

/** JSON-RPC messages the CLI's spawn tests send. */

/** A legacy (2025-06-18) `initialize` with id 1. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 't', version: '1' },
  },
} as const;

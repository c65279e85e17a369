export type { HttpAppOptions } from './app.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  createHttpApp,
} from './app.js';
export type { ConnectionOptions, Send } from './connection.js';
export { MessageConnection } from './connection.js';
export type { MemoryClient } from './memory.js';
export { connectInMemory } from './memory.js';
export type {
  Admission,
  AdmittedCredential,
  CredentialEnd,
  GuardRequest,
  MessageAdmission,
  TransportGuard,
} from './guard.js';
export {
  callerOf,
  credentialEndReason,
  credentialOf,
  ownsSession,
  securityUnavailable,
} from './guard.js';
export type { CredentialGate, CredentialGateHandlers } from './credential-gate.js';
export { MAX_MESSAGES_AWAITING_CHECK, credentialGate } from './credential-gate.js';
export { errorHeaders } from './http.js';
/** Protocol's: the security layer answers with the same Retry-After without loading transports. */
export { retryAfterSeconds } from '@mcp-cluster/protocol';
export type { DrainOutcome } from './drain.js';
export { TransportDrain } from './drain.js';
export type { McpTransportsOptions } from './plugin.js';
export { mcpTransports } from './plugin.js';
export type { HostPolicy } from './security.js';
export { checkHostAndOrigin, hostnameOf, originHostnameOf } from './security.js';
export type { TransportSettings } from './settings.js';
export { DEFAULT_TRANSPORT_SETTINGS } from './settings.js';
export type { StdioOptions, StdioTransport } from './stdio.js';
export { DEFAULT_STDIO_DRAIN_MS, StdioFramer, serveStdio } from './stdio.js';
export { LEGACY_MESSAGES_PATH, LEGACY_SSE_PATH } from './legacy-sse.js';
export type { ResumeOutcome, SharedStreams, StreamGap, StreamMirror } from './sse.js';
export { STREAM_ID_SEPARATOR } from './sse.js';
export { CREDENTIAL_CLOSE_CODE, WEBSOCKET_PATH } from './websocket.js';
export {
  WEBSOCKET_BEARER_PREFIX,
  WEBSOCKET_SUBPROTOCOL,
  selectSubprotocol,
  subprotocolAuthorization,
} from './subprotocol.js';
// The CLI builds its app with the same fastify instance the plugin is typed against
// (services/cli does not depend on fastify directly).
export { default as Fastify, LogController } from 'fastify';
export type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

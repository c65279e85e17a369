export type {
  JsonObject,
  JsonRpcErrorObject,
  JsonRpcFailure,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  JsonRpcSuccess,
  RequestId,
} from './jsonrpc.js';
export { isNotification, isRequest, isResponse } from './jsonrpc.js';
export type { RpcErrorCode, RpcErrorKind } from './errors.js';
export {
  ProtocolError,
  RpcError,
  httpStatusForCode,
  isRetryableCode,
  toWireError,
} from './errors.js';
export type { LegacyVersion, ModernVersion, ProtocolVersion } from './versions.js';
export {
  DEFAULT_HTTP_LEGACY_VERSION,
  LATEST_LEGACY_VERSION,
  LATEST_MODERN_VERSION,
  LEGACY_VERSIONS,
  MODERN_VERSIONS,
  allowsBatch,
  isLegacyVersion,
  isModernVersion,
  negotiateLegacyVersion,
} from './versions.js';
export { Extension, Header, MetaKey } from './meta.js';
export type {
  Annotations,
  AudioContent,
  BlobResourceContents,
  CallToolResult,
  ClientCapabilities,
  ContentBlock,
  EmbeddedResource,
  GetPromptResult,
  Icon,
  ImageContent,
  Implementation,
  InputRequest,
  LoggingLevel,
  Prompt,
  PromptArgument,
  PromptMessage,
  Resource,
  ResourceContents,
  ResourceLink,
  ResourceTemplate,
  ServerCapabilities,
  TextContent,
  TextResourceContents,
  Tool,
  ToolAnnotations,
} from './types.js';
export { LOGGING_LEVELS, isLoggingLevel, levelAtLeast } from './types.js';

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
  retryAfterSeconds,
  SECURITY_RETRY_AFTER_MS,
  securityUnavailable,
  toWireError,
} from './errors.js';
export { CodedError, KindedError } from './local-error.js';
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
export type { BatchEntry, DecodeOptions, DecodedBody, ParseLimits } from './codec.js';
export {
  InvalidMessageError,
  decodeBody,
  decodeMessage,
  encode,
  isInvalidEntry,
  parseJsonText,
} from './codec.js';
export type { ParamsEra } from './params.js';
export { KNOWN_METHODS, validateParams } from './params.js';
export type { EraDecision, ModernMeta, PostInput } from './era.js';
export {
  REMOVED_IN_MODERN,
  classifyPost,
  isRemovedInModern,
  readModernMeta,
  replyIdOf,
  sessionRequiredError,
} from './era.js';
export type { ParamHeader } from './headers.js';
export {
  decodeHeaderValue,
  encodeHeaderValue,
  paramHeadersOf,
  validateRoutingHeaders,
} from './headers.js';
export { base64DecodeStrict, base64Encode, utf8Decode, utf8Encode } from './text.js';
export type { CanonicalUri } from './resource-uri.js';
export {
  canonicalResourceParams,
  canonicalResourceUri,
  hasDotSegment,
  hasEncodedSeparator,
  requireCanonicalUri,
} from './resource-uri.js';

/**
 * Which protocol era a message belongs to, on one endpoint that serves both. The HTTP ladder
 * is section 2.4 of conformance-fixtures.md, step for step; every step is a suite check.
 */
import { ProtocolError, RpcError } from './errors.js';
import type { JsonRpcMessage, RequestId } from './jsonrpc.js';
import { MetaKey } from './meta.js';
import type { ClientCapabilities, Implementation, LoggingLevel } from './types.js';
import { isLoggingLevel } from './types.js';
import { MODERN_VERSIONS, isLegacyVersion, isModernVersion } from './versions.js';
import type { ModernVersion } from './versions.js';

/** The per-request `_meta` of a 2026-07-28 request, validated. */
export interface ModernMeta {
  readonly protocolVersion: ModernVersion;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo: Implementation | undefined;
  /** Absent: the server sends no notifications/message for this request. */
  readonly logLevel: LoggingLevel | undefined;
  readonly progressToken: string | number | undefined;
}

/**
 * The era of one POSTed message.
 * - `legacy-session`: the transport looks the session up; unknown or ended -> HTTP 404 with
 *   -32001 (`RpcError.SessionNotFound`) and `id: null`.
 * - `legacy-new`: no session yet. Only an `initialize` request may create one; the transport
 *   answers anything else (and any batch) with `sessionRequiredError()`: HTTP 400 / -32600.
 * - `modern`: stateless 2026-07-28; `meta` is validated. The transport then checks the
 *   SEP-2243 routing headers (`validateRoutingHeaders`) and dispatches.
 */
export type EraDecision =
  | { readonly type: 'legacy-session'; readonly sessionId: string }
  | { readonly type: 'legacy-new' }
  | { readonly type: 'modern'; readonly meta: ModernMeta };

export interface PostInput {
  /** The Mcp-Session-Id header, if any. */
  readonly sessionId?: string | undefined;
  /** The MCP-Protocol-Version header, if any. */
  readonly protocolVersionHeader?: string | undefined;
  readonly message: JsonRpcMessage;
}

/**
 * Methods 2026-07-28 removed. On the modern wire the engine answers them -32601 (HTTP 404),
 * and their legacy params are not validated there.
 */
export const REMOVED_IN_MODERN = [
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'tasks/result',
  'tasks/list',
] as const;

const removedSet: ReadonlySet<string> = new Set(REMOVED_IN_MODERN);

export function isRemovedInModern(method: string): boolean {
  return removedSet.has(method);
}

const LEGACY_NEW: EraDecision = Object.freeze({ type: 'legacy-new' });

/** HTTP 400 / -32600 for a non-initialize message that arrives without a session. */
export function sessionRequiredError(): ProtocolError {
  return new ProtocolError(
    RpcError.InvalidRequest.code,
    'Bad Request: Mcp-Session-Id header is required',
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function metaOf(message: JsonRpcMessage): unknown {
  return 'method' in message ? message.params?._meta : undefined;
}

function invalidMeta(detail: string): ProtocolError {
  return new ProtocolError(RpcError.InvalidParams.code, `Invalid _meta: ${detail}`);
}

function headerMismatch(detail: string): ProtocolError {
  return new ProtocolError(RpcError.HeaderMismatch.code, detail);
}

/** Step 4.2: `_meta` present with protocolVersion and clientCapabilities (-32602). */
function requireMetaFields(meta: unknown): Record<string, unknown> {
  if (meta === undefined) throw invalidMeta('params._meta is required');
  if (!isObject(meta)) throw invalidMeta('params._meta must be an object');
  if (typeof meta[MetaKey.ProtocolVersion] !== 'string') {
    throw invalidMeta(`${MetaKey.ProtocolVersion} must be a string`);
  }
  if (!isObject(meta[MetaKey.ClientCapabilities])) {
    throw invalidMeta(`${MetaKey.ClientCapabilities} must be an object`);
  }
  return meta;
}

/** Step 4.4 and the optional keys: the checked, typed ModernMeta. */
function finishMeta(meta: Record<string, unknown>): ModernMeta {
  const version = meta[MetaKey.ProtocolVersion] as string;
  if (!isModernVersion(version)) {
    throw new ProtocolError(
      RpcError.UnsupportedProtocolVersion.code,
      RpcError.UnsupportedProtocolVersion.message,
      { supported: [...MODERN_VERSIONS], requested: version },
    );
  }
  const clientInfo = meta[MetaKey.ClientInfo];
  if (
    clientInfo !== undefined &&
    !(
      isObject(clientInfo) &&
      typeof clientInfo.name === 'string' &&
      typeof clientInfo.version === 'string'
    )
  ) {
    throw invalidMeta(`${MetaKey.ClientInfo} must be an object with string name and version`);
  }
  const logLevel = meta[MetaKey.LogLevel];
  if (logLevel !== undefined && !isLoggingLevel(logLevel)) {
    throw invalidMeta(`${MetaKey.LogLevel} must be a logging level`);
  }
  const progressToken = meta.progressToken;
  if (
    progressToken !== undefined &&
    typeof progressToken !== 'string' &&
    !(typeof progressToken === 'number' && Number.isFinite(progressToken))
  ) {
    throw invalidMeta('progressToken must be a string or a number');
  }
  return {
    protocolVersion: version,
    clientCapabilities: meta[MetaKey.ClientCapabilities] as ClientCapabilities,
    clientInfo: clientInfo as Implementation | undefined,
    logLevel,
    progressToken,
  };
}

/**
 * Classifies one POSTed message (section 2.4). Throws ProtocolError for the modern-era
 * failures, in the suite's order: header missing (-32020), `_meta` missing or incomplete
 * (-32602), header != `_meta` version (-32020), version unsupported (-32022 with
 * `data: {supported, requested}`). Every one maps to HTTP 400 via `httpStatus`.
 * For a batch, classify its first entry (batches only exist inside 2025-03-26 sessions).
 */
export function classifyPost(input: PostInput): EraDecision {
  // 1. A session id always means legacy, whatever else the request carries.
  if (input.sessionId !== undefined) {
    return { type: 'legacy-session', sessionId: input.sessionId };
  }
  const header = input.protocolVersionHeader?.trim();
  const meta = metaOf(input.message);
  // 2. Nothing modern about it: a legacy client before (or without) initialize.
  if (header === undefined && meta === undefined) return LEGACY_NEW;
  // 3. A legacy version header without _meta (e.g. initialize with MCP-Protocol-Version).
  if (meta === undefined && isLegacyVersion(header)) return LEGACY_NEW;
  // 4. Modern.
  if (header === undefined) {
    throw headerMismatch('MCP-Protocol-Version header is required');
  }
  const checked = requireMetaFields(meta);
  if (checked[MetaKey.ProtocolVersion] !== header) {
    throw headerMismatch(
      `MCP-Protocol-Version header (${header}) does not match ${MetaKey.ProtocolVersion}`,
    );
  }
  return { type: 'modern', meta: finishMeta(checked) };
}

/**
 * For transports without HTTP headers (WebSocket, stdio): the request's ModernMeta when it
 * is a modern request, undefined when it is legacy. A request is modern when its `_meta`
 * carries `io.modelcontextprotocol/protocolVersion` or `.../clientCapabilities`; a legacy
 * `_meta` (progressToken only) stays legacy. Same checks as `classifyPost` minus the
 * header steps: -32602 for an incomplete `_meta`, -32022 for an unsupported version.
 */
export function readModernMeta(
  params: { readonly _meta?: unknown } | undefined,
): ModernMeta | undefined {
  const meta = params?._meta;
  if (!isObject(meta)) return undefined;
  if (!(MetaKey.ProtocolVersion in meta) && !(MetaKey.ClientCapabilities in meta)) {
    return undefined;
  }
  return finishMeta(requireMetaFields(meta));
}

/** The JSON-RPC id to echo in an error reply to `message` (null for notifications/responses). */
export function replyIdOf(message: JsonRpcMessage): RequestId | null {
  return 'method' in message && 'id' in message ? message.id : null;
}

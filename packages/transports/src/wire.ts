/** Small helpers every transport shares: error replies and the era split for one message. */
import { ProtocolError, RpcError, readModernMeta, toWireError } from '@mcp-cluster/protocol';
import type { JsonRpcFailure, JsonRpcMessage, ModernMeta, RequestId } from '@mcp-cluster/protocol';

/** A JSON-RPC error response for any thrown value (never leaks non-protocol text). */
export function errorResponse(id: RequestId | null, err: unknown): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error: toWireError(err) };
}

/** The status of a transport-level rejection: the error table's, 500 for unknown errors. */
export function statusOf(err: unknown): number {
  return err instanceof ProtocolError ? err.httpStatus : 500;
}

/** Modern-wire answer for a method 2026-07-28 removed: -32601. */
export function removedMethodError(method: string): ProtocolError {
  return new ProtocolError(RpcError.MethodNotFound.code, `Method not found: ${method}`);
}

/**
 * For transports without HTTP headers: the request's ModernMeta when it is modern, undefined
 * when legacy. Throws ProtocolError (-32602 / -32022) for a broken modern `_meta`.
 */
export function modernMetaOf(message: JsonRpcMessage): ModernMeta | undefined {
  if (!('method' in message)) return undefined;
  return readModernMeta(message.params);
}

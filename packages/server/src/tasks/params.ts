/** Shared parameter checks and errors of the task methods. */
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';

export const CANCELLED_BY_CLIENT = 'The task was cancelled by the client.';

export function taskIdOf(params: JsonObject): string {
  const id = params.taskId;
  if (typeof id !== 'string' || id.length === 0) throw invalidParams('taskId must be a string');
  return id;
}

export function invalidParams(message: string): ProtocolError {
  return new ProtocolError(RpcError.InvalidParams.code, message);
}

/** Unknown, expired and foreign task ids all get this one answer, so none leaks. */
export function taskNotFound(): ProtocolError {
  return invalidParams('Task not found');
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

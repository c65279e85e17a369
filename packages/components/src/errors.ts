/**
 * Local errors of the component API (definition mistakes, bad pack modules): they never
 * cross the wire. `ToolError` (a handler's deliberate failure, shown to the model as an
 * `isError` result) is the engine's, re-exported from `@mcp-cluster/server`.
 */
import { CodedError } from '@mcp-cluster/protocol';

export type ComponentErrorCode =
  | 'INVALID_DEFINITION'
  | 'INVALID_SCHEMA'
  | 'INVALID_URI_TEMPLATE'
  | 'PACK_NOT_FOUND'
  | 'PACK_LOAD_FAILED'
  | 'PACK_INVALID';

/** A local error: a component or pack is defined or loaded wrongly. Never serialized. */
export class ComponentError extends CodedError<ComponentErrorCode> {
  override readonly name = 'ComponentError';
}

/**
 * Local errors of the component API (definition mistakes, bad pack modules): they never
 * cross the wire. `ToolError` (a handler's deliberate failure, shown to the model as an
 * `isError` result) is the engine's, re-exported from `@mcp-cluster/server`.
 */

export type ComponentErrorCode =
  | 'INVALID_DEFINITION'
  | 'INVALID_SCHEMA'
  | 'INVALID_URI_TEMPLATE'
  | 'PACK_NOT_FOUND'
  | 'PACK_LOAD_FAILED'
  | 'PACK_INVALID';

/** A local error: a component or pack is defined or loaded wrongly. Never serialized. */
export class ComponentError extends Error {
  override readonly name = 'ComponentError';
  readonly code: ComponentErrorCode;

  constructor(code: ComponentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

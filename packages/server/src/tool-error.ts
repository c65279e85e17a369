/**
 * A tool failure the model should see: thrown by a handler, it becomes a CallToolResult with
 * `isError: true` and the message as text (spec: tool errors are results, not JSON-RPC errors).
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

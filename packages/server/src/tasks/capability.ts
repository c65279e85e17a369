/** Per-request gating of the 2026-07-28 tasks extension. */
import { Extension, ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { ClientCapabilities } from '@mcp-cluster/protocol';

/**
 * True when this request's client capabilities declare `io.modelcontextprotocol/tasks`
 * (modern: gating looks at the current request's `_meta`, never at an earlier one).
 */
export function clientSupportsTasks(capabilities: ClientCapabilities): boolean {
  const ext = capabilities.extensions?.[Extension.Tasks];
  return typeof ext === 'object' && ext !== null;
}

/** Frozen because every rejection shares it; the wire only reads it. */
const REQUIRED_TASKS_CAPABILITY = Object.freeze({
  requiredCapabilities: Object.freeze({
    extensions: Object.freeze({ [Extension.Tasks]: Object.freeze({}) }),
  }),
});

/**
 * -32021 naming the tasks extension: for `tasks/*` without the extension, and for a
 * task-required tool called by a client that did not declare it.
 */
export function missingTasksCapability(): ProtocolError {
  return new ProtocolError(
    RpcError.MissingCapability.code,
    RpcError.MissingCapability.message,
    REQUIRED_TASKS_CAPABILITY,
  );
}

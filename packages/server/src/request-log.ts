/**
 * What the engine reports to an operator's log: unexpected handler failures (with the stack
 * and the component involved) and, at debug, one line per answered request. Never params,
 * arguments or credentials: only the method, the id, the component's name and the outcome.
 */
import type { JsonRpcRequest, JsonRpcResponse } from '@mcp-cluster/protocol';
import type { RequestContext } from './context.js';

/** One answered request, as `EngineOptions.onRequest` sees it. */
export interface RequestSummary {
  readonly method: string;
  readonly id: JsonRpcRequest['id'];
  readonly era: RequestContext['era'];
  readonly principal: string;
  readonly durationMs: number;
  /** `ok`, `tool_error` (an isError tool result) or the JSON-RPC error code. */
  readonly outcome: 'ok' | 'tool_error' | number;
}

/** The log an engine reports to; `fields` are plain JSON values. */
export interface EngineLog {
  error(msg: string, fields: Record<string, unknown>): void;
  debug(msg: string, fields: Record<string, unknown>): void;
}

/** Which tool (and task), prompt or resource a request names (its name or uri), if any. */
export function componentOf(request: JsonRpcRequest): Record<string, string> {
  const params = request.params;
  if (params === undefined) return {};
  const name = params['name'];
  const uri = params['uri'];
  switch (request.method) {
    case 'tools/call': {
      const task = params['task'];
      if (typeof name !== 'string') return {};
      return typeof task === 'string' ? { tool: name, task } : { tool: name };
    }
    case 'prompts/get':
      return typeof name === 'string' ? { prompt: name } : {};
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return typeof uri === 'string' ? { resource: uri } : {};
    default:
      return {};
  }
}

/** An error as log fields: name, message, stack (and a cause's message, one level). */
export function errorLogFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { err: { message: String(err) } };
  const cause = err.cause instanceof Error ? { cause: `${err.name}: ${err.cause.message}` } : {};
  return { err: { name: err.name, message: err.message, stack: err.stack, ...cause } };
}

/** The outcome of a response for the per-request line. */
export function outcomeOf(response: JsonRpcResponse): RequestSummary['outcome'] {
  if ('error' in response && response.error !== undefined) return response.error.code;
  const result = (response as { result?: unknown }).result;
  return typeof result === 'object' &&
    result !== null &&
    (result as { isError?: unknown }).isError === true
    ? 'tool_error'
    : 'ok';
}

/**
 * `onError` and `onRequest` for createEngine over `log`: a handler that throws anything but a
 * ToolError or protocol error is logged at error level with its stack, the component, the
 * method and the request id; every answered request is one debug line.
 */
export function engineLogHooks(log: EngineLog): {
  onError: (err: unknown, request: JsonRpcRequest, ctx: RequestContext) => void;
  onRequest: (summary: RequestSummary, request: JsonRpcRequest) => void;
} {
  return {
    onError: (err, request, ctx) =>
      log.error('handler failed', {
        method: request.method,
        id: request.id,
        ...componentOf(request),
        era: ctx.era,
        principal: ctx.principal.id,
        ...errorLogFields(err),
      }),
    onRequest: (summary, request) => log.debug('request', { ...summary, ...componentOf(request) }),
  };
}

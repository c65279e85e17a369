/**
 * What the worker's dispatch path does at the HTTP level, shared by the two servers of
 * http-server.ts so they differ only in the HTTP layer: the envelope headers it reads, the
 * body bound, and the work on the body text (JSON.parse, a small JSON-RPC result).
 */

export const DISPATCH_BENCH_PATH = '/dispatch';
/** The worker's default body limit (DEFAULT_BODY_LIMIT_BYTES in @mcp-cluster/config). */
export const DISPATCH_BENCH_BODY_LIMIT = 4 * 1024 * 1024;
export const DISPATCH_BENCH_JSON_TYPE = 'application/json; charset=utf-8';
/** The text the answer carries, so the load generator can check each response. */
export const DISPATCH_BENCH_TEXT = 'hello-bench';

/** The twelve headers a signed dispatch carries: the envelope, the signature, nonce, time. */
export const DISPATCH_BENCH_HEADERS = [
  'x-mcp-cluster-principal',
  'x-mcp-cluster-session-id',
  'x-mcp-cluster-protocol-version',
  'x-mcp-cluster-era',
  'x-mcp-cluster-client-capabilities',
  'x-mcp-cluster-traceparent',
  'x-mcp-cluster-tracestate',
  'x-mcp-cluster-deadline',
  'x-mcp-cluster-gateway-id',
  'x-mcp-cluster-signature',
  'x-mcp-cluster-nonce',
  'x-mcp-cluster-issued-at',
] as const;

/**
 * The answer text for one dispatch, or undefined (a 400) when a header is missing or the
 * body is not a JSON-RPC request. Every header is read and measured, like the envelope
 * decoder and the signature check do, so neither server can skip the reads.
 */
export function answerDispatch(
  text: string,
  header: (name: string) => string | undefined,
): string | undefined {
  let headerChars = 0;
  for (const name of DISPATCH_BENCH_HEADERS) {
    const value = header(name);
    if (value === undefined) return undefined;
    headerChars += value.length;
  }
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || !('id' in message)) return undefined;
  return JSON.stringify({
    jsonrpc: '2.0',
    id: message.id,
    result: {
      content: [{ type: 'text', text: DISPATCH_BENCH_TEXT }],
      structuredContent: { headerChars },
    },
  });
}

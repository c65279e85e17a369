/**
 * What the transports read from the node's configuration. `@mcp-cluster/config`'s Config
 * satisfies it; tests pass literals.
 */
export interface TransportSettings {
  /** Streamable HTTP endpoint, e.g. "/mcp". */
  readonly path: string;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly bodyLimitBytes: number;
  readonly maxJsonDepth: number;
  /** Longest JSON string (key or value) in a message, in characters. */
  readonly maxStringLength: number;
  /** Most messages in one JSON-RPC batch; a longer one is refused whole (-32600). */
  readonly maxBatchLength: number;
  /** `retry:` on SSE streams of sessions at >= 2025-11-25. */
  readonly sseRetryMs: number;
  /** Events kept per SSE stream for Last-Event-ID replay. */
  readonly maxEventLog: number;
  /** Keep-alive comment interval on long-lived SSE streams. */
  readonly keepAliveMs: number;
}

/** The parser's limits from the settings. */
export function parseLimits(s: TransportSettings): { maxDepth: number; maxStringLength: number } {
  return { maxDepth: s.maxJsonDepth, maxStringLength: s.maxStringLength };
}

/** Loopback-only defaults (the values `@mcp-cluster/config` documents). */
export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = Object.freeze({
  path: '/mcp',
  allowedHosts: Object.freeze(['localhost', '127.0.0.1', '[::1]']),
  allowedOrigins: Object.freeze(['localhost', '127.0.0.1', '[::1]']),
  bodyLimitBytes: 4 * 1024 * 1024,
  maxJsonDepth: 64,
  maxStringLength: 1024 * 1024,
  maxBatchLength: 100,
  sseRetryMs: 5000,
  maxEventLog: 256,
  keepAliveMs: 15_000,
});

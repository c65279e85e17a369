/**
 * Raw Streamable HTTP helpers for tests that must see statuses, headers and every frame:
 * modern-wire request builders and a reader for JSON, SSE and newline-delimited JSON bodies.
 */
import { parseSseEvent } from './sse.js';

export const MODERN_VERSION = '2026-07-28';

/**
 * The `_meta` keys of a modern request, spelled as on the wire rather than taken from
 * @mcp-cluster/protocol: this package depends on no workspace package, so that each of them
 * can test with it.
 */
const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
} as const;

export const DEFAULT_CLIENT_INFO = { name: 'mcp-cluster-tests', version: '1.0.0' } as const;
export const DEFAULT_CLIENT_CAPABILITIES = {
  sampling: {},
  elicitation: {},
  roots: { listChanged: true },
} as const;

export interface ModernRequestOptions {
  readonly id?: string | number;
  readonly capabilities?: Record<string, unknown>;
  /** Extra `_meta` keys (progressToken, logLevel, ...). */
  readonly meta?: Record<string, unknown>;
  /** Header overrides; a `null` value removes a default header. */
  readonly headers?: Record<string, string | null>;
}

/** Methods whose `Mcp-Name` header mirrors a body field (SEP-2243). */
const NAME_FIELD: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

let nextId = 1;

/** A modern (2026-07-28) request body and the headers a conformant client sends with it. */
export function modernRequest(
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): { body: Record<string, unknown>; headers: Record<string, string> } {
  const id = options.id ?? nextId++;
  const body = {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        [META.protocolVersion]: MODERN_VERSION,
        [META.clientInfo]: DEFAULT_CLIENT_INFO,
        [META.clientCapabilities]: options.capabilities ?? DEFAULT_CLIENT_CAPABILITIES,
        ...options.meta,
      },
    },
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
  };
  const nameField = NAME_FIELD[method];
  const nameValue = nameField === undefined ? undefined : params[nameField];
  if (typeof nameValue === 'string') headers['mcp-name'] = nameValue;
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  return { body, headers };
}

export interface McpHttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  /** JSON-RPC messages of the body: one for JSON, each `data:` event for SSE. */
  readonly messages: unknown[];
  /** The raw body text (as far as it was read). */
  readonly text: string;
}

export interface ReadOptions {
  /** Stop reading (and cancel the body) once a message satisfies this. */
  readonly until?: (message: unknown) => boolean;
  /** Called for every message as soon as its frame is parsed. */
  readonly onMessage?: (message: unknown) => void;
}

/** Splits complete frames off `buffer`: SSE events (blank-line separated) or NDJSON lines. */
function takeFrames(buffer: string, sse: boolean): { frames: string[]; rest: string } {
  const normalized = buffer.replace(/\r\n/g, '\n');
  const sep = sse ? '\n\n' : '\n';
  const parts = normalized.split(sep);
  const rest = parts.pop() ?? '';
  return { frames: parts, rest };
}

function parseFrame(frame: string, sse: boolean): unknown {
  if (!sse) return frame.trim() === '' ? undefined : (JSON.parse(frame) as unknown);
  // A priming event (SEP-1699) has an id and empty data, a keep-alive no fields: no message.
  const text = parseSseEvent(frame)?.data ?? '';
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}

/**
 * Reads a response body incrementally. A JSON body (`application/json` that is one value)
 * yields one message; SSE yields one per event with data; NDJSON one per line.
 */
export async function readMcpResponse(
  response: Response,
  options: ReadOptions = {},
): Promise<McpHttpResponse> {
  const contentType = response.headers.get('content-type') ?? '';
  const sse = contentType.includes('text/event-stream');
  const messages: unknown[] = [];
  let text = '';
  const accept = (m: unknown): boolean => {
    if (m === undefined) return false;
    messages.push(m);
    options.onMessage?.(m);
    return options.until?.(m) ?? false;
  };
  if (!response.body) {
    return { status: response.status, headers: response.headers, contentType, messages, text };
  }
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = '';
  let stopped = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      text += chunk;
      buffer += chunk;
      // A plain JSON body is parsed whole at the end; only streams are split as they arrive.
      if (!sse && !options.until) continue;
      const { frames, rest } = takeFrames(buffer, sse);
      buffer = rest;
      for (const f of frames) {
        if (accept(parseFrame(f, sse))) stopped = true;
      }
      if (stopped) break;
    }
  } finally {
    if (stopped) await reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
  if (!stopped) {
    const tail = buffer + decoder.decode();
    if (sse) {
      for (const f of takeFrames(tail + '\n\n', true).frames) accept(parseFrame(f, true));
    } else if (tail.trim() !== '') {
      // One JSON value, or several lines of NDJSON.
      try {
        accept(JSON.parse(tail) as unknown);
      } catch {
        for (const line of tail.split('\n')) accept(parseFrame(line, false));
      }
    }
  }
  return { status: response.status, headers: response.headers, contentType, messages, text };
}

/** POSTs a body (object, array or raw string) and reads the whole answer. */
export async function postMcp(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  options: ReadOptions & { signal?: AbortSignal } = {},
): Promise<McpHttpResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return readMcpResponse(response, options);
}

/** The JSON-RPC response (a message with `id` and `result` or `error`) among `messages`. */
export function findResponse(
  messages: readonly unknown[],
  id?: string | number,
): Record<string, unknown> | undefined {
  for (const m of messages) {
    if (typeof m !== 'object' || m === null || 'method' in m) continue;
    const r = m as Record<string, unknown>;
    if (('result' in r || 'error' in r) && (id === undefined || r.id === id)) return r;
  }
  return undefined;
}

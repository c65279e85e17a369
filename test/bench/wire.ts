/**
 * What goes on the wire: the exact headers and bodies of each kind of request, and how an
 * answer is read back (JSON or SSE) and checked. Under load every request carries a fresh
 * JSON-RPC id (ids must not repeat within a legacy session).
 */
export const MODERN_VERSION = '2026-07-28';
export const LEGACY_VERSION = '2025-11-25';
export const TOOL = 'echo';
export const ECHO_TEXT = 'hello-bench';
/** Stands for the JSON-RPC id in a body template; load.ts puts a fresh id in its place. */
export const ID_PLACEHOLDER = '[<id>]';

const ACCEPT = 'application/json, text/event-stream';

/** One request as the load generator sends it. */
export interface RequestSpec {
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text whose `id` is a string to substitute (the placeholder under load). */
  body(id: string): string;
}

function toolCall(id: string, meta: boolean): string {
  const params: Record<string, unknown> = { name: TOOL, arguments: { text: ECHO_TEXT } };
  if (meta) {
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
      'io.modelcontextprotocol/clientCapabilities': {},
    };
  }
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
}

/** (a), (d): a 2026-07-28 request, no session. */
export const modernCall: RequestSpec = {
  headers: {
    'content-type': 'application/json',
    accept: ACCEPT,
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': 'tools/call',
    'mcp-name': TOOL,
  },
  body: (id) => toolCall(id, true),
};

/** (b): a legacy request inside an initialized session. */
export function legacySessionCall(sessionId: string): RequestSpec {
  return {
    headers: {
      'content-type': 'application/json',
      accept: ACCEPT,
      'mcp-protocol-version': LEGACY_VERSION,
      'mcp-session-id': sessionId,
    },
    body: (id) => toolCall(id, false),
  };
}

/** (c): a legacy request to a stateless server (no session id). */
export const statelessCall: RequestSpec = {
  headers: {
    'content-type': 'application/json',
    accept: ACCEPT,
    'mcp-protocol-version': LEGACY_VERSION,
  },
  body: (id) => toolCall(id, false),
};

/** (e): the same tools/call body, echoed back by a bare route. */
export const echoCall: RequestSpec = {
  headers: { 'content-type': 'application/json' },
  body: (id) => toolCall(id, false),
};

export function initializeBody(id: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-cluster-bench', version: '0.1.0' },
    },
  });
}

export const INITIALIZED_BODY = JSON.stringify({
  jsonrpc: '2.0',
  method: 'notifications/initialized',
});

export const INITIALIZE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  accept: ACCEPT,
};

/** The JSON messages of a response body: one JSON value, or the `data:` of SSE events. */
export function messagesOf(contentType: string | null, text: string): unknown[] {
  if (contentType?.startsWith('text/event-stream') === true) {
    const out: unknown[] = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data !== '') out.push(JSON.parse(data));
    }
    return out;
  }
  return text === '' ? [] : [JSON.parse(text)];
}

/** Why the answer to tools/call `id` is not the echo result, or undefined when it is. */
export function checkEchoResult(messages: readonly unknown[], id: string): string | undefined {
  const response = messages.find(
    (m): m is Record<string, unknown> =>
      typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id,
  );
  if (response === undefined) return `no response with id ${id} in ${JSON.stringify(messages)}`;
  const result = response.result as
    { content?: { type?: string; text?: string }[]; isError?: boolean } | undefined;
  if (result === undefined) return `not a result: ${JSON.stringify(response)}`;
  if (result.isError === true) return `isError result: ${JSON.stringify(result)}`;
  const first = result.content?.[0];
  if (first?.type !== 'text' || first.text !== ECHO_TEXT) {
    return `unexpected content: ${JSON.stringify(result.content)}`;
  }
  return undefined;
}

/** Cheap per-response check under load (a full parse would load the generator). */
export function looksLikeEcho(body: string): boolean {
  return (
    body.includes(`"text":"${ECHO_TEXT}"`) &&
    !body.includes('"isError":true') &&
    !body.includes('"error":')
  );
}

/**
 * A legacy (2025-11-25) Streamable HTTP session driven with plain fetch, for tests that need
 * the session id, statuses and every message of an answer (JSON or SSE).
 */
import {
  findResponse,
  modernRequest,
  postMcp,
  type McpHttpResponse,
} from '../../../../packages/testkit/src/http.js';
import { LEGACY_VERSION, within } from './cluster.js';

/** Bound on one HTTP exchange with a gateway. */
export const STEP_TIMEOUT_MS = 15_000;

export interface Exchange {
  readonly status: number;
  /** The JSON-RPC response of the request (undefined for a failure without one). */
  readonly response: Record<string, unknown> | undefined;
  readonly all: McpHttpResponse;
}

let nextId = 1;

export class LegacySession {
  private constructor(
    readonly url: string,
    readonly id: string,
  ) {}

  /** initialize + notifications/initialized; throws with the answer when either fails. */
  static async open(
    url: string,
    capabilities: Record<string, unknown> = { sampling: {} },
  ): Promise<LegacySession> {
    const init = await within(
      STEP_TIMEOUT_MS,
      'initialize',
      postMcp(url, {
        jsonrpc: '2.0',
        id: nextId++,
        method: 'initialize',
        params: {
          protocolVersion: LEGACY_VERSION,
          capabilities,
          clientInfo: { name: 'gateway-test', version: '1.0.0' },
        },
      }),
    );
    const id = init.headers.get('mcp-session-id');
    if (init.status !== 200 || id === null) {
      throw new Error(`initialize failed (${init.status}): ${init.text.slice(0, 500)}`);
    }
    const session = new LegacySession(url, id);
    const ack = await session.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`notifications/initialized: ${ack.status}`);
    return session;
  }

  headers(): Record<string, string> {
    return { 'mcp-session-id': this.id, 'mcp-protocol-version': LEGACY_VERSION };
  }

  /** POSTs one message and reads the whole answer. */
  send(body: unknown): Promise<McpHttpResponse> {
    return within(STEP_TIMEOUT_MS, 'legacy POST', postMcp(this.url, body, this.headers()));
  }

  async request(method: string, params: Record<string, unknown> = {}): Promise<Exchange> {
    const id = nextId++;
    const all = await this.send({ jsonrpc: '2.0', id, method, params });
    return { status: all.status, response: findResponse(all.messages, id), all };
  }

  /** A request that must succeed: its result. */
  async call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const { status, response, all } = await this.request(method, params);
    if (response === undefined || 'error' in response) {
      throw new Error(`${method}: ${status} ${all.text.slice(0, 500)}`);
    }
    return response['result'];
  }

  /** DELETE: ends the session. */
  async end(): Promise<number> {
    const res = await fetch(this.url, {
      method: 'DELETE',
      headers: this.headers(),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.status;
  }
}

/** A modern (2026-07-28) request through a gateway: status, response and the whole answer. */
export async function modernCall(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
): Promise<Exchange> {
  const { body, headers } = modernRequest(method, params);
  const all = await within(STEP_TIMEOUT_MS, `modern ${method}`, postMcp(url, body, headers));
  return {
    status: all.status,
    response: findResponse(all.messages, body['id'] as string | number),
    all,
  };
}

/**
 * Test-only helpers: hand-made component specs and an in-memory "transport" that records
 * every message the engine writes. Not exported from the package.
 */
import { LATEST_MODERN_VERSION } from '@mcp-cluster/protocol';
import type {
  ClientCapabilities,
  JsonObject,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcResponse,
  LoggingLevel,
  RequestId,
} from '@mcp-cluster/protocol';
import type { Engine, LegacySession } from './api.js';
import type {
  PromptSpec,
  ResourceSpec,
  ResourceTemplateSpec,
  ToolReturn,
  ToolSpec,
} from './components.js';
import type { HandlerContext } from './context.js';
import { legacyRequestContext, modernOutbound, modernRequestContext } from './request-context.js';

export function tool(
  name: string,
  run: (args: unknown, ctx: HandlerContext, prepared?: unknown) => ToolReturn | Promise<ToolReturn>,
  extra: Partial<Omit<ToolSpec, 'kind' | 'run'>> = {},
): ToolSpec {
  return {
    kind: 'tool',
    descriptor: {
      name,
      description: `${name} tool`,
      inputSchema: { type: 'object', properties: {} },
    },
    validateInput: (args) => ({ ok: true, value: args }),
    taskSupport: 'forbidden',
    run,
    ...extra,
  };
}

export function resource(uri: string, text: string, mimeType = 'text/plain'): ResourceSpec {
  return {
    kind: 'resource',
    descriptor: { uri, name: uri, mimeType },
    read: () => text,
  };
}

export function template(
  uriTemplate: string,
  re: RegExp,
  read: ResourceTemplateSpec['read'],
  extra: Partial<ResourceTemplateSpec> = {},
): ResourceTemplateSpec {
  return {
    kind: 'resourceTemplate',
    descriptor: { uriTemplate, name: uriTemplate, mimeType: 'application/json' },
    match: (uri) => {
      const m = re.exec(uri);
      return m === null ? undefined : { ...m.groups };
    },
    read,
    ...extra,
  };
}

export function prompt(
  name: string,
  get: PromptSpec['get'],
  required: readonly string[] = [],
  extra: Partial<PromptSpec> = {},
): PromptSpec {
  return {
    kind: 'prompt',
    descriptor: {
      name,
      description: `${name} prompt`,
      arguments: required.map((n) => ({ name: n, required: true })),
    },
    validateArguments: (args) => {
      const a = args as Record<string, unknown>;
      const missing = required.filter((n) => typeof a[n] !== 'string');
      return missing.length === 0
        ? { ok: true, value: a as Record<string, string> }
        : { ok: false, issues: missing.map((n) => `${n} is required`) };
    },
    get,
    ...extra,
  };
}

/** A legacy client on one session: records what the engine writes to its streams. */
export class LegacyClient {
  readonly stream: JsonRpcMessage[] = [];
  readonly standalone: JsonRpcMessage[] = [];
  /** Answers server->client requests; default: reject with -32601. */
  onRequest: (method: string, params: JsonObject | undefined) => JsonObject | undefined = () =>
    undefined;
  private seq = 0;

  constructor(
    readonly engine: Engine,
    readonly session: LegacySession,
  ) {
    session.attach((m) => {
      this.standalone.push(m);
    });
  }

  static async connect(
    engine: Engine,
    capabilities: ClientCapabilities = { sampling: {}, elicitation: {} },
    protocolVersion = '2025-11-25',
  ): Promise<LegacyClient> {
    const client = new LegacyClient(engine, engine.sessions.create());
    const res = await client.request('initialize', {
      protocolVersion,
      capabilities,
      clientInfo: { name: 'test', version: '1.0.0' },
    });
    if ('error' in res) throw new Error(`initialize failed: ${res.error.message}`);
    await client.notify('notifications/initialized');
    return client;
  }

  request(
    method: string,
    params?: JsonObject,
    opts: { id?: RequestId; signal?: AbortSignal } = {},
  ): Promise<JsonRpcResponse> {
    const id = opts.id ?? ++this.seq;
    const sink = (m: JsonRpcMessage): void => {
      this.stream.push(m);
      if ('method' in m && 'id' in m) {
        const answer = this.onRequest(m.method, m.params);
        queueMicrotask(() => {
          this.session.deliverResponse(
            answer === undefined
              ? { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'nope' } }
              : { jsonrpc: '2.0', id: m.id, result: answer },
          );
        });
      }
    };
    const ctx = legacyRequestContext(
      this.session,
      id,
      opts.signal ?? new AbortController().signal,
      this.session.outbound(sink),
    );
    return this.engine.handleRequest(
      params === undefined
        ? { jsonrpc: '2.0', id, method }
        : { jsonrpc: '2.0', id, method, params },
      ctx,
    );
  }

  notify(method: string, params?: JsonObject): Promise<void> {
    const ctx = legacyRequestContext(this.session, 0, new AbortController().signal, {
      notify: () => undefined,
      request: () => Promise.reject(new Error('no')),
    });
    return this.engine.handleNotification(
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params },
      ctx,
    );
  }
}

export const MODERN_CAPS: ClientCapabilities = {
  sampling: {},
  elicitation: {},
  roots: { listChanged: true },
};

/** One modern request; returns the response and the notifications written to its stream. */
export async function modern(
  engine: Engine,
  method: string,
  params: JsonObject = {},
  opts: {
    id?: RequestId;
    caps?: ClientCapabilities;
    logLevel?: LoggingLevel;
    signal?: AbortSignal;
    onNotify?: (n: JsonRpcNotification) => void;
  } = {},
): Promise<{ response: JsonRpcResponse; notes: JsonRpcNotification[] }> {
  const notes: JsonRpcNotification[] = [];
  const caps = opts.caps ?? MODERN_CAPS;
  const meta: JsonObject = {
    'io.modelcontextprotocol/protocolVersion': LATEST_MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': caps,
  };
  const given = params['_meta'];
  const fullParams: JsonObject = {
    ...params,
    _meta: typeof given === 'object' && given !== null ? { ...meta, ...given } : meta,
  };
  const id = opts.id ?? 1;
  const ctx = modernRequestContext(
    {
      protocolVersion: LATEST_MODERN_VERSION,
      clientCapabilities: caps,
      ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
    },
    id,
    opts.signal ?? new AbortController().signal,
    modernOutbound((n) => {
      notes.push(n);
      opts.onNotify?.(n);
    }),
  );
  const response = await engine.handleRequest(
    { jsonrpc: '2.0', id, method, params: fullParams },
    ctx,
  );
  return { response, notes };
}

/** The result of a success response, or a thrown error naming the JSON-RPC error. */
export function resultOf(res: JsonRpcResponse): JsonObject {
  if ('error' in res) throw new Error(`expected a result, got error ${JSON.stringify(res.error)}`);
  return res.result;
}

export function errorOf(res: JsonRpcResponse): { code: number; message: string; data?: unknown } {
  if (!('error' in res)) throw new Error(`expected an error, got ${JSON.stringify(res.result)}`);
  return res.error;
}

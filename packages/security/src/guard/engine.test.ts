import { RpcError } from '@mcp-cluster/protocol';
import type {
  JsonObject,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '@mcp-cluster/protocol';
import { ANONYMOUS, modernOutbound, modernRequestContext } from '@mcp-cluster/server';
import type {
  Engine,
  Middleware,
  Principal,
  RequestContext,
  Stage,
  TaskJob,
  TaskRun,
} from '@mcp-cluster/server';
import { describe, expect, it, vi } from 'vitest';
import { createAuthorizer } from '../authz/authorizer.js';
import { MemoryRateLimiter } from '../stores/memory.js';
import type { RateLimiter } from '../stores/types.js';
import type { AuditEvent } from './audit.js';
import { GuardedEngine, guardEngine } from './engine.js';
import type { EngineGuardOptions, GuardVerifier } from './engine.js';

/** An Engine that records what reaches it and answers each method with a canned result. */
class FakeEngine implements Engine {
  readonly requests: JsonRpcRequest[] = [];
  readonly calls: unknown[][] = [];
  readonly sessions = { size: 0 } as unknown as Engine['sessions'];
  readonly serverInfo = { name: 'fake', version: '1.0.0' };
  readonly capabilities = { tools: {} };
  readonly registry = {} as Engine['registry'];
  readonly changes = {} as Engine['changes'];
  readonly run: TaskRun = () => Promise.resolve({ content: [] });

  constructor(private readonly results: Readonly<Record<string, JsonObject>> = {}) {}

  handleRequest(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    this.requests.push(request);
    const result = this.results[request.method];
    return Promise.resolve(
      result === undefined
        ? { jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'nope' } }
        : { jsonrpc: '2.0', id: request.id, result },
    );
  }
  handleNotification(n: JsonRpcNotification, ctx: RequestContext): Promise<void> {
    this.calls.push(['handleNotification', n, ctx]);
    return Promise.resolve();
  }
  toolDescriptor(name: string): ReturnType<Engine['toolDescriptor']> {
    this.calls.push(['toolDescriptor', name]);
    return { name, inputSchema: { type: 'object' } };
  }
  taskRun(job: TaskJob, ctx: RequestContext): TaskRun | undefined {
    this.calls.push(['taskRun', job, ctx]);
    return this.run;
  }
  use(stage: Stage, middleware: Middleware): void {
    this.calls.push(['use', stage, middleware]);
  }
  close(): Promise<void> {
    this.calls.push(['close']);
    return Promise.resolve();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const alice: Principal = { id: 'alice', kind: 'user', roles: ['reader'] };
const bob: Principal = { id: 'bob', kind: 'user', roles: ['reader'] };
const admin: Principal = { id: 'root', kind: 'service', roles: ['admin'] };
const tokenUser: Principal = {
  id: 'carol',
  kind: 'user',
  roles: ['reader'],
  claims: { iss: 'https://issuer.example', sub: 'carol' },
};

function ctxOf(principal: Principal = ANONYMOUS): RequestContext {
  const meta = { protocolVersion: '2026-07-28', clientCapabilities: {} };
  const caller = { principal, remoteAddress: '192.0.2.1' };
  return modernRequestContext(
    meta,
    1,
    new AbortController().signal,
    modernOutbound(vi.fn()),
    caller,
  );
}

let nextId = 1;
const req = (method: string, params?: JsonObject): JsonRpcRequest =>
  params === undefined
    ? { jsonrpc: '2.0', id: nextId++, method }
    : { jsonrpc: '2.0', id: nextId++, method, params };
const call = (name: string): JsonRpcRequest => req('tools/call', { name, arguments: {} });
const read = (uri: string): JsonRpcRequest => req('resources/read', { uri });

const authorizer = () =>
  createAuthorizer({
    roles: { reader: ['tools:call:echo', 'resources:read:docs://**'], admin: ['*'] },
  });

const CALL_RESULT = { content: [{ type: 'text', text: 'ok' }] };
const READ_RESULT = { contents: [] };

function setup(options: Omit<EngineGuardOptions, 'audit' | 'onError'>) {
  const inner = new FakeEngine({
    'tools/call': CALL_RESULT,
    'resources/read': READ_RESULT,
    'tools/list': {
      tools: [
        { name: 'echo', inputSchema: { type: 'object' } },
        { name: 'delete_db', inputSchema: { type: 'object' } },
      ],
      nextCursor: 'page-2',
    },
  });
  const events: AuditEvent[] = [];
  const onError = vi.fn();
  const engine = guardEngine(inner, { ...options, audit: (e) => events.push(e), onError });
  return { inner, engine, events, onError };
}

function errorOf(response: JsonRpcResponse): { code: number; message: string; data?: unknown } {
  if (!('error' in response)) throw new Error('expected an error response');
  return response.error;
}

describe('guardEngine', () => {
  it('returns the engine itself when no check is configured', () => {
    const inner = new FakeEngine();
    expect(guardEngine(inner, {})).toBe(inner);
    const noChecks = { resourceMetadataUrl: 'https://h/x', audit: vi.fn(), onError: vi.fn() };
    expect(guardEngine(inner, noChecks)).toBe(inner);
    expect(guardEngine(inner, { authorizer: authorizer() })).toBeInstanceOf(GuardedEngine);
  });
});

describe('GuardedEngine: authorization', () => {
  it('refuses a denied request with -32014 and data.permission; nothing reaches the engine', async () => {
    const { inner, engine, events } = setup({ authorizer: authorizer() });
    const request = call('delete_db');
    const response = await engine.handleRequest(request, ctxOf(alice));
    expect(response.id).toBe(request.id);
    const error = errorOf(response);
    expect(error.code).toBe(RpcError.Forbidden.code);
    expect(error.message).toMatch(/^Forbidden: /);
    expect(error.data).toEqual({ permission: 'tools:call:delete_db' });
    expect(inner.requests).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({
        event: 'forbidden',
        principal: 'alice',
        method: 'tools/call',
        permission: 'tools:call:delete_db',
        remoteAddress: '192.0.2.1',
      }),
    ]);
  });

  it('passes an allowed request through untouched', async () => {
    const { inner, engine } = setup({ authorizer: authorizer() });
    const request = call('echo');
    const response = await engine.handleRequest(request, ctxOf(alice));
    expect(response).toEqual({ jsonrpc: '2.0', id: request.id, result: CALL_RESULT });
    expect(inner.requests).toEqual([request]);
  });

  it('gives token principals an insufficient_scope step-up challenge', async () => {
    const metadata = 'https://h/.well-known/oauth-protected-resource/mcp';
    const { engine } = setup({ authorizer: authorizer(), resourceMetadataUrl: metadata });
    const error = errorOf(await engine.handleRequest(call('delete_db'), ctxOf(tokenUser)));
    expect(error.data).toEqual({
      permission: 'tools:call:delete_db',
      wwwAuthenticate: `Bearer error="insufficient_scope", scope="tools:call:delete_db", resource_metadata="${metadata}"`,
    });
    const { engine: bare } = setup({ authorizer: authorizer() });
    const plain = errorOf(await bare.handleRequest(call('delete_db'), ctxOf(tokenUser)));
    expect(plain.data).toEqual({
      permission: 'tools:call:delete_db',
      wwwAuthenticate: 'Bearer error="insufficient_scope", scope="tools:call:delete_db"',
    });
  });

  it('keeps the challenge header-safe whatever the tool name', async () => {
    const { engine } = setup({ authorizer: authorizer() });
    const name = 'dél\r\nX-Injected: 1\u0000"\u2028';
    const error = errorOf(await engine.handleRequest(call(name), ctxOf(tokenUser)));
    const www = (error.data as Record<string, string>)['wwwAuthenticate'] ?? '';
    expect(www).toMatch(/^[\x20-\x7e]+$/);
    // One well-formed quoted-string holds the whole name: its quote cannot end it early.
    const scope = /^Bearer error="insufficient_scope", scope="((?:[^"\\]|\\.)*)"$/.exec(www);
    expect(scope?.[1]).toContain('tools:call:d%C3%A9l');
    expect(scope?.[1]).toContain('\\"');
  });

  it('checks permissions on the canonical uri and passes that uri on', async () => {
    const authz = createAuthorizer({
      roles: { reader: ['resources:read:files://public/**'] },
    });
    const { inner, engine } = setup({ authorizer: authz });
    // Dot segments that stay below the root resolve: the permission sees where they lead.
    for (const [uri, canonical] of [
      ['files://public/a/../b', 'files://public/b'],
      ['files://public/a/%2E%2E/b', 'files://public/b'],
      ['files://public/./%62', 'files://public/b'],
    ] as const) {
      const response = await engine.handleRequest(read(uri), ctxOf(alice));
      expect({ uri, ok: 'result' in response }).toEqual({ uri, ok: true });
      expect(inner.requests.at(-1)?.params).toEqual({ uri: canonical });
    }
    // Resolved outside the permitted pattern: forbidden like any other uri there.
    const outside = errorOf(
      await engine.handleRequest(read('files://public/x/../../x'), ctxOf(alice)),
    );
    expect(outside.code).toBe(RpcError.InvalidParams.code);
    const secret = errorOf(
      await engine.handleRequest(read('files://public/a/../../secret/key'), ctxOf(alice)),
    );
    expect(secret.code).toBe(RpcError.InvalidParams.code);
    expect(inner.requests).toHaveLength(3);
  });

  it('refuses resource uris that have no canonical form (-32602), before anything runs', async () => {
    const { inner, engine, events } = setup({ authorizer: authorizer() });
    for (const uri of [
      'docs://a/../../b',
      'docs://a/%2e%2e/%2E%2E/b',
      'docs://../x',
      'docs://a/%252e%252e/b',
      'docs://a/%zz',
      'docs://a\\..\\b',
      './x',
      '../x',
    ]) {
      const error = errorOf(await engine.handleRequest(read(uri), ctxOf(admin)));
      expect({ uri, code: error.code }).toEqual({ uri, code: RpcError.InvalidParams.code });
      expect(error.message).toMatch(/^Invalid resource uri: /);
    }
    const listen = req('subscriptions/listen', {
      notifications: { resourceSubscriptions: ['docs://a', 'docs://a/../../secret'] },
    });
    expect(errorOf(await engine.handleRequest(listen, ctxOf(admin))).code).toBe(
      RpcError.InvalidParams.code,
    );
    expect(inner.requests).toEqual([]);
    expect(events).toHaveLength(9);
    expect(events.every((e) => e.event === 'forbidden' && e.principal === 'root')).toBe(true);
  });

  it('allows dots that are not whole segments', async () => {
    const { inner, engine } = setup({ authorizer: authorizer() });
    for (const uri of ['docs://a/file.v2.txt', 'docs://a/..hidden', 'docs://a/.well-known/x']) {
      const response = await engine.handleRequest(read(uri), ctxOf(alice));
      expect({ uri, response: 'result' in response }).toEqual({ uri, response: true });
    }
    expect(inner.requests).toHaveLength(3);
  });

  it('checks the read permission of every uri a listen stream subscribes to', async () => {
    const { inner, engine } = setup({ authorizer: authorizer() });
    const listen = (uris: string[]) =>
      req('subscriptions/listen', { notifications: { resourceSubscriptions: uris } });
    const error = errorOf(
      await engine.handleRequest(listen(['docs://a', 'secret://keys']), ctxOf(alice)),
    );
    expect(error.data).toEqual({ permission: 'resources:read:secret://keys' });
    expect(inner.requests).toEqual([]);
  });
});

describe('GuardedEngine: signatures and store faults', () => {
  const verifier = (verify: GuardVerifier['verify']): GuardVerifier => ({ verify });

  it('refuses a bad signature with -32013 before anything else', async () => {
    const verify = vi.fn<GuardVerifier['verify']>(() =>
      Promise.resolve({ ok: false, reason: 'signature mismatch' }),
    );
    const { inner, engine, events } = setup({
      verifier: verifier(verify),
      authorizer: authorizer(),
    });
    const request = call('delete_db');
    const error = errorOf(await engine.handleRequest(request, ctxOf(alice)));
    expect(error).toEqual({
      code: RpcError.Unauthorized.code,
      message: 'Unauthorized: signature mismatch',
    });
    expect(verify).toHaveBeenCalledWith({
      principal: alice,
      method: 'tools/call',
      params: request.params,
    });
    expect(inner.requests).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({
        event: 'bad_signature',
        principal: 'alice',
        reason: 'signature mismatch',
      }),
    ]);
  });

  it('passes a verified request on', async () => {
    const ok = verifier(() => Promise.resolve({ ok: true }));
    const { inner, engine } = setup({ verifier: ok });
    expect('result' in (await engine.handleRequest(call('anything'), ctxOf(alice)))).toBe(true);
    expect(inner.requests).toHaveLength(1);
  });

  it('fails closed with -32016 when the verifier throws', async () => {
    const fault = new Error('redis down');
    const { inner, engine, onError } = setup({
      verifier: verifier(() => Promise.reject(fault)),
    });
    const error = errorOf(await engine.handleRequest(call('echo'), ctxOf(alice)));
    expect(error).toEqual({
      code: RpcError.Unavailable.code,
      message: 'Security checks unavailable',
      data: { retryAfterMs: 1_000 },
    });
    expect(onError).toHaveBeenCalledWith(fault, 'security checks failed');
    expect(inner.requests).toEqual([]);
  });

  it('fails closed when the tool limiter throws', async () => {
    const broken: RateLimiter = { take: () => Promise.reject(new Error('redis down')) };
    const { inner, engine, onError } = setup({ toolLimiter: broken });
    const error = errorOf(await engine.handleRequest(call('echo'), ctxOf(alice)));
    expect(error.code).toBe(RpcError.Unavailable.code);
    expect(onError).toHaveBeenCalledOnce();
    expect(inner.requests).toEqual([]);
  });
});

describe('GuardedEngine: per-tool rate limit', () => {
  it('limits each principal and tool separately', async () => {
    const clock = { ms: 5_000 };
    const toolLimiter = new MemoryRateLimiter({
      capacity: 2,
      refillPerSecond: 4,
      now: () => clock.ms,
    });
    const { inner, engine, events } = setup({ toolLimiter });
    const run = async (p: Principal, tool: string) => engine.handleRequest(call(tool), ctxOf(p));
    expect('result' in (await run(alice, 'echo'))).toBe(true);
    expect('result' in (await run(alice, 'echo'))).toBe(true);
    const error = errorOf(await run(alice, 'echo'));
    expect(error).toEqual({
      code: RpcError.RateLimited.code,
      message: 'Rate limit exceeded',
      data: { retryAfterMs: 250 },
    });
    expect(events).toEqual([
      expect.objectContaining({ event: 'rate_limited', principal: 'alice', reason: 'tool echo' }),
    ]);
    expect('result' in (await run(alice, 'other'))).toBe(true);
    expect('result' in (await run(bob, 'echo'))).toBe(true);
    // Other methods take no token.
    expect('result' in (await engine.handleRequest(read('docs://a'), ctxOf(alice)))).toBe(true);
    expect(inner.requests).toHaveLength(5);
    clock.ms += 250;
    expect('result' in (await run(alice, 'echo'))).toBe(true);
  });
});

describe('GuardedEngine: lists and delegation', () => {
  it('filters list results through the authorizer, keeping other fields', async () => {
    const { engine } = setup({ authorizer: authorizer() });
    const request = req('tools/list');
    const response = await engine.handleRequest(request, ctxOf(alice));
    expect(response).toEqual({
      jsonrpc: '2.0',
      id: request.id,
      result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }], nextCursor: 'page-2' },
    });
    const all = await engine.handleRequest(req('tools/list'), ctxOf(admin));
    expect('result' in all && (all.result['tools'] as unknown[]).length).toBe(2);
  });

  it('returns other results and errors as the engine gave them', async () => {
    const { inner, engine } = setup({ authorizer: authorizer() });
    const spy = vi.spyOn(inner, 'handleRequest');
    const response = await engine.handleRequest(call('echo'), ctxOf(alice));
    expect(response).toBe(await spy.mock.results[0]?.value);
    const missing = await engine.handleRequest(req('prompts/list'), ctxOf(alice));
    expect(errorOf(missing)).toEqual({ code: -32601, message: 'nope' });
  });

  it('delegates the rest of what transports use to the engine', async () => {
    const inner = new FakeEngine();
    const engine = guardEngine(inner, { authorizer: authorizer() });
    expect(engine.sessions).toBe(inner.sessions);

    const ctx = ctxOf(alice);
    const note: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await engine.handleNotification(note, ctx);
    expect(engine.toolDescriptor('echo')).toEqual({
      name: 'echo',
      inputSchema: { type: 'object' },
    });
    expect(inner.calls).toEqual([
      ['handleNotification', note, ctx],
      ['toolDescriptor', 'echo'],
    ]);
  });
});

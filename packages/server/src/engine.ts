/**
 * createEngine: one engine for both protocol eras. Transports hand it decoded messages and a
 * RequestContext; it answers through the pipeline (validation, middleware, dispatch).
 */
import {
  ProtocolError,
  canonicalResourceParams,
  toWireError,
  validateParams,
} from '@mcp-cluster/protocol';
import type {
  JsonObject,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  Tool,
} from '@mcp-cluster/protocol';
import type { Engine, EngineOptions } from './api.js';
import { createMemoryChangeFeed } from './changes.js';
import type { ChangeFeed } from './changes.js';
import { DEFAULT_CLIENT_REQUEST_TIMEOUT_MS } from './client-requests.js';
import type { PackHost, PackStop } from './components.js';
import type { RequestContext } from './context.js';
import { EMPTY_PARAMS, plainContext, sessionOf } from './core.js';
import type { EngineCore, MethodHandler } from './core.js';
import { canonicalChange } from './handler-context.js';
import { ALWAYS_LEADER } from './leadership.js';
import {
  declareCapabilities,
  discoverHandler,
  initializeHandler,
  ping,
  setLevel,
} from './lifecycle.js';
import { InflightRequest } from './inflight.js';
import type { SignalSource } from './inflight.js';
import { abortSourceOf } from './request-context.js';
import { ListenStreams, fanOutToSessions } from './listen.js';
import { DEFAULT_STATE_TTL_MS, StateSigner } from './mrtr.js';
import { Pipeline } from './pipeline.js';
import { outcomeOf } from './request-log.js';
import type { Middleware, Stage } from './pipeline.js';
import { completeArgument, getPrompt, listPrompts } from './prompts.js';
import { MemoryRegistry } from './registry.js';
import {
  listResourceTemplates,
  listResources,
  readResource,
  subscribe,
  unsubscribe,
} from './resources.js';
import { DEFAULT_SESSION_IDLE_MS, MemorySessionManager } from './sessions.js';
import type { TaskHost, TaskJob, TaskRun } from './tasks/api.js';
import { createMemoryTaskHost } from './tasks/memory.js';
import { callTool, listTools, resumableTaskRun } from './tools.js';

/** Defaults of EngineOptions, written once. */
export const DEFAULT_ENGINE_OPTIONS = Object.freeze({
  sessionIdleMs: DEFAULT_SESSION_IDLE_MS,
  pageSize: 100,
  listTtlMs: 60_000,
  readTtlMs: 0,
  stateTtlMs: DEFAULT_STATE_TTL_MS,
  clientRequestTimeoutMs: DEFAULT_CLIENT_REQUEST_TIMEOUT_MS,
});

/** Legacy-only methods; 2026-07-28 removed them (-32601 / HTTP 404 on the modern wire). */
export const LEGACY_ONLY_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);
const MODERN_ONLY_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'subscriptions/listen',
]);

/** Whether `method` exists in `era` (the other era's methods are -32601). */
export function servedInEra(method: string, era: RequestContext['era']): boolean {
  return era === 'modern' ? !LEGACY_ONLY_METHODS.has(method) : !MODERN_ONLY_METHODS.has(method);
}

/**
 * `request` with every resource uri it names in canonical form (canonicalResourceParams),
 * the same object when nothing changes. Throws -32602 for a uri without one. A method the
 * era does not serve is left alone, so it still gets its -32601. The engine, the security
 * guard and the gateway all call this, so each sees the one form the handler will get.
 */
export function canonicalRequest(
  request: JsonRpcRequest,
  era: RequestContext['era'],
): JsonRpcRequest {
  if (!servedInEra(request.method, era)) return request;
  const params = canonicalResourceParams(request.method, request.params);
  return params === request.params ? request : { ...request, params };
}

/**
 * A request aborted by the client (notifications/cancelled, closed stream) resolves with a
 * -32010 error; the spec says no response is sent, so transports drop responses this matches.
 */
export function isCancelledResponse(response: JsonRpcResponse): boolean {
  return 'error' in response && response.error.code === -32010;
}

/** The engine createEngine builds: its sessions live in this process (workers adopt them). */
export interface LocalEngine extends Engine {
  readonly sessions: MemorySessionManager;
}

/**
 * The outcome of an abortable request: once aborted, whatever the handler did (returned, or
 * rejected because its signal fired) becomes RequestCancelled, which transports drop.
 */
async function settle(request: InflightRequest, run: Promise<JsonObject>): Promise<JsonObject> {
  let result: JsonObject;
  try {
    result = await run;
  } catch (err) {
    if (request.aborted) throw ProtocolError.of('RequestCancelled');
    throw err;
  }
  if (request.aborted) throw ProtocolError.of('RequestCancelled');
  return result;
}

export function createEngine(options: EngineOptions): LocalEngine {
  return new McpEngine(options);
}

class McpEngine implements Engine {
  readonly sessions: MemorySessionManager;
  readonly serverInfo: EngineOptions['serverInfo'];
  readonly capabilities: Engine['capabilities'];
  readonly registry: MemoryRegistry;
  readonly changes: ChangeFeed;
  private readonly core: EngineCore;
  private readonly pipeline: Pipeline;
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly listen = new ListenStreams();
  private readonly ownsFeed: boolean;
  private readonly unsubscribe: () => void;
  private readonly tasks: TaskHost | undefined;
  /** What the packs' `start` began (watchers), stopped on close. */
  private readonly packStops: PackStop[] = [];
  /** Requests without a session (modern, or legacy without one) in flight. */
  private readonly detached = new Set<InflightRequest>();
  private closed = false;

  constructor(private readonly options: EngineOptions) {
    const tasks = options.tasks === false ? undefined : (options.tasks ?? createMemoryTaskHost());
    this.tasks = tasks;
    this.serverInfo = options.serverInfo;
    this.ownsFeed = options.changes === undefined;
    this.changes = options.changes ?? createMemoryChangeFeed();
    this.sessions = new MemorySessionManager({
      idleMs: options.sessionIdleMs ?? DEFAULT_ENGINE_OPTIONS.sessionIdleMs,
      limits: {
        ...(options.maxSessionsPerPrincipal === undefined
          ? {}
          : { maxPerPrincipal: options.maxSessionsPerPrincipal }),
        ...(options.maxSessions === undefined ? {} : { maxTotal: options.maxSessions }),
      },
      clientRequestTimeoutMs:
        options.clientRequestTimeoutMs ?? DEFAULT_ENGINE_OPTIONS.clientRequestTimeoutMs,
      ...(options.clientRequestIdPrefix === undefined
        ? {}
        : { clientRequestIdPrefix: options.clientRequestIdPrefix }),
    });
    this.registry = new MemoryRegistry(options.packs, tasks !== undefined, (e) =>
      this.changes.publish(e),
    );
    const declared = declareCapabilities(options.packs, tasks !== undefined);
    this.capabilities = tasks !== undefined ? declared.legacyTasks : declared.legacy;
    const instructions = [options.instructions, ...options.packs.map((p) => p.instructions)]
      .filter((s): s is string => typeof s === 'string' && s.length > 0)
      .join('\n\n');
    const info = {
      capabilities: declared,
      serverInfo: options.serverInfo,
      instructions: instructions.length > 0 ? instructions : undefined,
      withTasks: tasks !== undefined,
    };
    const listTtlMs = options.listTtlMs ?? DEFAULT_ENGINE_OPTIONS.listTtlMs;
    this.core = {
      registry: this.registry,
      sessions: this.sessions,
      changes: this.changes,
      signer: new StateSigner(
        options.stateKeys,
        options.stateTtlMs ?? DEFAULT_ENGINE_OPTIONS.stateTtlMs,
      ),
      tasks,
      serverInfo: options.serverInfo,
      pageSize: options.pageSize ?? DEFAULT_ENGINE_OPTIONS.pageSize,
      listTtlMs,
      readTtlMs: options.readTtlMs ?? DEFAULT_ENGINE_OPTIONS.readTtlMs,
      sampler: options.sampler,
      reportError: (err, request, ctx) => this.reportError(err, request, ctx),
    };
    const h = this.handlers;
    h.set('initialize', initializeHandler(info));
    h.set('ping', ping);
    h.set('logging/setLevel', setLevel);
    h.set('server/discover', discoverHandler(info, listTtlMs));
    h.set('subscriptions/listen', this.listen.handler);
    h.set('tools/list', listTools);
    h.set('tools/call', callTool);
    h.set('resources/list', listResources);
    h.set('resources/templates/list', listResourceTemplates);
    h.set('resources/read', readResource);
    h.set('resources/subscribe', subscribe);
    h.set('resources/unsubscribe', unsubscribe);
    h.set('prompts/list', listPrompts);
    h.set('prompts/get', getPrompt);
    h.set('completion/complete', completeArgument);
    this.pipeline = new Pipeline(
      (req, ctx) => this.dispatch(req, ctx),
      options.validateParams ?? validateParams,
    );
    this.unsubscribe = this.changes.subscribe((event) => {
      this.listen.publish(event);
      fanOutToSessions(this.sessions, event);
    });
    const leadership = options.leadership ?? ALWAYS_LEADER;
    const host: PackHost = {
      emitChange: (e) => this.changes.publish(canonicalChange(e)),
      lead: (name, onLead) => leadership.lead(name, onLead),
    };
    for (const pack of options.packs) {
      const stop = pack.start?.(host);
      if (stop !== undefined) this.packStops.push(stop);
    }
  }

  async handleRequest(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse> {
    const onRequest = this.options.onRequest;
    if (onRequest === undefined) return this.answer(request, ctx);
    const started = performance.now();
    const response = await this.answer(request, ctx);
    try {
      onRequest(
        {
          method: request.method,
          id: request.id,
          era: ctx.era,
          principal: ctx.principal.id,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          outcome: outcomeOf(response),
        },
        request,
      );
    } catch {
      // A failing log must not fail the request.
    }
    return response;
  }

  private async answer(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse> {
    try {
      // Every resource uri in canonical form before any middleware or handler sees it.
      const result = await this.pipeline.run(canonicalRequest(request, ctx.era), ctx);
      return { jsonrpc: '2.0', id: request.id, result };
    } catch (err) {
      this.reportError(err, request, ctx);
      return { jsonrpc: '2.0', id: request.id, error: toWireError(err) };
    }
  }

  /** Hands an unexpected (non-protocol) failure to `onError`; a failing log fails nothing. */
  private reportError(err: unknown, request: JsonRpcRequest, ctx: RequestContext): void {
    if (err instanceof ProtocolError) return;
    try {
      this.options.onError?.(err, request, ctx);
    } catch {
      // A failing log must not fail the request.
    }
  }

  handleNotification(notification: JsonRpcNotification, ctx: RequestContext): Promise<void> {
    const session = sessionOf(this.core, ctx);
    if (session === undefined) return Promise.resolve();
    session.touch();
    switch (notification.method) {
      case 'notifications/initialized':
        if (session.initializeDone) session.state.initialized = true;
        break;
      case 'notifications/cancelled': {
        const id = notification.params?.['requestId'];
        const reason = notification.params?.['reason'];
        if (typeof id === 'string' || typeof id === 'number') {
          session.cancel(id, typeof reason === 'string' ? reason : undefined);
        }
        break;
      }
      default:
        // roots/list_changed and unknown notifications need no action here.
        break;
    }
    return Promise.resolve();
  }

  toolDescriptor(name: string): Tool | undefined {
    return this.registry.tool(name)?.descriptor;
  }

  taskRun(job: TaskJob, ctx: RequestContext): TaskRun | undefined {
    return resumableTaskRun(this.core, job, ctx);
  }

  use(stage: Stage, middleware: Middleware): void {
    this.pipeline.use(stage, middleware);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    await Promise.allSettled(this.packStops.map(async (stop) => stop()));
    this.listen.closeAll();
    for (const request of this.detached) request.cancel('server closing');
    this.sessions.close();
    await this.tasks?.close();
    await this.core.sampler?.close?.();
    if (this.ownsFeed) await this.changes.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async dispatch(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonObject> {
    if (this.closed) throw ProtocolError.of('Unavailable', 'Server is shutting down');
    const method = request.method;
    const params = request.params ?? EMPTY_PARAMS;
    if (!servedInEra(method, ctx.era)) {
      throw ProtocolError.of('MethodNotFound', `Method not found: ${method}`);
    }
    const session = ctx.era === 'legacy' ? sessionOf(this.core, ctx) : undefined;
    if (session === undefined) {
      // Listen streams end through closeAll(); other session-less requests are tracked so
      // close() can abort them.
      if (method === 'subscriptions/listen') return this.route(method, params, ctx, ctx, request);
      const detached = new InflightRequest(abortSourceOf(ctx));
      this.detached.add(detached);
      try {
        return await settle(detached, this.route(method, params, ctx, detached, request));
      } finally {
        this.detached.delete(detached);
        detached.dispose();
      }
    }
    session.lastSeen = Date.now();
    if (!session.initializeDone && method !== 'initialize' && method !== 'ping') {
      throw ProtocolError.of('InvalidRequest', 'Session not initialized');
    }
    // Legacy: notifications/cancelled (or the transport's signal) aborts this request.
    const inflight = new InflightRequest(abortSourceOf(ctx));
    session.track(request.id, inflight);
    try {
      return await settle(inflight, this.route(method, params, ctx, inflight, request));
    } finally {
      session.untrack(request.id, inflight);
      inflight.dispose();
    }
  }

  private async route(
    method: string,
    params: JsonObject,
    ctx: RequestContext,
    abort: SignalSource,
    request: JsonRpcRequest,
  ): Promise<JsonObject> {
    const handler = this.handlers.get(method);
    if (handler !== undefined) return handler(this.core, params, ctx, abort, request);
    const tasks = this.core.tasks;
    if (tasks !== undefined && tasks.handles(method, ctx)) {
      // A blocking tasks/result must see notifications/cancelled too (legacy sessions).
      const taskCtx = abort === ctx ? ctx : { ...ctx, signal: abort.signal };
      const result = await tasks.handle(method, params, taskCtx);
      return ctx.era === 'modern' && !('resultType' in result)
        ? { ...result, resultType: 'complete' }
        : result;
    }
    const extension = this.registry.method(method);
    if (extension === undefined) {
      throw ProtocolError.of('MethodNotFound', `Method not found: ${method}`);
    }
    const result = await extension.run(params, plainContext(this.core, params, ctx, abort));
    if (ctx.era !== 'modern') return result;
    return extension.cacheable === true
      ? { ...result, resultType: 'complete', ttlMs: this.core.listTtlMs, cacheScope: 'public' }
      : 'resultType' in result
        ? result
        : { ...result, resultType: 'complete' };
  }
}

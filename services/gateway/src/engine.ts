/**
 * The gateway's Engine: what the transports call, implemented by dispatching each client
 * message through the router to a worker. Only `subscriptions/listen` is served here (a
 * listen stream must outlive any one worker); everything else runs on workers.
 */
import {
  BusEventType,
  CLOSE_STREAM_LINE,
  DISPATCH_HEADERS,
  encodeEnvelope,
  workerOfClientRequest,
  workerOfTask,
} from '@mcp-cluster/cluster';
import type { EventBus } from '@mcp-cluster/cluster';
import {
  Header,
  LATEST_LEGACY_VERSION,
  encodeHeaderValue,
  ProtocolError,
  toWireError,
} from '@mcp-cluster/protocol';
import type {
  Implementation,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  Tool,
} from '@mcp-cluster/protocol';
import { RouterError, asWorkerId, ownerKindOf, targetFieldOf } from '@mcp-cluster/router';
import type { Router, WorkerView } from '@mcp-cluster/router';
import type {
  Engine,
  LocalEngine,
  Middleware,
  LegacySessionState,
  RequestContext,
  Stage,
  TaskJob,
  TaskRun,
} from '@mcp-cluster/server';
import { canonicalRequest, isJsonObject, legacySessionState } from '@mcp-cluster/server';
import type { GatewaySession, GatewaySessions } from './sessions.js';
import type { Membership, WorkerClients } from './workers.js';

/** Attempts at one dispatch when workers refuse or are gone before running anything. */
const MAX_ATTEMPTS = 4;

/** Methods without side effects: a dispatch whose connection reset may be sent again. */
const SAFE_TO_RETRY: ReadonlySet<string> = new Set([
  'ping',
  'server/discover',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'tasks/get',
  'tasks/list',
]);

/** List methods: the result field and each item's key, for merging lists of several workers. */
const LISTS: ReadonlyMap<
  string,
  { kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates'; field: string; key: string }
> = new Map([
  ['tools/list', { kind: 'tools', field: 'tools', key: 'name' }],
  ['prompts/list', { kind: 'prompts', field: 'prompts', key: 'name' }],
  ['resources/list', { kind: 'resources', field: 'resources', key: 'uri' }],
  [
    'resources/templates/list',
    { kind: 'resourceTemplates', field: 'resourceTemplates', key: 'uriTemplate' },
  ],
]);
/** Pages followed per worker when merging lists (bounds a misbehaving worker). */
const MAX_LIST_PAGES = 100;

export interface GatewayEngineOptions {
  readonly gatewayId: string;
  readonly router: Router;
  readonly clients: WorkerClients;
  readonly membership: Membership;
  readonly sessions: GatewaySessions;
  readonly bus: EventBus;
  /** Serves subscriptions/listen and holds the gateway's change feed. */
  readonly local: LocalEngine;
  readonly dispatchTimeoutMs: number;
  readonly onError: (err: unknown, what: string) => void;
}

function errorResponse(id: JsonRpcRequest['id'], err: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toWireError(err) };
}

function isFinal(message: JsonRpcMessage, id: JsonRpcRequest['id']): message is JsonRpcResponse {
  return !('method' in message) && 'id' in message && message.id === id;
}

export class GatewayEngine implements Engine {
  readonly sessions: GatewaySessions;
  readonly serverInfo: Engine['serverInfo'];
  readonly capabilities: Engine['capabilities'];
  readonly registry: Engine['registry'];
  readonly changes: Engine['changes'];
  private closed = false;

  constructor(private readonly o: GatewayEngineOptions) {
    this.sessions = o.sessions;
    this.serverInfo = o.local.serverInfo;
    this.capabilities = o.local.capabilities;
    this.registry = o.local.registry;
    this.changes = o.local.changes;
  }

  async handleRequest(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse> {
    if (this.closed) return errorResponse(request.id, ProtocolError.of('Unavailable'));
    try {
      // Routing (a resource's owner) and the worker see the uri's canonical form.
      request = canonicalRequest(request, ctx.era);
    } catch (err) {
      return errorResponse(request.id, err);
    }
    if (ctx.era === 'modern' && request.method === 'subscriptions/listen') {
      return this.o.local.handleRequest(request, ctx);
    }
    const session = this.sessionOf(ctx);
    if (ctx.era === 'legacy' && session === undefined) {
      return errorResponse(request.id, ProtocolError.of('SessionNotFound'));
    }
    if (session?.stale === true && !(await this.o.sessions.reload(session))) {
      return errorResponse(request.id, ProtocolError.of('SessionNotFound'));
    }
    const list = LISTS.get(request.method);
    if (list !== undefined && request.params?.['cursor'] === undefined) {
      const workers = this.o.membership.representatives(list.kind);
      if (workers.length > 1) return this.mergedList(request, ctx, session, workers, list);
    }
    const body = JSON.stringify(request);
    // Why the last attempt failed (built only when one did: this loop is the hot path).
    let lastError: string | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let worker: WorkerView;
      try {
        worker = await this.pick(request, session);
      } catch (err) {
        if (err instanceof RouterError) {
          return errorResponse(request.id, ProtocolError.of('Unavailable', 'No worker available'));
        }
        throw err;
      }
      const headers = this.headers(ctx, session, request);
      const started = performance.now();
      this.o.router.onStart(worker.id);
      let ok = true;
      try {
        const outcome = await this.o.clients.dispatch(worker, body, headers, ctx.signal);
        switch (outcome.kind) {
          case 'not-sent':
            ok = false;
            this.o.membership.markDead(worker.id);
            lastError = 'Worker unreachable';
            continue;
          case 'reset':
            ok = false;
            // Retried only when running it twice is harmless (the worker may have got it).
            if (SAFE_TO_RETRY.has(request.method)) {
              lastError = 'Worker connection reset';
              continue;
            }
            return errorResponse(request.id, workerFailed());
          case 'refused':
            if (outcome.failure.reason === 'replay-check-unavailable') {
              // The worker could not reach the nonce store every worker shares (Redis): it
              // ran nothing and is not draining, so it stays in; the client may retry.
              return errorResponse(request.id, replayCheckUnavailable());
            }
            if (outcome.status === 503) {
              // Draining: nothing ran; take it out so the retry (and a pinned session) moves on.
              this.o.membership.markDead(worker.id);
              lastError = 'Worker draining';
              continue;
            }
            if (outcome.status === 401 && outcome.failure.reason === 'expired') {
              // Signed too long before the worker checked it (it queued for a connection, or
              // clocks drift apart): nothing ran; the next attempt is signed afresh.
              lastError = 'The dispatch signature expired before a worker checked it';
              continue;
            }
            if (outcome.status === 401) {
              // The worker does not know this gateway's dispatch secret (WorkerClients logged
              // it): a deployment fault, not the client's; nothing ran.
              return errorResponse(request.id, workerRefused());
            }
            return errorResponse(
              request.id,
              new ProtocolError(outcome.failure.error.code, outcome.failure.error.message),
            );
          case 'accepted':
            return errorResponse(request.id, ProtocolError.of('InternalError'));
          case 'message':
            return this.answered(outcome.message as JsonRpcResponse, session, worker, request);
          case 'stream': {
            const relayed = await this.relay(outcome.lines, request, ctx);
            if (relayed !== undefined) return this.answered(relayed, session, worker, request);
            ok = false;
            return errorResponse(request.id, workerFailed());
          }
          case 'broken':
            // A client that went away is not the worker's fault (no ejection for it).
            if (ctx.signal.aborted) {
              return errorResponse(request.id, ProtocolError.of('RequestCancelled'));
            }
            ok = false;
            // The worker may have run it: never re-run silently; the client may retry.
            this.o.onError(outcome.error, `dispatch to ${worker.id} broke`);
            return errorResponse(request.id, workerFailed());
        }
      } finally {
        this.o.router.onFinish(worker.id, ok, performance.now() - started);
      }
    }
    return errorResponse(
      request.id,
      ProtocolError.of('Unavailable', lastError ?? 'No worker available'),
    );
  }

  async handleNotification(notification: JsonRpcNotification, ctx: RequestContext): Promise<void> {
    if (ctx.era !== 'legacy') return;
    const session = this.sessionOf(ctx);
    if (session === undefined) return;
    if (notification.method === 'notifications/cancelled') {
      const requestId = notification.params?.['requestId'];
      const reason = notification.params?.['reason'];
      if (typeof requestId === 'string' || typeof requestId === 'number') {
        this.o.bus.publish({
          type: BusEventType.SessionCancel,
          sessionId: session.id,
          requestId,
          ...(typeof reason === 'string' ? { reason } : {}),
        });
      }
      return;
    }
    await this.oneWay(session, notification, ctx);
  }

  /** A client's answer to a server->client request: to the worker that asked. */
  routeResponse(session: GatewaySession, response: JsonRpcResponse): void {
    const id = workerOfClientRequest(response.id);
    const worker = id === undefined ? undefined : this.o.router.pool.get(asWorkerId(id));
    if (worker === undefined) return;
    const ctx = {
      era: 'legacy',
      protocolVersion: session.state.protocolVersion,
      clientCapabilities: session.state.clientCapabilities,
      principal: { id: 'anonymous', kind: 'anonymous', roles: [] },
    } as const;
    this.o.clients
      .dispatch(worker, JSON.stringify(response), this.envelopeHeaders(ctx, session))
      .catch((err: unknown) => this.o.onError(err, 'client response relay failed'));
  }

  toolDescriptor(_name: string): Tool | undefined {
    // Workers own descriptors; they re-check Mcp-Param-* headers themselves.
    return undefined;
  }

  taskRun(_job: TaskJob, _ctx: RequestContext): TaskRun | undefined {
    return undefined;
  }

  use(stage: Stage, middleware: Middleware): void {
    this.o.local.use(stage, middleware);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.sessions.close();
    await this.o.local.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Workers serve different components: every distinct set is listed (all pages) and merged
   * into one page, first occurrence of a name winning. A worker that fails is left out.
   */
  private async mergedList(
    request: JsonRpcRequest,
    ctx: RequestContext,
    session: GatewaySession | undefined,
    workers: readonly WorkerView[],
    list: { field: string; key: string },
  ): Promise<JsonRpcResponse> {
    const seen = new Set<unknown>();
    const items: unknown[] = [];
    let first: Record<string, unknown> | undefined;
    const pages = await Promise.all(
      workers.map((w) => this.allPages(w, request, ctx, session, list.field)),
    );
    for (const page of pages) {
      if (page === undefined) continue;
      first ??= page.result;
      for (const item of page.items) {
        const key = (item as Record<string, unknown> | null)?.[list.key];
        if (seen.has(key)) continue;
        seen.add(key);
        items.push(item);
      }
    }
    if (first === undefined) {
      return errorResponse(request.id, ProtocolError.of('Unavailable', 'No worker available'));
    }
    const result: Record<string, unknown> = { ...first, [list.field]: items };
    delete result['nextCursor'];
    // Sound: every value came from a worker's JSON result.
    return { jsonrpc: '2.0', id: request.id, result: result };
  }

  private async allPages(
    worker: WorkerView,
    request: JsonRpcRequest,
    ctx: RequestContext,
    session: GatewaySession | undefined,
    field: string,
  ): Promise<{ result: Record<string, unknown>; items: unknown[] } | undefined> {
    const items: unknown[] = [];
    let result: Record<string, unknown> | undefined;
    let cursor: unknown;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const params = cursor === undefined ? request.params : { ...request.params, cursor };
      const body = JSON.stringify({ ...request, ...(params === undefined ? {} : { params }) });
      const outcome = await this.o.clients.dispatch(
        worker,
        body,
        this.headers(ctx, session, request),
        ctx.signal,
      );
      const response =
        outcome.kind === 'message'
          ? (outcome.message as JsonRpcResponse)
          : outcome.kind === 'stream'
            ? await this.relay(outcome.lines, request, ctx)
            : undefined;
      if (response === undefined || !('result' in response)) {
        if (outcome.kind === 'not-sent') this.o.membership.markDead(worker.id);
        return undefined;
      }
      const r = response.result as Record<string, unknown>;
      result ??= r;
      const got = r[field];
      if (Array.isArray(got)) items.push(...(got as unknown[]));
      cursor = r['nextCursor'];
      if (typeof cursor !== 'string') break;
    }
    return result === undefined ? undefined : { result, items };
  }

  private answered(
    response: JsonRpcResponse,
    session: GatewaySession | undefined,
    worker: WorkerView,
    request: JsonRpcRequest,
  ): JsonRpcResponse {
    if (session === undefined || !('result' in response)) return response;
    if (session.isNew) session.created(worker.id);
    // Not only on a new session: a ping before initialize may have created the record.
    const state = initializedState(request, response);
    if (state !== undefined) session.negotiated(state);
    return response;
  }

  private sessionOf(ctx: RequestContext): GatewaySession | undefined {
    return ctx.sessionId === undefined ? undefined : this.o.sessions.get(ctx.sessionId);
  }

  private async oneWay(
    session: GatewaySession,
    message: JsonRpcMessage,
    ctx: RequestContext,
  ): Promise<void> {
    let worker: WorkerView;
    try {
      worker = await this.pick({ jsonrpc: '2.0', id: 0, method: '' }, session);
    } catch {
      return;
    }
    const outcome = await this.o.clients.dispatch(
      worker,
      JSON.stringify(message),
      this.headers(ctx, session, undefined),
    );
    if (outcome.kind === 'not-sent') this.o.membership.markDead(worker.id);
  }

  private async pick(
    request: JsonRpcRequest,
    session: GatewaySession | undefined,
  ): Promise<WorkerView> {
    const router = this.o.router;
    const params = request.params;
    // Tasks: the worker that started one holds it (memory task host).
    if (request.method.startsWith('tasks/')) {
      const owner = workerOfTask(params?.['taskId']);
      const w = owner === undefined ? undefined : router.pool.get(asWorkerId(owner));
      if (w !== undefined && w.health !== 'down' && w.health !== 'ejected') return w;
    }
    const kind = ownerKindOf(request.method);
    const target = kind === undefined ? undefined : params?.[targetFieldOf(kind)];
    const name = typeof target === 'string' ? target : undefined;
    if (session === undefined) return pickOwner(router, request.method, name);
    if (session.isNew) return router.pick({ method: request.method, clientKey: session.id });
    const decision = await router.route({ method: request.method, sessionId: session.id });
    const owned =
      name === undefined || kind === undefined
        ? true
        : router.pool.owners(kind, name).some((w) => w.id === decision.worker.id);
    if (!owned) {
      // A session's worker serves everything except components it does not own.
      try {
        return router.pick({ method: request.method, name, clientKey: session.id });
      } catch {
        // Nobody owns it: the session's worker answers the precise "not found".
        return decision.worker;
      }
    }
    return decision.worker;
  }

  private headers(
    ctx: RequestContext,
    session: GatewaySession | undefined,
    request: JsonRpcRequest | undefined,
  ): Record<string, string> {
    const h = this.envelopeHeaders(ctx, session);
    if (session !== undefined) {
      if (session.isNew) h[DISPATCH_HEADERS.sessionNew] = '1';
      else h[DISPATCH_HEADERS.sessionVersion] = String(session.version);
    }
    if (ctx.paramHeaders !== undefined && request !== undefined) {
      // Mcp-Method and Mcp-Name already matched the body here; the worker re-checks the rest.
      Object.assign(h, ctx.paramHeaders);
      h[DISPATCH_HEADERS.checkParams] = '1';
      h[Header.Method] = request.method;
      const name = request.params?.['name'];
      if (typeof name === 'string') h[Header.Name] = encodeHeaderValue(name);
    }
    return h;
  }

  private envelopeHeaders(
    ctx: Pick<RequestContext, 'era' | 'protocolVersion' | 'clientCapabilities' | 'principal'>,
    session: GatewaySession | undefined,
  ): Record<string, string> {
    // Legacy: the session's stored revision and capabilities (the transport's context may
    // come from a copy made before initialize); before initialize, placeholders.
    const legacy = ctx.era === 'legacy';
    const known = legacy && session !== undefined && !session.isNew;
    return encodeEnvelope({
      principal: ctx.principal,
      ...(session === undefined ? {} : { sessionId: session.id }),
      protocolVersion: known
        ? session.state.protocolVersion
        : legacy
          ? LATEST_LEGACY_VERSION
          : ctx.protocolVersion,
      era: ctx.era,
      clientCapabilities: known ? session.state.clientCapabilities : ctx.clientCapabilities,
      deadline: Date.now() + this.o.dispatchTimeoutMs,
      gatewayId: this.o.gatewayId,
    });
  }

  /** Relays a worker's NDJSON stream onto the client's stream; returns the final response. */
  private async relay(
    lines: AsyncIterable<string>,
    request: JsonRpcRequest,
    ctx: RequestContext,
  ): Promise<JsonRpcResponse | undefined> {
    try {
      for await (const line of lines) {
        if (line === CLOSE_STREAM_LINE) {
          ctx.outbound.closeStream?.();
          continue;
        }
        const message = JSON.parse(line) as JsonRpcMessage;
        if (isFinal(message, request.id)) return message;
        if ('method' in message && 'id' in message) {
          // A server->client request: the client answers with the worker's id.
          ctx.outbound.forward?.(message);
        } else if ('method' in message) {
          ctx.outbound.notify(message);
        }
      }
    } catch (err) {
      if (ctx.signal.aborted)
        return errorResponse(request.id, ProtocolError.of('RequestCancelled'));
      this.o.onError(err, 'worker stream broke');
    }
    // The stream ended (or broke) without the response: the worker failed.
    return undefined;
  }
}

/**
 * What a worker stored for a session whose `initialize` it answered: the revision it
 * negotiated (from its answer), the capabilities and client info the client declared. Any
 * other request (or an answer without a revision) settles nothing: undefined.
 */
function initializedState(
  request: JsonRpcRequest,
  response: JsonRpcResponse,
): LegacySessionState | undefined {
  if (request.method !== 'initialize' || !('result' in response)) return undefined;
  const protocolVersion = response.result['protocolVersion'];
  const capabilities = request.params?.['capabilities'];
  const clientInfo = request.params?.['clientInfo'];
  if (typeof protocolVersion !== 'string' || !isJsonObject(capabilities)) return undefined;
  return legacySessionState({
    protocolVersion,
    clientCapabilities: capabilities,
    initialized: false,
    subscriptions: [],
    ...(isJsonObject(clientInfo) ? { clientInfo: clientInfo as unknown as Implementation } : {}),
  });
}

/** A worker that refused the gateway's dispatch signature (mismatched secrets). */
function workerRefused(): ProtocolError {
  return ProtocolError.of('Unavailable', 'The worker refused the dispatch');
}

/** A worker that could not make its dispatch replay check (the shared store is down). */
function replayCheckUnavailable(): ProtocolError {
  return ProtocolError.of('Unavailable', 'The worker could not check the dispatch for replay');
}

/** A worker lost mid-request: retryable, and nothing is re-run behind the client's back. */
function workerFailed(): ProtocolError {
  return ProtocolError.of('Unavailable', 'The worker failed while serving the request');
}

/**
 * An owner of `name`, or any worker when nobody owns it: a worker answers an unknown tool,
 * prompt or resource with the precise protocol error (e.g. -32602 with the uri), not 503.
 */
function pickOwner(router: Router, method: string, name: string | undefined): WorkerView {
  try {
    return router.pick({ method, name });
  } catch (err) {
    if (name === undefined || !(err instanceof RouterError) || err.reason !== 'no-owner') throw err;
    return router.pick({ method });
  }
}

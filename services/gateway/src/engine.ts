/**
 * The gateway's MessageEngine: what the transports call, implemented by dispatching each client
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
import type { EventBus, WorkerDispatch } from '@mcp-cluster/cluster';
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
import type { OwnerKind, Router, WorkerView } from '@mcp-cluster/router';
import type {
  LocalEngine,
  LegacySessionState,
  MessageEngine,
  RequestContext,
} from '@mcp-cluster/server';
import {
  abortSourceOf,
  canonicalRequest,
  isJsonObject,
  legacySessionState,
  relayedAs,
} from '@mcp-cluster/server';
import { MAX_ATTEMPTS, SAFE_TO_RETRY, dispatchWithRetry, noWorkerAvailable } from './dispatch.js';
import type { Answer, DispatchDeps, DispatchPlan, DispatchResult } from './dispatch.js';
import type { CapacityQueue } from './capacity.js';
import type { GatewaySession, GatewaySessions } from './sessions.js';
import type { Membership } from './workers.js';

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
  /** The port to the workers (decorated: router feedback, and whatever else wraps it). */
  readonly dispatch: WorkerDispatch;
  /** Signs every dispatch (the workers check it). */
  readonly dispatchSecret: string;
  readonly membership: Membership;
  readonly sessions: GatewaySessions;
  readonly bus: EventBus;
  /** Serves subscriptions/listen and holds the gateway's change feed. */
  readonly local: LocalEngine;
  readonly dispatchTimeoutMs: number;
  /**
   * The port's first-byte timeout, told to workers with each request (signed) so they
   * acknowledge a request still running before it. Undefined: not told (no early ack).
   */
  readonly dispatchFirstByteTimeoutMs?: number | undefined;
  readonly onError: (err: unknown, what: string) => void;
  /** Where requests wait for a worker slot when every candidate is at its limit. */
  readonly capacity?: CapacityQueue | undefined;
}

function errorResponse(id: JsonRpcRequest['id'], err: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toWireError(err) };
}

/** A dispatch result as the client's response to `id`. */
function responseOf(
  id: JsonRpcRequest['id'],
  result: DispatchResult<JsonRpcResponse>,
): JsonRpcResponse {
  return result.ok ? result.value : errorResponse(id, result.error);
}

function isFinal(message: JsonRpcMessage, id: JsonRpcRequest['id']): message is JsonRpcResponse {
  return !('method' in message) && 'id' in message && message.id === id;
}

export class GatewayEngine implements MessageEngine, AsyncDisposable {
  readonly sessions: GatewaySessions;
  private closed = false;
  private readonly deps: DispatchDeps;
  /** DISPATCH_HEADERS.firstByteTimeout's value, formatted once. */
  private readonly firstByteTimeout: string | undefined;

  constructor(private readonly o: GatewayEngineOptions) {
    this.deps = {
      port: o.dispatch,
      secret: o.dispatchSecret,
      markDead: (id) => o.membership.markDead(id),
      audienceOf: (id) => o.membership.audienceOf(id),
      onError: o.onError,
      capacity: o.capacity,
    };
    this.sessions = o.sessions;
    this.firstByteTimeout =
      o.dispatchFirstByteTimeoutMs === undefined ? undefined : String(o.dispatchFirstByteTimeoutMs);
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
    const name = request.params?.['name'];
    const repeatable =
      SAFE_TO_RETRY.has(request.method) ||
      (request.method === 'tools/call' &&
        typeof name === 'string' &&
        this.o.membership.repeatableTool(name));
    // A call a client must never send twice: should this gateway die before answering, the
    // client resumes the stream elsewhere and learns that the call may have run.
    if (!repeatable && request.method === 'tools/call') ctx.outbound.answerResumably?.();
    const result = await dispatchWithRetry(this.deps, {
      method: request.method,
      target: typeof name === 'string' ? name : undefined,
      repeatable,
      deadlineAt: Date.now() + this.o.dispatchTimeoutMs,
      // The client's bytes when the request is the message as it arrived (forwarded once).
      body: ctx.wire?.message === request ? ctx.wire.text : JSON.stringify(request),
      headers: this.headers(ctx, session, request),
      signal: abortSourceOf(ctx),
      attempts: MAX_ATTEMPTS,
      pick: (_attempt, avoid) => this.pick(request, session, avoid),
      settle: async (answer, worker) => {
        const response = await this.responseFrom(answer, request, ctx);
        return response && this.answered(response, session, worker, request);
      },
    });
    return responseOf(request.id, result);
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
    await this.notify(session, notification, ctx);
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
    void this.oneWay(worker, JSON.stringify(response), this.envelopeHeaders(ctx, session));
  }

  toolDescriptor(_name: string): Tool | undefined {
    // Workers own descriptors; they re-check Mcp-Param-* headers themselves.
    return undefined;
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
      return errorResponse(request.id, noWorkerAvailable());
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
      const dispatched = await dispatchWithRetry(this.deps, {
        method: request.method,
        body: JSON.stringify({ ...request, ...(params === undefined ? {} : { params }) }),
        headers: this.headers(ctx, session, request),
        signal: abortSourceOf(ctx),
        attempts: 1,
        pick: () => worker,
        settle: (answer) => this.responseFrom(answer, request, ctx),
      });
      const response = dispatched.ok ? dispatched.value : undefined;
      if (response === undefined || !('result' in response)) return undefined;
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

  /** A notification from a session's client: to the session's worker. */
  private async notify(
    session: GatewaySession,
    message: JsonRpcNotification,
    ctx: RequestContext,
  ): Promise<void> {
    let worker: WorkerView;
    try {
      worker = await this.pick({ jsonrpc: '2.0', id: 0, method: '' }, session);
    } catch {
      return;
    }
    await this.oneWay(worker, JSON.stringify(message), this.headers(ctx, session, undefined));
  }

  /**
   * A message that gets no response (202) to one worker. The attempt loop logs what an
   * operator must see (a refused signature, a broken connection) and marks a worker that
   * cannot be reached; nobody waits for the outcome.
   */
  private async oneWay(
    worker: WorkerView,
    body: string,
    headers: Record<string, string>,
  ): Promise<void> {
    const plan: DispatchPlan<true> = {
      method: undefined,
      body,
      headers,
      attempts: 1,
      pick: () => worker,
      settle: () => true,
    };
    await dispatchWithRetry(this.deps, plan).catch((err: unknown) =>
      this.o.onError(err, `message to ${worker.id} failed`),
    );
  }

  /**
   * A request's worker. Synchronous for a request without a session (modern): the attempt
   * loop then dispatches with nothing in between, so the router's count of the worker's
   * requests is current for the next pick.
   */
  private pick(
    request: JsonRpcRequest,
    session: GatewaySession | undefined,
    avoid?: ReadonlySet<string>,
  ): WorkerView | Promise<WorkerView> {
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
    if (session === undefined) return pickOwner(router, request.method, name, avoid);
    if (session.isNew) {
      return router.pick({ method: request.method, clientKey: session.id, avoid });
    }
    return this.pickForSession(request, session, kind, name, avoid);
  }

  /** A legacy session's request: its pinned worker, unless another owns what it names. */
  private async pickForSession(
    request: JsonRpcRequest,
    session: GatewaySession,
    kind: OwnerKind | undefined,
    name: string | undefined,
    avoid: ReadonlySet<string> | undefined,
  ): Promise<WorkerView> {
    const router = this.o.router;
    const decision = await router.route({
      method: request.method,
      sessionId: session.id,
      avoid,
      // notify()'s placeholder request: a notification takes no slot on the session's worker.
      oneWay: request.method === '',
    });
    const owned =
      name === undefined || kind === undefined
        ? true
        : router.pool.owners(kind, name).some((w) => w.id === decision.worker.id);
    if (!owned) {
      // A session's worker serves everything except components it does not own.
      try {
        return router.pick({ method: request.method, name, clientKey: session.id, avoid });
      } catch (err) {
        // Its owners are busy: wait for one of them (the session's worker cannot serve it).
        if (err instanceof RouterError && err.reason === 'saturated') throw err;
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
    if (request !== undefined && this.firstByteTimeout !== undefined) {
      h[DISPATCH_HEADERS.firstByteTimeout] = this.firstByteTimeout;
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

  /** The response in a worker's answer, relaying a stream's other messages to the client. */
  private async responseFrom(
    answer: Answer,
    request: JsonRpcRequest,
    ctx: RequestContext,
  ): Promise<JsonRpcResponse | undefined> {
    switch (answer.kind) {
      case 'message':
        // The worker's bytes go to the client as they came (the parse is for routing only).
        return answer.text === undefined
          ? (answer.message as JsonRpcResponse)
          : relayedAs(answer.message as JsonRpcResponse, answer.text);
      case 'stream':
        return this.relay(answer.lines, request, ctx);
      case 'accepted':
        return undefined;
    }
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
      if (abortSourceOf(ctx).aborted)
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

/**
 * An owner of `name`, or any worker when nobody owns it: a worker answers an unknown tool,
 * prompt or resource with the precise protocol error (e.g. -32602 with the uri), not 503.
 */
function pickOwner(
  router: Router,
  method: string,
  name: string | undefined,
  avoid: ReadonlySet<string> | undefined,
): WorkerView {
  try {
    return router.pick({ method, name, avoid });
  } catch (err) {
    if (name === undefined || !(err instanceof RouterError) || err.reason !== 'no-owner') throw err;
    return router.pick({ method, avoid });
  }
}

/**
 * Modern `subscriptions/listen`: acknowledge the honoured filter, then forward matching
 * changes tagged with the subscription id (the listen request's id, type preserved) until
 * the client goes away or the engine closes. Also fans changes out to legacy sessions.
 */
import { MetaKey, ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject, JsonRpcNotification, RequestId } from '@mcp-cluster/protocol';
import type { ChangeEvent, Outbound } from './context.js';
import type { MethodHandler } from './core.js';
import { isJsonObject } from './mrtr.js';
import type { MemorySessionManager } from './sessions.js';

interface Filter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

interface Listener {
  readonly id: RequestId;
  readonly filter: Filter;
  readonly uris: ReadonlySet<string> | undefined;
  readonly outbound: Outbound;
  readonly finish: () => void;
}

const METHOD: Record<ChangeEvent['type'], string> = {
  'tools/list_changed': 'notifications/tools/list_changed',
  'prompts/list_changed': 'notifications/prompts/list_changed',
  'resources/list_changed': 'notifications/resources/list_changed',
  'resources/updated': 'notifications/resources/updated',
};

export class ListenStreams {
  private readonly listeners = new Set<Listener>();

  get size(): number {
    return this.listeners.size;
  }

  readonly handler: MethodHandler = (_core, params, ctx, _abort, request) => {
    // Modern only: the transport's signal is the stream's lifetime.
    const signal = ctx.signal;
    const requested = params['notifications'];
    if (!isJsonObject(requested)) {
      throw ProtocolError.of(
        'InvalidParams',
        'subscriptions/listen: params.notifications must be an object',
      );
    }
    const filter = honoured(requested);
    const id = request.id;
    const meta = { [MetaKey.SubscriptionId]: id };
    ctx.outbound.notify({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: meta, notifications: filter },
    });
    const done: JsonObject = { resultType: 'complete', _meta: meta };
    if (signal.aborted) return done;
    return new Promise<JsonObject>((resolve) => {
      const listener: Listener = {
        id,
        filter,
        uris: filter.resourceSubscriptions && new Set(filter.resourceSubscriptions),
        outbound: ctx.outbound,
        finish: () => {
          this.listeners.delete(listener);
          signal.removeEventListener('abort', listener.finish);
          resolve(done);
        },
      };
      this.listeners.add(listener);
      signal.addEventListener('abort', listener.finish, { once: true });
    });
  };

  /** Forwards one change to every listen stream whose filter asked for it. */
  publish(event: ChangeEvent): void {
    for (const l of this.listeners) {
      if (!wants(l, event)) continue;
      const params: JsonObject = { _meta: { [MetaKey.SubscriptionId]: l.id } };
      if (event.type === 'resources/updated') params['uri'] = event.uri;
      try {
        l.outbound.notify({ jsonrpc: '2.0', method: METHOD[event.type], params });
      } catch {
        l.finish();
      }
    }
  }

  /** Ends every stream gracefully (each listen request resolves with its closing result). */
  closeAll(): void {
    for (const l of [...this.listeners]) l.finish();
  }
}

function honoured(requested: JsonObject): Filter {
  const filter: Filter = {};
  if (requested['toolsListChanged'] === true) filter.toolsListChanged = true;
  if (requested['promptsListChanged'] === true) filter.promptsListChanged = true;
  if (requested['resourcesListChanged'] === true) filter.resourcesListChanged = true;
  const uris = requested['resourceSubscriptions'];
  if (Array.isArray(uris)) {
    filter.resourceSubscriptions = uris.filter((u): u is string => typeof u === 'string');
  }
  return filter;
}

function wants(l: Listener, event: ChangeEvent): boolean {
  switch (event.type) {
    case 'tools/list_changed':
      return l.filter.toolsListChanged === true;
    case 'prompts/list_changed':
      return l.filter.promptsListChanged === true;
    case 'resources/list_changed':
      return l.filter.resourcesListChanged === true;
    case 'resources/updated':
      return l.uris?.has(event.uri) === true;
  }
}

/** The notification a client receives for a change. */
export function changeNotification(event: ChangeEvent): JsonRpcNotification {
  return event.type === 'resources/updated'
    ? { jsonrpc: '2.0', method: METHOD[event.type], params: { uri: event.uri } }
    : { jsonrpc: '2.0', method: METHOD[event.type] };
}

/** Legacy fan-out: list_changed to every initialized session, updates to subscribers only. */
export function fanOutToSessions(sessions: MemorySessionManager, event: ChangeEvent): void {
  const message = changeNotification(event);
  for (const session of sessions.values()) {
    if (!session.initializeDone) continue;
    if (event.type === 'resources/updated' && !session.state.subscriptions.has(event.uri)) continue;
    session.sendStandalone(message);
  }
}

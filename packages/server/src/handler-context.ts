/**
 * The HandlerContext a component handler receives. One object per request, methods on the
 * prototype (no per-request closures). Input comes from one of three places: the client's
 * stream (legacy), the MRTR round (modern) or the task port (inside a task).
 */
import {
  MetaKey,
  ProtocolError,
  canonicalResourceUri,
  isLoggingLevel,
  levelAtLeast,
} from '@mcp-cluster/protocol';
import type {
  ClientCapabilities,
  Implementation,
  InputRequest,
  JsonObject,
  LoggingLevel,
  RequestId,
} from '@mcp-cluster/protocol';
import type { ChangeFeed } from './changes.js';
import type {
  ChangeEvent,
  Era,
  HandlerContext,
  Outbound,
  Principal,
  RequestContext,
} from './context.js';
import type { SignalSource } from './inflight.js';
import type { MrtrRound } from './mrtr.js';
import { samplesOnServer } from './sampler.js';
import type { Sampler } from './sampler.js';
import type { MemorySession } from './sessions.js';
import type { TaskPort } from './tasks/api.js';

/** Where `ctx.input` gets its answers. */
export type InputSource =
  | { readonly type: 'client'; readonly outbound: Outbound }
  | { readonly type: 'mrtr'; readonly round: MrtrRound }
  | { readonly type: 'task'; readonly port: TaskPort }
  | { readonly type: 'none' };

const NO_INPUT: InputSource = Object.freeze({ type: 'none' });
const EMPTY_META: Readonly<JsonObject> = Object.freeze({});

export interface HandlerContextInit {
  readonly request: RequestContext;
  readonly meta: Readonly<JsonObject> | undefined;
  /** Where the signal comes from (read lazily: see inflight.ts). */
  readonly abort: SignalSource;
  /** Notifications go here; undefined drops them (e.g. inside a task). */
  readonly outbound: Outbound | undefined;
  readonly session: MemorySession | undefined;
  readonly input: InputSource | undefined;
  readonly changes: ChangeFeed;
  /** Answers `sample` for clients that cannot (see Sampler.mode); absent: clients only. */
  readonly sampler?: Sampler | undefined;
}

export class EngineHandlerContext implements HandlerContext {
  readonly era: Era;
  readonly protocolVersion: string;
  readonly requestId: RequestId;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  readonly sessionId?: string;
  readonly principal: Principal;
  readonly meta: Readonly<JsonObject>;
  private readonly abort: SignalSource;
  private readonly outbound: Outbound | undefined;
  private readonly session: MemorySession | undefined;
  private readonly requestLogLevel: LoggingLevel | undefined;
  private readonly source: InputSource;
  private readonly changes: ChangeFeed;
  private readonly sampler: Sampler | undefined;
  private readonly progressToken: string | number | undefined;
  private lastProgress = Number.NEGATIVE_INFINITY;

  constructor(init: HandlerContextInit) {
    const req = init.request;
    this.era = req.era;
    this.protocolVersion = req.protocolVersion;
    this.requestId = req.requestId;
    this.clientCapabilities = req.clientCapabilities;
    if (req.clientInfo !== undefined) this.clientInfo = req.clientInfo;
    if (req.sessionId !== undefined) this.sessionId = req.sessionId;
    this.principal = req.principal;
    this.abort = init.abort;
    this.meta = init.meta ?? EMPTY_META;
    this.outbound = init.outbound;
    this.session = init.session;
    // Transports pass the level they read; fall back to the request's own _meta.
    const metaLevel = this.meta[MetaKey.LogLevel];
    this.requestLogLevel = req.logLevel ?? (isLoggingLevel(metaLevel) ? metaLevel : undefined);
    this.source = init.input ?? NO_INPUT;
    this.changes = init.changes;
    this.sampler = init.sampler;
    const token = this.meta['progressToken'];
    this.progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  progress(progress: number, total?: number, message?: string): void {
    if (this.progressToken === undefined || this.outbound === undefined) return;
    // The spec requires increasing values; a stale or repeated value is dropped, not sent.
    if (!(progress > this.lastProgress)) return;
    this.lastProgress = progress;
    const params: JsonObject = { progressToken: this.progressToken, progress };
    if (total !== undefined) params['total'] = total;
    if (message !== undefined) params['message'] = message;
    this.outbound.notify({ jsonrpc: '2.0', method: 'notifications/progress', params });
  }

  log(level: LoggingLevel, data: unknown, logger?: string): void {
    if (this.outbound === undefined || !this.admits(level)) return;
    const params: JsonObject = { level, data };
    if (logger !== undefined) params['logger'] = logger;
    this.outbound.notify({ jsonrpc: '2.0', method: 'notifications/message', params });
  }

  async input<K extends string>(
    requests: Readonly<Record<K, InputRequest>>,
  ): Promise<Record<K, JsonObject>> {
    assertCapabilities(requests, this.clientCapabilities);
    const source = this.source;
    switch (source.type) {
      case 'mrtr':
        return source.round.take(requests);
      case 'task':
        return source.port.input(requests);
      case 'client': {
        const keys = Object.keys(requests) as K[];
        const answers = await Promise.all(
          keys.map((k) => {
            const r = requests[k];
            return source.outbound.request(r.method, r.params, this.signal);
          }),
        );
        const out = {} as Record<K, JsonObject>;
        keys.forEach((k, i) => {
          out[k] = answers[i] as JsonObject;
        });
        return out;
      }
      case 'none':
        throw ProtocolError.of('InvalidRequest', 'This request cannot ask the client for input');
    }
  }

  async elicit(params: JsonObject, key = 'elicitation'): Promise<JsonObject> {
    const answers = await this.input({ [key]: { method: 'elicitation/create', params } });
    return answers[key] as JsonObject;
  }

  async sample(params: JsonObject, key = 'sampling'): Promise<JsonObject> {
    const sampler = this.sampler;
    if (samplesOnServer(sampler, this.clientCapabilities.sampling !== undefined)) {
      return sampler.createMessage(params, { principal: this.principal, signal: this.signal });
    }
    const answers = await this.input({ [key]: { method: 'sampling/createMessage', params } });
    return answers[key] as JsonObject;
  }

  async listRoots(key = 'roots'): Promise<JsonObject> {
    const answers = await this.input({ [key]: { method: 'roots/list', params: {} } });
    return answers[key] as JsonObject;
  }

  /** An MRTR round that already lacks answers: the result will be input_required. */
  get inputPending(): boolean {
    return this.source.type === 'mrtr' && this.source.round.missing !== undefined;
  }

  emitChange(event: ChangeEvent): void {
    this.changes.publish(canonicalChange(event));
  }

  closeStream(): void {
    this.outbound?.closeStream?.();
  }

  /** Legacy: the session level (none set = everything). Modern: only the request's level. */
  private admits(level: LoggingLevel): boolean {
    if (this.era === 'modern') {
      return this.requestLogLevel !== undefined && levelAtLeast(level, this.requestLogLevel);
    }
    const min = this.session?.state.logLevel;
    return min === undefined || levelAtLeast(level, min);
  }
}

/** `event` with its uri in canonical form: subscriptions hold canonical uris. */
export function canonicalChange(event: ChangeEvent): ChangeEvent {
  if (event.type !== 'resources/updated') return event;
  const c = canonicalResourceUri(event.uri);
  return c.ok && c.uri !== event.uri ? { ...event, uri: c.uri } : event;
}

/** -32021 unless the client declared what every request needs. */
export function assertCapabilities(
  requests: Readonly<Record<string, InputRequest>>,
  caps: ClientCapabilities,
): void {
  let required: Record<string, JsonObject> | undefined;
  for (const key in requests) {
    const r = requests[key] as InputRequest;
    switch (r.method) {
      case 'sampling/createMessage': {
        const sampling = caps.sampling;
        const p = r.params;
        if (sampling === undefined) {
          (required ??= {})['sampling'] = {};
        } else if (p?.['tools'] !== undefined && sampling['tools'] === undefined) {
          // 2025-11-25: tool use in sampling needs sampling.tools; context inclusion needs sampling.context.
          (required ??= {})['sampling'] = { tools: {} };
        } else if (
          p?.['includeContext'] !== undefined &&
          p['includeContext'] !== 'none' &&
          sampling['context'] === undefined
        ) {
          (required ??= {})['sampling'] = { context: {} };
        }
        break;
      }
      case 'roots/list':
        if (caps.roots === undefined) (required ??= {})['roots'] = {};
        break;
      case 'elicitation/create':
        if (caps.elicitation === undefined) {
          (required ??= {})['elicitation'] = {};
        } else if (r.params?.['mode'] === 'url' && caps.elicitation['url'] === undefined) {
          (required ??= {})['elicitation'] = { url: {} };
        }
        break;
      default:
        throw ProtocolError.of('InternalError');
    }
  }
  if (required !== undefined) {
    throw ProtocolError.of('MissingCapability', undefined, { requiredCapabilities: required });
  }
}

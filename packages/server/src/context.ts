/**
 * The per-request context: what the transport tells the engine about one incoming request,
 * and what the engine gives a component handler.
 */
import type {
  ClientCapabilities,
  Implementation,
  InputRequest,
  JsonObject,
  JsonRpcMessage,
  JsonRpcNotification,
  LoggingLevel,
  RequestId,
} from '@mcp-cluster/protocol';

export type Era = 'legacy' | 'modern';

/** Who is calling. Authentication (a later layer) fills it; embedded default is anonymous. */
export interface Principal {
  readonly id: string;
  readonly kind: 'anonymous' | 'user' | 'service';
  readonly roles: readonly string[];
  readonly claims?: Readonly<JsonObject>;
}

export const ANONYMOUS: Principal = Object.freeze({
  id: 'anonymous',
  kind: 'anonymous',
  roles: [],
});

/** Who sent a message, as a transport knows it: the authenticated principal and its address. */
export interface Caller {
  readonly principal: Principal;
  readonly remoteAddress?: string | undefined;
}

export const ANONYMOUS_CALLER: Caller = Object.freeze({ principal: ANONYMOUS });

/** A change the cluster should tell subscribed clients about. */
export type ChangeEvent =
  | { readonly type: 'tools/list_changed' }
  | { readonly type: 'prompts/list_changed' }
  | { readonly type: 'resources/list_changed' }
  | { readonly type: 'resources/updated'; readonly uri: string };

/**
 * Where messages related to one request go: the POST's SSE stream, the WebSocket, stdout.
 * Provided by the transport.
 */
export interface Outbound {
  /** Sends a notification tied to the current request (progress, logging). */
  notify(notification: JsonRpcNotification): void;
  /**
   * Sends a server->client request and resolves with the client's `result`
   * (rejects with a ProtocolError carrying the client's error). Legacy era only.
   */
  request(method: string, params: JsonObject | undefined, signal: AbortSignal): Promise<JsonObject>;
  /**
   * Ends the response stream before the result (SEP-1699 polling): the client resumes with
   * GET + Last-Event-ID and receives the rest there. Absent where the transport cannot.
   */
  closeStream?(): void;
  /**
   * Answers this request on a resumable stream from now on, opened before it runs (a cluster
   * gateway does this for calls it must never send twice): a client whose connection breaks
   * before the answer resumes the stream with GET + Last-Event-ID, on any gateway, and gets
   * the answer, or a retryable error saying the call may have run when the gateway serving it
   * died. Absent where the transport cannot.
   */
  answerResumably?(): void;
  /**
   * Writes a message as-is on the request's stream (a cluster gateway relaying what a worker
   * sent: its server->client requests keep the worker's ids). Absent where not needed.
   */
  forward?(message: JsonRpcMessage): boolean;
}

/** What the engine knows about a request before dispatching it. */
export interface RequestContext {
  readonly era: Era;
  readonly protocolVersion: string;
  readonly requestId: RequestId;
  /** The client's capabilities: from the session (legacy) or this request's _meta (modern). */
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  /** Legacy sessions only. */
  readonly sessionId?: string;
  readonly principal: Principal;
  /** The client's network address as the transport saw it (policies, audit); absent on stdio. */
  readonly remoteAddress?: string;
  /** Aborted when the client cancels or disconnects. */
  readonly signal: AbortSignal;
  readonly outbound: Outbound;
  /**
   * Modern era: the request's `_meta["io.modelcontextprotocol/logLevel"]`; no logs when absent.
   * Legacy requests leave it unset (the session's `logging/setLevel` applies).
   */
  readonly logLevel?: LoggingLevel;
  /**
   * Modern tools/call whose tool this process does not know (a cluster gateway): the
   * request's `Mcp-Param-*` headers, lower-case names, for the worker to check (SEP-2243).
   */
  readonly paramHeaders?: Readonly<Record<string, string>>;
  /**
   * The message as it arrived, when a transport read it alone (a POST body, not a batch
   * entry): a gateway forwards `text` rather than serializing the request again — only while
   * the request it handles is `message` itself, unchanged.
   */
  readonly wire?: { readonly message: object; readonly text: string };
  /**
   * The HTTP request's W3C `traceparent` header, when it had one: a request's span takes its
   * parent from `params._meta` and links to this ambient context instead.
   */
  readonly traceparent?: string;
}

/** What a component handler sees: the request's identity, plus what it may do. */
export interface HandlerContext extends Pick<
  RequestContext,
  | 'era'
  | 'protocolVersion'
  | 'requestId'
  | 'clientCapabilities'
  | 'clientInfo'
  | 'sessionId'
  | 'principal'
  | 'signal'
> {
  /** The request's `_meta` as sent (minus nothing). */
  readonly meta: Readonly<JsonObject>;
  /** Reports progress when the request carried a progressToken; ignored otherwise. */
  progress(progress: number, total?: number, message?: string): void;
  /** Logs to the client when its level (session-wide or per-request) admits `level`. */
  log(level: LoggingLevel, data: unknown, logger?: string): void;
  /**
   * Asks the client for input (elicitation, sampling, roots). Legacy: real requests on the
   * request's stream. Modern: answers from `inputResponses`, or an `input_required` result
   * is returned for the missing keys and the handler runs again on the retry. Keys name
   * the answers; they must be stable across runs of the same handler.
   */
  input<K extends string>(
    requests: Readonly<Record<K, InputRequest>>,
  ): Promise<Record<K, JsonObject>>;
  /** Convenience wrappers over `input` with a single key. */
  elicit(params: JsonObject, key?: string): Promise<JsonObject>;
  /**
   * With a server-side sampler (EngineOptions.sampler), a client that cannot sample (or any
   * client, in its `server` mode) is not asked: a configured model provider answers.
   */
  sample(params: JsonObject, key?: string): Promise<JsonObject>;
  listRoots(key?: string): Promise<JsonObject>;
  /** Announces a change (list_changed, resources/updated) to every subscribed client. */
  emitChange(event: ChangeEvent): void;
  /** Asks the transport to end the response stream now (SEP-1699); no-op where unsupported. */
  closeStream(): void;
}

/**
 * The engine's surface as transports see it. Transports turn bytes into JSON-RPC messages
 * and a RequestContext; the engine answers. Nothing here knows about HTTP or sockets.
 */
import type {
  ClientCapabilities,
  Implementation,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  LoggingLevel,
  ServerCapabilities,
  Tool,
} from '@mcp-cluster/protocol';
import type { ChangeFeed } from './changes.js';
import type { ComponentPack, Leadership } from './components.js';
import type { Outbound, RequestContext } from './context.js';
import type { Middleware, ParamsValidator, Stage } from './pipeline.js';
import type { ComponentRegistry } from './registry.js';
import type { RequestSummary } from './request-log.js';
import type { Sampler } from './sampler.js';
import type { TaskHost, TaskJob, TaskRun } from './tasks/api.js';

/** A secret that signs MRTR requestState; the first key signs, all keys verify (rotation). */
export interface StateKey {
  readonly id: string;
  readonly secret: string;
}

/** Options of `createEngine` (see DEFAULT_ENGINE_OPTIONS in engine.ts for the defaults). */
export interface EngineOptions {
  readonly serverInfo: Implementation;
  readonly instructions?: string;
  readonly packs: readonly ComponentPack[];
  /** Prefix of legacy server->client request ids (a cluster worker puts its id in it). */
  readonly clientRequestIdPrefix?: string;
  /** Signing keys for MRTR requestState; a random per-process key when omitted. */
  readonly stateKeys?: readonly StateKey[];
  /** Legacy sessions idle longer than this are ended. */
  readonly sessionIdleMs?: number;
  /** Legacy sessions one principal may hold at once (`sessions.open` refuses more). */
  readonly maxSessionsPerPrincipal?: number;
  /** Legacy sessions this engine may hold at once (`sessions.open` refuses more). */
  readonly maxSessions?: number;
  /** Page size of tools/list, resources/list, prompts/list, ... */
  readonly pageSize?: number;
  /** Modern-wire caching hints on list/read/discover results. */
  readonly listTtlMs?: number;
  /** Modern-wire `ttlMs` of resources/read results (cacheScope "private"). */
  readonly readTtlMs?: number;
  /** How long an MRTR requestState stays valid. */
  readonly stateTtlMs?: number;
  /** Legacy server->client requests (sampling, elicitation, roots) give up after this. */
  readonly clientRequestTimeoutMs?: number;
  /**
   * Task support. Absent: an in-memory host (createMemoryTaskHost()). `false`: no tasks; no
   * task capability is declared and every tool runs inline.
   */
  readonly tasks?: TaskHost | false;
  /** Where changes fan out; an in-memory feed when absent. */
  readonly changes?: ChangeFeed;
  /**
   * Answers `ctx.sample` with a server-side model provider for clients that cannot sample
   * (or for all, in `server` mode); closed with the engine. Absent: only clients sample.
   */
  readonly sampler?: Sampler;
  /**
   * Who leads packs' cluster-wide work (`PackHost.lead`); default `ALWAYS_LEADER`, right
   * for one process. A worker passes a lease-backed election.
   */
  readonly leadership?: Leadership;
  /**
   * Built-in first pipeline stage (params shape per method and era). Defaults to
   * `validateParams` of @mcp-cluster/protocol; handlers re-check what they read either way.
   */
  readonly validateParams?: ParamsValidator;
  /** Observes unexpected (non-protocol) errors before they become -32603 on the wire. */
  readonly onError?: (err: unknown, request: JsonRpcRequest, ctx: RequestContext) => void;
  /** Observes every answered request (method, id, duration, outcome): the debug request log. */
  readonly onRequest?: (summary: RequestSummary, request: JsonRpcRequest) => void;
}

/**
 * What a transport needs from an engine: messages in, legacy sessions, a tool's descriptor.
 * Decorators in front of the engine (the security guard) and a gateway's dispatching engine
 * implement this much and nothing more.
 */
export interface MessageEngine {
  /** Answers one request. Never rejects: every failure becomes a JSON-RPC error response. */
  handleRequest(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse>;
  /** Handles one client notification (initialized, cancelled, roots/list_changed, ...). */
  handleNotification(notification: JsonRpcNotification, ctx: RequestContext): Promise<void>;
  /** Legacy sessions (2024-11-05 .. 2025-11-25); in memory in embedded mode. */
  readonly sessions: SessionManager;
  /** A tool's listed descriptor (e.g. for routing-header checks); undefined when unknown. */
  toolDescriptor(name: string): Tool | undefined;
}

export interface Engine extends MessageEngine, AsyncDisposable {
  readonly serverInfo: Implementation;
  /** What a legacy `initialize` at the newest legacy revision declares. */
  readonly capabilities: ServerCapabilities;
  /** Tools, resources, prompts, methods served; add/remove at runtime announces list_changed. */
  readonly registry: ComponentRegistry;
  /** The change feed (list_changed, resources/updated fan-out). */
  readonly changes: ChangeFeed;
  /**
   * Rebuilds a task's run from its TaskJob, for a durable task host resuming a task another
   * node started; undefined when this node lacks the tool or the job is not resumable.
   */
  taskRun(job: TaskJob, ctx: RequestContext): TaskRun | undefined;
  /** Adds middleware at a pipeline stage (see pipeline.ts for the order). */
  use(stage: Stage, middleware: Middleware): void;
  /** Stops timers, aborts in-flight requests, ends listen streams and sessions. */
  close(): Promise<void>;
}

export interface LegacySessionState {
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  readonly logLevel?: LoggingLevel;
  readonly initialized: boolean;
  readonly subscriptions: ReadonlySet<string>;
}

/** Writes one message to a client stream. Returns false when the stream is gone. */
export type MessageSink = (message: JsonRpcMessage) => boolean | void;

export interface LegacySession {
  readonly id: string;
  /**
   * Id of the principal that created the session; another principal presenting the id is
   * answered as if the session did not exist (404). Undefined means the anonymous principal.
   */
  readonly ownerId?: string | undefined;
  readonly state: LegacySessionState;
  readonly lastSeen: number;
  /**
   * Attaches the session's standalone stream (GET SSE, WebSocket, stdio). Messages not tied
   * to a request (list_changed, resources/updated) go there. Returns a detach function.
   */
  attach(sink: MessageSink): () => void;
  /** The Outbound for one incoming request whose stream is `sink` (POST SSE, WebSocket). */
  outbound(sink: MessageSink): Outbound;
  /** Routes a client's response to the server->client request waiting for it. */
  deliverResponse(response: JsonRpcResponse): boolean;
  touch(): void;
  /**
   * Delivers a standalone-stream message when this process holds no stream for the session
   * (a cluster gateway hands it to the gateway that does). Absent in embedded mode.
   */
  relay?(message: JsonRpcMessage): boolean;
  /**
   * Runs `listener` once when the session is ended elsewhere (a cluster gateway learns that
   * another gateway served DELETE), so streams held here can close. Absent in embedded mode.
   */
  onEnd?(listener: () => void): void;
}

export interface SessionManager {
  /**
   * A new, not yet initialized session with a cryptographically random visible-ASCII id,
   * owned by `ownerId` (the creating principal; anonymous when absent).
   */
  create(ownerId?: string): LegacySession;
  /**
   * A new session like `create`, counted against the session limits first: rejects with a
   * ProtocolError (`sessionLimitError`: -32012 when `ownerId` holds `maxSessionsPerPrincipal`,
   * -32016 when the node or cluster holds `maxSessions`; `data.retryAfterMs`), and nothing is
   * stored then; rejects with -32016 when the count cannot be had. Transports open every
   * client's session this way; deleting or expiring a session frees its slot.
   */
  open(ownerId?: string): Promise<LegacySession>;
  /** This process's copy of a session, if it has one (cheap, synchronous). */
  get(id: string): LegacySession | undefined;
  /** The session wherever it is stored (a cluster reads the shared store); transports use this. */
  load(id: string): Promise<LegacySession | undefined>;
  /**
   * Ends a session: pending server->client requests reject, in-flight requests abort. A
   * cluster's may reject with -32016 (and `data.retryAfterMs`) when the session store cannot
   * end it: the session is still live, and the client is told to retry.
   */
  delete(id: string): boolean | Promise<boolean>;
  readonly size: number;
}

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
} from '@mcp-cluster/protocol';
import type { ComponentPack } from './components.js';
import type { Outbound, RequestContext } from './context.js';

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
  /** Signing keys for MRTR requestState; a random per-process key when omitted. */
  readonly stateKeys?: readonly StateKey[];
  /** Legacy sessions idle longer than this are ended. */
  readonly sessionIdleMs?: number;
  /** Page size of tools/list, resources/list, prompts/list, ... */
  readonly pageSize?: number;
  /** Modern-wire caching hints on list/read/discover results. */
  readonly listTtlMs?: number;
}

export interface Engine {
  /** Answers one request. Never rejects: every failure becomes a JSON-RPC error response. */
  handleRequest(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse>;
  /** Handles one client notification (initialized, cancelled, roots/list_changed, ...). */
  handleNotification(notification: JsonRpcNotification, ctx: RequestContext): Promise<void>;
  /** Legacy sessions (2024-11-05 .. 2025-11-25); in memory in embedded mode. */
  readonly sessions: SessionManager;
  readonly serverInfo: Implementation;
  readonly capabilities: ServerCapabilities;
  /** Stops timers and ends open streams. */
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
}

export interface SessionManager {
  /** A new, not yet initialized session with a cryptographically random visible-ASCII id. */
  create(): LegacySession;
  get(id: string): LegacySession | undefined;
  /** Ends a session: pending server->client requests reject, in-flight requests abort. */
  delete(id: string): boolean;
  readonly size: number;
}

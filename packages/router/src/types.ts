/** Branded so a plain string (a session id, a url) cannot be passed where a worker id is meant. */
export type WorkerId = string & { readonly __brand: 'WorkerId' };

export const asWorkerId = (id: string): WorkerId => id as WorkerId;

/** What a worker owns, as names (tools, prompts), exact uris (resources) and uri templates. */
export interface Ownership {
  readonly tools?: readonly string[];
  readonly prompts?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceTemplates?: readonly string[];
}

export interface WorkerSpec {
  readonly id: WorkerId;
  readonly url: string;
  /** Relative capacity for weighted strategies; default 1, must be > 0. */
  readonly weight?: number;
  readonly owns?: Ownership;
  /**
   * Requests this worker takes at once (its published limit); 0: unlimited; undefined: the
   * pool's default. A worker at its limit gets no new dispatch.
   */
  readonly maxConcurrency?: number | undefined;
}

export const HealthState = {
  /** Routable. */
  Healthy: 'healthy',
  /** Passively ejected until its backoff expires. */
  Ejected: 'ejected',
  /** Backoff expired: one trial request may go through. */
  HalfOpen: 'half-open',
  /** Active health checks failed; routable again after a successful probe. */
  Down: 'down',
} as const;
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

/** Read-only view of a worker handed to callers. */
export interface WorkerView {
  readonly id: WorkerId;
  readonly url: string;
  readonly weight: number;
  readonly owns: Ownership;
  readonly health: HealthState;
  readonly inFlight: number;
  /** Concurrency limit in force (0: unlimited). */
  readonly maxConcurrency: number;
  /** EWMA of latency in ms; 0 until the first sample. */
  readonly latencyEwma: number;
}

export interface RouteRequest {
  /** The Mcp-Method header (or the JSON-RPC method for legacy requests). */
  readonly method: string;
  /** The Mcp-Name header: tool/prompt name or resource uri. */
  readonly name?: string | undefined;
  /** Legacy session id: routes to the session's pinned worker. */
  readonly sessionId?: string | undefined;
  /** Client/session key for consistent hash and client affinity. */
  readonly clientKey?: string | undefined;
  /**
   * A message that gets no response (a legacy session's notification): it takes no slot, so
   * the session's worker gets it even at its concurrency limit.
   */
  readonly oneWay?: boolean | undefined;
  /**
   * Workers an earlier attempt of this request failed on (it hung, broke, or was held back):
   * not picked again while another candidate can serve, and a session pinned to one moves.
   */
  readonly avoid?: ReadonlySet<string> | undefined;
}

export interface RouteDecision {
  readonly worker: WorkerView;
  /** Set when a legacy session was re-pinned away from a worker that is gone or unhealthy. */
  readonly migratedFrom?: WorkerId;
}

/** Injected clock and timer so health logic is deterministic in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Legacy session -> worker pins; shared between gateways (Redis in the cluster). */
export interface PinStore {
  get(sessionId: string): Promise<WorkerId | undefined>;
  /**
   * Compare-and-set: writes only when the current pin equals `previous` (undefined = no pin).
   * Returns true when written.
   */
  set(sessionId: string, workerId: WorkerId, previous?: WorkerId): Promise<boolean>;
}

/** Decides whether a resource uri matches a uri template (RFC 6570), injected by the caller. */
export type TemplateMatcher = (template: string, uri: string) => boolean;

/** Active health probe: resolves true when the worker answers healthy. */
export type HealthProbe = (worker: WorkerView) => Promise<boolean>;

/**
 * Every metric the cluster exports, in one place: names, help, labels, buckets. The MCP ones
 * follow the OpenTelemetry semantic conventions for MCP, translated to Prometheus (dots to
 * underscores, the unit as a suffix); the rest are the cluster's own, under `mcp_`. The
 * dashboards and alert rules in deploy/ query exactly these names (a test checks it).
 *
 * Cardinality stays bounded: tool and prompt names come from the registry (a name it does
 * not hold is `_other`), workers are few, and uris, session ids and request ids are never
 * label values.
 */
import type { MetricDef } from './metrics.js';

/** The conventions' buckets for MCP operation and session durations, in seconds. */
export const MCP_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
];

/** Finer buckets for the gateway -> worker hop and store probes (sub-millisecond to 10 s). */
export const HOP_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The label value of a tool or prompt name the registry does not hold. */
export const OTHER = '_other';

/** Labels of the operation histogram; a label that does not apply is left out. */
export type OperationLabel =
  | 'mcp_method_name'
  | 'gen_ai_tool_name'
  | 'gen_ai_prompt_name'
  | 'error_type'
  | 'mcp_protocol_version'
  | 'network_transport';

export const METRICS = {
  // --- Every process that serves MCP (serve, gateway, worker) ---------------------------
  /**
   * `mcp.server.operation.duration`: one observation per answered request. `error_type` is
   * the JSON-RPC error code, or `tool_error` for a tool result with isError; absent on
   * success. `network_transport`: `tcp` (HTTP, WebSocket) or `pipe` (stdio).
   */
  operationDuration: {
    name: 'mcp_server_operation_duration_seconds',
    help: 'Duration of MCP requests handled by this process (OpenTelemetry mcp.server.operation.duration)',
    labelNames: [
      'mcp_method_name',
      'gen_ai_tool_name',
      'gen_ai_prompt_name',
      'error_type',
      'mcp_protocol_version',
      'network_transport',
    ],
    buckets: MCP_DURATION_BUCKETS,
  } satisfies MetricDef<OperationLabel>,
  /** `mcp.server.session.duration`: one observation per legacy session that ended. */
  sessionDuration: {
    name: 'mcp_server_session_duration_seconds',
    help: 'Duration of MCP sessions that ended (OpenTelemetry mcp.server.session.duration)',
    labelNames: ['mcp_protocol_version', 'network_transport'],
    buckets: MCP_DURATION_BUCKETS,
  } satisfies MetricDef<'mcp_protocol_version' | 'network_transport'>,
  /** Legacy sessions held by this process (workers: the sessions pinned to them). */
  sessionsActive: {
    name: 'mcp_server_sessions_active',
    help: 'Legacy MCP sessions held by this process',
    labelNames: [],
  } satisfies MetricDef<never>,
  /** Open server-to-client streams: `sse` (Streamable HTTP and 2024-11-05 HTTP+SSE), `websocket`. */
  streamsOpen: {
    name: 'mcp_server_streams_open',
    help: 'Open server-to-client streams by transport',
    labelNames: ['transport'],
  } satisfies MetricDef<'transport'>,
  /** Requests refused by authentication, by reason (`missing`, `invalid`, `expired`, ...). */
  authDenials: {
    name: 'mcp_auth_denials_total',
    help: 'Requests refused by authentication or authorization, by reason',
    labelNames: ['reason'],
  } satisfies MetricDef<'reason'>,
  /** Requests refused by a rate limit, by the limit that refused them. */
  rateLimitDenials: {
    name: 'mcp_rate_limit_denials_total',
    help: 'Requests refused by a rate limit, by limit',
    labelNames: ['limit'],
  } satisfies MetricDef<'limit'>,
  /** 1, labelled with the version and role: what runs where. */
  buildInfo: {
    name: 'mcp_cluster_build_info',
    help: 'Always 1: the version of mcp-cluster this process runs',
    labelNames: ['version'],
  } satisfies MetricDef<'version'>,

  // --- Gateway ---------------------------------------------------------------------------
  /** One observation per dispatch attempt, by worker and outcome (the port's outcome kind). */
  dispatchDuration: {
    name: 'mcp_gateway_dispatch_duration_seconds',
    help: 'Duration of dispatch attempts from this gateway to a worker, by worker and outcome',
    labelNames: ['worker', 'outcome'],
    buckets: HOP_DURATION_BUCKETS,
  } satisfies MetricDef<'worker' | 'outcome'>,
  /** Each routing decision: `owner`, `any`, `pinned`, `repinned`, `no_worker`. */
  routerDecisions: {
    name: 'mcp_gateway_router_decisions_total',
    help: 'Routing decisions of this gateway, by kind',
    labelNames: ['decision'],
  } satisfies MetricDef<'decision'>,
  /** Health changes the router made: a worker `ejected`, `down`, or back to `healthy`. */
  workerHealthChanges: {
    name: 'mcp_gateway_worker_health_changes_total',
    help: 'Worker health changes seen by this gateway, by worker and new state',
    labelNames: ['worker', 'state'],
  } satisfies MetricDef<'worker' | 'state'>,
  /** Workers in this gateway's pool by health state (`healthy`, `ejected`, `half-open`, `down`). */
  workers: {
    name: 'mcp_gateway_workers',
    help: "Workers in this gateway's pool, by health state",
    labelNames: ['state'],
  } satisfies MetricDef<'state'>,
  /**
   * Each worker's circuit breaker on this gateway: 1 for its state (`closed`, `open`,
   * `half-open`), 0 for the others. Breaker state is shared, so every gateway shows the same.
   */
  breakerState: {
    name: 'mcp_gateway_breaker_state',
    help: "Circuit breaker state of each worker on this gateway (1: the breaker's state)",
    labelNames: ['worker', 'state'],
  } satisfies MetricDef<'worker' | 'state'>,
  /**
   * Breaker transitions on this gateway, by worker, new state and `origin`: `local` (this
   * gateway's breaker decided) or `remote` (another gateway's, applied here).
   */
  breakerTransitions: {
    name: 'mcp_gateway_breaker_transitions_total',
    help: 'Circuit breaker transitions on this gateway, by worker, new state and origin',
    labelNames: ['worker', 'to', 'origin'],
  } satisfies MetricDef<'worker' | 'to' | 'origin'>,
  /**
   * Requests refused because every worker that could serve them was at its concurrency limit:
   * `queue_full` (refused at once), `timeout` (waited `gatewayQueueTimeoutMs` or to its
   * deadline). Each got 503 + Retry-After, -32016.
   */
  shedRequests: {
    name: 'mcp_gateway_shed_requests_total',
    help: 'Requests this gateway refused at capacity (all candidate workers at their limit), by reason',
    labelNames: ['reason'],
  } satisfies MetricDef<'reason'>,
  /** Requests waiting now for a slot on a worker at its concurrency limit. */
  queueDepth: {
    name: 'mcp_gateway_queue_depth',
    help: 'Requests waiting in this gateway for a worker slot',
    labelNames: [],
  } satisfies MetricDef<never>,

  // --- Worker ----------------------------------------------------------------------------
  inflight: {
    name: 'mcp_worker_inflight_requests',
    help: 'Dispatches this worker is running',
    labelNames: [],
  } satisfies MetricDef<never>,
  draining: {
    name: 'mcp_worker_draining',
    help: '1 while this worker drains (takes no new work), else 0',
    labelNames: [],
  } satisfies MetricDef<never>,
  /** Registry heartbeats by result: `ok`, `reregistered` (the record had lapsed), `error`. */
  heartbeats: {
    name: 'mcp_worker_registry_heartbeats_total',
    help: 'Registry heartbeats of this worker, by result',
    labelNames: ['result'],
  } satisfies MetricDef<'result'>,

  // --- Durable tasks (workers) ------------------------------------------------------------
  /** Jobs in the cluster's task queue by BullMQ state (`waiting`, `delayed`, `active`, ...). */
  taskQueueDepth: {
    name: 'mcp_tasks_queue_depth',
    help: "Jobs in the cluster's durable task queue, by state",
    labelNames: ['state'],
  } satisfies MetricDef<'state'>,
  tasksRunning: {
    name: 'mcp_tasks_running',
    help: 'Durable tasks running on this node',
    labelNames: [],
  } satisfies MetricDef<never>,
  /** Task runs that ended on this node: `completed`, `failed`, `cancelled`. */
  tasksFinished: {
    name: 'mcp_tasks_finished_total',
    help: 'Durable task runs that ended on this node, by status',
    labelNames: ['status'],
  } satisfies MetricDef<'status'>,
  /** Tasks this node resumed after the node that started them stopped. */
  taskTakeovers: {
    name: 'mcp_tasks_takeovers_total',
    help: 'Durable tasks this node took over from a node that stopped',
    labelNames: [],
  } satisfies MetricDef<never>,

  // --- Redis and NATS (gateway, worker) -----------------------------------------------------
  /** 1 while the connection is up (`redis`, `nats`). */
  backendUp: {
    name: 'mcp_backend_up',
    help: 'Whether the connection to a backend (redis, nats) is up',
    labelNames: ['backend'],
  } satisfies MetricDef<'backend'>,
  /** Round trips of a periodic probe (Redis PING, NATS flush). */
  backendLatency: {
    name: 'mcp_backend_probe_duration_seconds',
    help: 'Round trip of the periodic probe of a backend (Redis PING, NATS RTT)',
    labelNames: ['backend'],
    buckets: HOP_DURATION_BUCKETS,
  } satisfies MetricDef<'backend'>,
  /** Times the NATS connection came back after dropping (each triggers a reconcile). */
  busReconnects: {
    name: 'mcp_bus_reconnects_total',
    help: 'Times the event bus (NATS) connection came back after dropping',
    labelNames: [],
  } satisfies MetricDef<never>,
  /** Events published while NATS is away, held to be re-sent on reconnect. */
  busBuffered: {
    name: 'mcp_bus_buffered_events',
    help: 'Events held while the event bus (NATS) is disconnected, re-sent on reconnect',
    labelNames: [],
  } satisfies MetricDef<never>,
  /** Held events dropped: the offline buffer was full (oldest first), or the node closed. */
  busDropped: {
    name: 'mcp_bus_events_dropped_total',
    help: 'Events dropped from the offline buffer of the event bus (full, or closed while away)',
    labelNames: [],
  } satisfies MetricDef<never>,
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS]['name'];

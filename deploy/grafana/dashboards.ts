/**
 * The Grafana dashboards of mcp-cluster, as code. `npx tsx deploy/grafana/generate.ts` writes
 * them to deploy/grafana/dashboards/*.json (a test checks the committed files match).
 *
 * Metric names are those of packages/observability/src/catalogue.ts and prom-client's Node
 * defaults. A gateway and the worker behind it both observe each request: what clients see
 * is `role=~"serve|gateway"`, where the time goes is `role="worker"`.
 */
import type { Dashboard } from '@grafana/schema';
import { DashboardCursorSync } from '@grafana/schema';
import type { Query, Section } from './panels.js';
import {
  customVariable,
  datasourceVariable,
  labelVariable,
  layout,
  stat,
  timeseries,
} from './panels.js';

/** Grafana 10.x and later load this schema version (newer ones migrate it on load). */
const SCHEMA_VERSION = 39;

/** The rate window Grafana picks from the scrape interval and the panel's resolution. */
const W = '$__rate_interval';

/** Client-facing MCP requests on the selected nodes. */
const CLIENT = 'role=~"serve|gateway", node=~"$node"';
/** MCP requests as the workers ran them, on the selected nodes. */
const WORKER = 'role="worker", node=~"$node"';
/** The selected nodes (and roles, on the cluster health dashboard). */
const NODE = 'node=~"$node"';
const NODE_ROLE = 'role=~"$role", node=~"$node"';

const OPS = 'mcp_server_operation_duration_seconds';

function rate(metric: string, selector: string, by: string): string {
  return `sum by (${by}) (rate(${metric}{${selector}}[${W}]))`;
}

function quantile(q: number, metric: string, selector: string, by: string): string {
  return `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket{${selector}}[${W}])))`;
}

/** Errors per request: requests with an `error_type` over all requests. */
function errorRatio(selector: string, by: string): string {
  return `${rate(`${OPS}_count`, `${selector}, error_type!=""`, by)} / ${rate(`${OPS}_count`, selector, by)}`;
}

function latencyQueries(selector: string, by: string, legend: string): Query[] {
  return [
    { expr: quantile(0.5, OPS, selector, by), legend: `p50 ${legend}` },
    { expr: quantile(0.99, OPS, selector, by), legend: `p99 ${legend}` },
  ];
}

const TOOLS = `${CLIENT}, mcp_method_name="tools/call"`;

const overviewSections: Section[] = [
  {
    title: 'Requests as clients see them (serve and gateway)',
    panels: [
      stat({
        title: 'Request rate',
        description: 'MCP requests answered per second.',
        unit: 'reqps',
        queries: [{ expr: `sum(rate(${OPS}_count{${CLIENT}}[${W}]))`, legend: 'requests' }],
      }),
      stat({
        title: 'Error ratio',
        description: 'Share of requests that ended in a JSON-RPC error or a tool error.',
        unit: 'percentunit',
        thresholds: [
          { value: 0.01, color: 'orange' },
          { value: 0.05, color: 'red' },
        ],
        queries: [
          {
            expr: `sum(rate(${OPS}_count{${CLIENT}, error_type!=""}[${W}])) / sum(rate(${OPS}_count{${CLIENT}}[${W}]))`,
            legend: 'errors',
          },
        ],
      }),
      stat({
        title: 'p99 latency',
        description: 'p99 duration of all MCP requests.',
        unit: 's',
        thresholds: [
          { value: 1, color: 'orange' },
          { value: 5, color: 'red' },
        ],
        queries: [
          {
            expr: `histogram_quantile(0.99, sum by (le) (rate(${OPS}_bucket{${CLIENT}}[${W}])))`,
            legend: 'p99',
          },
        ],
      }),
      stat({
        title: 'Sessions active',
        description: 'Legacy MCP sessions held by serve nodes and workers.',
        unit: 'short',
        queries: [{ expr: `sum(mcp_server_sessions_active{${NODE}})`, legend: 'sessions' }],
      }),
      timeseries({
        title: 'Request rate by method',
        description: 'MCP requests answered per second, by JSON-RPC method.',
        unit: 'reqps',
        queries: [
          {
            expr: rate(`${OPS}_count`, CLIENT, 'mcp_method_name'),
            legend: '{{mcp_method_name}}',
          },
        ],
      }),
      timeseries({
        title: 'Error ratio by method',
        description: 'Share of requests of each method that ended in an error.',
        unit: 'percentunit',
        queries: [{ expr: errorRatio(CLIENT, 'mcp_method_name'), legend: '{{mcp_method_name}}' }],
      }),
      timeseries({
        title: 'Latency by method (p50, p99)',
        description: 'Request duration quantiles by method.',
        unit: 's',
        queries: latencyQueries(CLIENT, 'mcp_method_name', '{{mcp_method_name}}'),
      }),
      timeseries({
        title: 'Errors by error type',
        description: 'Failed requests per second by JSON-RPC error code (tool_error: isError).',
        unit: 'reqps',
        queries: [
          {
            expr: rate(`${OPS}_count`, `${CLIENT}, error_type!=""`, 'error_type'),
            legend: '{{error_type}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Tools',
    panels: [
      timeseries({
        title: 'Tool calls by tool',
        description: 'tools/call requests per second by tool (_other: a name the registry lacks).',
        unit: 'reqps',
        queries: [
          {
            expr: rate(`${OPS}_count`, TOOLS, 'gen_ai_tool_name'),
            legend: '{{gen_ai_tool_name}}',
          },
        ],
      }),
      timeseries({
        title: 'Tool error ratio by tool',
        description: 'Share of calls of each tool that ended in an error.',
        unit: 'percentunit',
        queries: [{ expr: errorRatio(TOOLS, 'gen_ai_tool_name'), legend: '{{gen_ai_tool_name}}' }],
      }),
      timeseries({
        title: 'Tool latency by tool (p50, p99)',
        description: 'tools/call duration quantiles by tool.',
        unit: 's',
        queries: latencyQueries(TOOLS, 'gen_ai_tool_name', '{{gen_ai_tool_name}}'),
      }),
      timeseries({
        title: 'Tool errors (isError results)',
        description: 'Tool results with isError: true per second, by tool.',
        unit: 'reqps',
        queries: [
          {
            expr: rate(`${OPS}_count`, `${TOOLS}, error_type="tool_error"`, 'gen_ai_tool_name'),
            legend: '{{gen_ai_tool_name}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Sessions and streams',
    panels: [
      timeseries({
        title: 'Sessions active by node',
        description: 'Legacy MCP sessions held by each serve node or worker.',
        unit: 'short',
        width: 8,
        stacked: true,
        queries: [
          { expr: `sum by (node) (mcp_server_sessions_active{${NODE}})`, legend: '{{node}}' },
        ],
      }),
      timeseries({
        title: 'Session duration (p50, p99)',
        description: 'Duration of legacy sessions that ended.',
        unit: 's',
        width: 8,
        queries: [
          {
            expr: `histogram_quantile(0.5, sum by (le) (rate(mcp_server_session_duration_seconds_bucket{${NODE}}[${W}])))`,
            legend: 'p50',
          },
          {
            expr: `histogram_quantile(0.99, sum by (le) (rate(mcp_server_session_duration_seconds_bucket{${NODE}}[${W}])))`,
            legend: 'p99',
          },
        ],
      }),
      timeseries({
        title: 'Open streams by transport',
        description: 'Open server-to-client streams: sse, websocket, legacy_sse.',
        unit: 'short',
        width: 8,
        stacked: true,
        queries: [
          {
            expr: `sum by (transport) (mcp_server_streams_open{${NODE}})`,
            legend: '{{transport}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Routing and workers (gateways)',
    panels: [
      timeseries({
        title: 'Workers by state',
        description: "Workers in each gateway's pool by health state.",
        unit: 'short',
        queries: [
          {
            expr: `sum by (node, state) (mcp_gateway_workers{${NODE}})`,
            legend: '{{node}} {{state}}',
          },
        ],
      }),
      timeseries({
        title: 'Router decisions',
        description: 'Routing decisions per second: owner, any, pinned, repinned, no_worker.',
        unit: 'ops',
        stacked: true,
        queries: [
          {
            expr: rate('mcp_gateway_router_decisions_total', NODE, 'decision'),
            legend: '{{decision}}',
          },
        ],
      }),
      timeseries({
        title: 'Dispatch latency by worker (p50, p99)',
        description: 'Duration of the gateway-to-worker hop, by worker.',
        unit: 's',
        queries: [
          {
            expr: quantile(0.5, 'mcp_gateway_dispatch_duration_seconds', NODE, 'worker'),
            legend: 'p50 {{worker}}',
          },
          {
            expr: quantile(0.99, 'mcp_gateway_dispatch_duration_seconds', NODE, 'worker'),
            legend: 'p99 {{worker}}',
          },
        ],
      }),
      timeseries({
        title: 'Dispatch outcomes by worker',
        description: 'Dispatch attempts per second by worker and outcome.',
        unit: 'ops',
        queries: [
          {
            expr: rate('mcp_gateway_dispatch_duration_seconds_count', NODE, 'worker, outcome'),
            legend: '{{worker}} {{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Worker-side latency by method (p99)',
        description: 'How long the workers took to run each method (without the gateway hop).',
        unit: 's',
        width: 24,
        queries: [
          {
            expr: quantile(0.99, OPS, WORKER, 'mcp_method_name'),
            legend: '{{mcp_method_name}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Authentication and rate limits',
    panels: [
      timeseries({
        title: 'Auth denials by reason',
        description: 'Requests refused by authentication or authorization, per second.',
        unit: 'reqps',
        stacked: true,
        queries: [{ expr: rate('mcp_auth_denials_total', NODE, 'reason'), legend: '{{reason}}' }],
      }),
      timeseries({
        title: 'Rate-limit denials by limit',
        description: 'Requests refused by each rate limit, per second.',
        unit: 'reqps',
        stacked: true,
        queries: [
          { expr: rate('mcp_rate_limit_denials_total', NODE, 'limit'), legend: '{{limit}}' },
        ],
      }),
    ],
  },
];

const healthSections: Section[] = [
  {
    title: 'Redis and NATS',
    panels: [
      stat({
        title: 'Redis up (all nodes)',
        description: '1 when every selected node holds a Redis connection.',
        unit: 'short',
        queries: [{ expr: `min(mcp_backend_up{${NODE_ROLE}, backend="redis"})`, legend: 'redis' }],
        baseColor: 'red',
        thresholds: [{ value: 1, color: 'green' }],
      }),
      stat({
        title: 'NATS up (all nodes)',
        description: '1 when every selected node holds a NATS connection.',
        unit: 'short',
        queries: [{ expr: `min(mcp_backend_up{${NODE_ROLE}, backend="nats"})`, legend: 'nats' }],
        baseColor: 'red',
        thresholds: [{ value: 1, color: 'green' }],
      }),
      stat({
        title: 'Nodes',
        description: 'Processes exporting metrics, by role.',
        unit: 'short',
        queries: [
          { expr: `count by (role) (mcp_cluster_build_info{${NODE_ROLE}})`, legend: '{{role}}' },
        ],
      }),
      stat({
        title: 'Targets down',
        description: 'Scrape targets of the mcp-* jobs that did not answer.',
        unit: 'short',
        thresholds: [{ value: 1, color: 'red' }],
        queries: [{ expr: 'count(up{job=~"mcp-.*"} == 0) or vector(0)', legend: 'down' }],
      }),
      timeseries({
        title: 'Backend connection by node',
        description: 'Whether each node is connected to Redis and NATS (1 up, 0 down).',
        unit: 'short',
        queries: [
          {
            expr: `max by (node, backend) (mcp_backend_up{${NODE_ROLE}})`,
            legend: '{{node}} {{backend}}',
          },
        ],
      }),
      timeseries({
        title: 'Backend probe latency (p50, p99)',
        description: 'Round trip of the periodic Redis PING and NATS flush.',
        unit: 's',
        queries: [
          {
            expr: quantile(0.5, 'mcp_backend_probe_duration_seconds', NODE_ROLE, 'backend'),
            legend: 'p50 {{backend}}',
          },
          {
            expr: quantile(0.99, 'mcp_backend_probe_duration_seconds', NODE_ROLE, 'backend'),
            legend: 'p99 {{backend}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Node.js runtime',
    panels: [
      timeseries({
        title: 'Event-loop lag p99 by node',
        description: 'p99 event-loop delay as sampled by prom-client.',
        unit: 's',
        queries: [
          {
            expr: `max by (node) (nodejs_eventloop_lag_p99_seconds{${NODE_ROLE}})`,
            legend: '{{node}}',
          },
        ],
      }),
      timeseries({
        title: 'GC time by node and kind',
        description: 'Seconds per second spent in garbage collection.',
        unit: 'percentunit',
        queries: [
          {
            expr: rate('nodejs_gc_duration_seconds_sum', NODE_ROLE, 'node, kind'),
            legend: '{{node}} {{kind}}',
          },
        ],
      }),
      timeseries({
        title: 'Memory by node',
        description: 'Resident set size, V8 heap used and V8 heap total.',
        unit: 'bytes',
        queries: [
          {
            expr: `sum by (node) (process_resident_memory_bytes{${NODE_ROLE}})`,
            legend: 'rss {{node}}',
          },
          {
            expr: `sum by (node) (nodejs_heap_size_used_bytes{${NODE_ROLE}})`,
            legend: 'heap used {{node}}',
          },
          {
            expr: `sum by (node) (nodejs_heap_size_total_bytes{${NODE_ROLE}})`,
            legend: 'heap total {{node}}',
          },
        ],
      }),
      timeseries({
        title: 'CPU by node',
        description: 'CPU seconds per second (1 = one core busy).',
        unit: 'short',
        queries: [
          { expr: rate('process_cpu_seconds_total', NODE_ROLE, 'node'), legend: '{{node}}' },
        ],
      }),
      timeseries({
        title: 'Active handles by node',
        description: 'Open sockets, timers and other libuv handles.',
        unit: 'short',
        width: 24,
        queries: [
          {
            expr: `sum by (node) (nodejs_active_handles{${NODE_ROLE}})`,
            legend: '{{node}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Workers',
    panels: [
      timeseries({
        title: 'In-flight dispatches by worker',
        description: 'Dispatches each worker is running.',
        unit: 'short',
        width: 8,
        stacked: true,
        queries: [
          { expr: `sum by (node) (mcp_worker_inflight_requests{${NODE}})`, legend: '{{node}}' },
        ],
      }),
      timeseries({
        title: 'Draining workers',
        description: '1 while a worker drains (takes no new work).',
        unit: 'short',
        width: 8,
        queries: [{ expr: `max by (node) (mcp_worker_draining{${NODE}})`, legend: '{{node}}' }],
      }),
      timeseries({
        title: 'Registry heartbeats by result',
        description: 'Heartbeats per second: ok, reregistered (the record had lapsed), error.',
        unit: 'ops',
        width: 8,
        queries: [
          {
            expr: rate('mcp_worker_registry_heartbeats_total', NODE, 'node, result'),
            legend: '{{node}} {{result}}',
          },
        ],
      }),
      timeseries({
        title: 'Worker health changes (seen by gateways)',
        description:
          'Health changes per second by worker and new state; steady changes mean flapping.',
        unit: 'ops',
        width: 24,
        queries: [
          {
            expr: rate('mcp_gateway_worker_health_changes_total', NODE, 'worker, state'),
            legend: '{{worker}} → {{state}}',
          },
        ],
      }),
    ],
  },
  {
    title: 'Durable tasks',
    panels: [
      timeseries({
        title: 'Queue depth by state',
        description: 'Jobs in the shared task queue (every worker reports it: the largest report).',
        unit: 'short',
        queries: [{ expr: `max by (state) (mcp_tasks_queue_depth{${NODE}})`, legend: '{{state}}' }],
      }),
      timeseries({
        title: 'Tasks running by node',
        description: 'Durable tasks running on each node.',
        unit: 'short',
        stacked: true,
        queries: [{ expr: `sum by (node) (mcp_tasks_running{${NODE}})`, legend: '{{node}}' }],
      }),
      timeseries({
        title: 'Tasks finished by status',
        description: 'Task runs that ended per second: completed, failed, cancelled.',
        unit: 'ops',
        stacked: true,
        queries: [{ expr: rate('mcp_tasks_finished_total', NODE, 'status'), legend: '{{status}}' }],
      }),
      timeseries({
        title: 'Task takeovers by node',
        description: 'Tasks taken over from a node that stopped, per interval.',
        unit: 'short',
        queries: [
          {
            expr: `sum by (node) (increase(mcp_tasks_takeovers_total{${NODE}}[${W}]))`,
            legend: '{{node}}',
          },
        ],
      }),
    ],
  },
];

function dashboard(
  uid: string,
  title: string,
  description: string,
  sections: Section[],
  variables: NonNullable<Dashboard['templating']>['list'],
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['mcp-cluster'],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: SCHEMA_VERSION,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    templating: { list: variables },
    annotations: { list: [] },
    panels: layout(sections),
  };
}

const NODES_QUERY = 'label_values(mcp_cluster_build_info, node)';

export const MCP_OVERVIEW: Dashboard = dashboard(
  'mcp-overview',
  'MCP overview',
  'MCP traffic as clients see it: requests, errors and latency per method and tool, sessions, streams, routing, denials.',
  overviewSections,
  [datasourceVariable(), labelVariable('node', 'Node', NODES_QUERY)],
);

export const MCP_CLUSTER_HEALTH: Dashboard = dashboard(
  'mcp-cluster-health',
  'MCP cluster health',
  'Redis and NATS, the Node.js runtime of every node, worker state and durable tasks.',
  healthSections,
  [
    datasourceVariable(),
    customVariable('role', 'Role', ['serve', 'gateway', 'worker']),
    labelVariable('node', 'Node', 'label_values(mcp_cluster_build_info{role=~"$role"}, node)'),
  ],
);

/** Each dashboard and the file it is provisioned from, under deploy/grafana/dashboards. */
export const DASHBOARDS: readonly { readonly file: string; readonly dashboard: Dashboard }[] = [
  { file: 'mcp-overview.json', dashboard: MCP_OVERVIEW },
  { file: 'mcp-cluster-health.json', dashboard: MCP_CLUSTER_HEALTH },
];

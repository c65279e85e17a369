/**
 * A process's metrics and how they are served: the registry a service creates at its wiring
 * point (with its role and node id on every series), and `/metrics` as a plain Node handler,
 * on the service's own listener or on a port of its own.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS } from './catalogue.js';
import { noopMetrics } from './metrics.js';
import type { Metrics } from './metrics.js';
import { PrometheusMetrics } from './prometheus.js';

export const METRICS_PATH = '/metrics';

/** The version of mcp-cluster (every package of it has the same one). */
export const MCP_CLUSTER_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

export interface ProcessMetricsOptions {
  /** Off: nothing is recorded and no `/metrics` is served. */
  readonly enabled: boolean;
  readonly role: 'serve' | 'gateway' | 'worker' | 'stdio';
  readonly nodeId: string;
}

/** What a service records into, and what it serves (undefined when metrics are off). */
export interface ProcessMetrics {
  readonly metrics: Metrics;
  readonly exposition: PrometheusMetrics | undefined;
}

export function processMetrics(o: ProcessMetricsOptions): ProcessMetrics {
  if (!o.enabled) return { metrics: noopMetrics, exposition: undefined };
  const metrics = new PrometheusMetrics({ defaultLabels: { role: o.role, node: o.nodeId } });
  metrics.gauge(METRICS.buildInfo).set({ version: MCP_CLUSTER_VERSION }, 1);
  return { metrics, exposition: metrics };
}

/** GET /metrics as a Node handler: the text exposition, or 500 when a collector throws. */
export function metricsHandler(
  metrics: PrometheusMetrics,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  };
}

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** `/metrics` on a listener of its own (`metricsPort`): kept off the public MCP port. */
export async function listenMetrics(
  metrics: PrometheusMetrics,
  host: string,
  port: number,
): Promise<MetricsListener> {
  const handle = metricsHandler(metrics);
  const server: Server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] === METRICS_PATH) handle(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The part of an HTTP framework `serveMetrics` needs (fastify's instance has it). */
export interface RouteHost {
  get(
    path: string,
    handler: (
      req: { readonly raw: IncomingMessage },
      reply: { hijack(): void; readonly raw: ServerResponse },
    ) => void,
  ): unknown;
}

/**
 * Serves `/metrics`: beside the app's routes, or on a listener of its own when `port` is
 * set (returned; the caller closes it). Nothing when metrics are off.
 */
export async function serveMetrics(
  app: RouteHost,
  exposition: PrometheusMetrics | undefined,
  listen: { readonly host: string; readonly port?: number | undefined },
): Promise<MetricsListener | undefined> {
  if (exposition === undefined) return undefined;
  if (listen.port !== undefined) return listenMetrics(exposition, listen.host, listen.port);
  const handle = metricsHandler(exposition);
  app.get(METRICS_PATH, (req, reply) => {
    reply.hijack();
    handle(req.raw, reply.raw);
  });
  return undefined;
}

/** The path of a node's status document. */
export const STATUS_PATH = '/status';

/** What every node's `/status` starts with: who it is, what runs, since when. */
export interface BaseStatus {
  readonly version: string;
  readonly role: string;
  readonly node: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
}

/** The base of a node's status, `startedAt` being when the node started serving. */
export function baseStatus(role: string, node: string, startedAt: Date): BaseStatus {
  return {
    version: MCP_CLUSTER_VERSION,
    role,
    node,
    startedAt: startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  };
}

/**
 * The fastify application of an embedded node: the only place transports, engine, security
 * and configuration are wired together (HOUSE_STYLE 9).
 */
import { hostname } from 'node:os';
import { logStream } from '@mcp-cluster/config';
import type { Config } from '@mcp-cluster/config';
import {
  baseStatus,
  processMetrics,
  serveMetrics,
  traceLogFields,
} from '@mcp-cluster/observability';
import type { MetricsListener } from '@mcp-cluster/observability';
import { auditMetrics, createSecurity, tlsServerOptions } from '@mcp-cluster/security';
import type { Security } from '@mcp-cluster/security';
import { countComponents, observeEngine, registryKnows } from '@mcp-cluster/server';
import type { Engine } from '@mcp-cluster/server';
import { createHttpApp, mcpTransports } from '@mcp-cluster/transports';
import type { FastifyInstance } from '@mcp-cluster/transports';

/** The app and what it was built with (the caller closes them). */
export interface EmbeddedApp {
  readonly app: FastifyInstance;
  readonly security: Security;
  /** `/metrics` on a port of its own (`metricsPort`), when configured. */
  readonly metricsListener: MetricsListener | undefined;
}

export async function buildApp(config: Config, engine: Engine): Promise<EmbeddedApp> {
  const startedAt = new Date();
  const nodeId = config.nodeId ?? hostname();
  const { metrics, exposition } = processMetrics({
    enabled: config.metricsEnabled,
    role: 'serve',
    nodeId,
  });
  const security = await createSecurity(config.auth, {
    mode: 'embedded',
    prefix: config.clusterPrefix,
    path: config.path,
    onAudit: auditMetrics(metrics),
  });
  try {
    const app = createHttpApp({
      ...config,
      https: config.tls === undefined ? undefined : tlsServerOptions(config.tls),
      logMixin: traceLogFields,
      logStream: logStream(),
    });
    await security.registerRoutes(app);
    // Outermost: a request a policy refused is an operation like any other.
    const observed = observeEngine(security.wrap(engine), {
      metrics,
      networkTransport: 'tcp',
      sessionDurations: true,
      knows: registryKnows(engine.registry),
    });
    await app.register(mcpTransports, {
      engine: observed,
      metrics,
      status: () => ({
        ...baseStatus('serve', nodeId, startedAt),
        components: countComponents(engine),
        sessions: engine.sessions.size,
      }),
      settings: config,
      ...(security.guard === undefined ? {} : { guard: security.guard }),
    });
    // Nothing to wait for: an embedded node is ready once it listens.
    app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
    app.get('/readyz', (_req, reply) => reply.send({ ready: true, reasons: [], degraded: [] }));
    const metricsListener = await serveMetrics(app, exposition, {
      host: config.host,
      port: config.metricsPort,
    });
    return { app, security, metricsListener };
  } catch (err) {
    await security.close();
    throw err;
  }
}

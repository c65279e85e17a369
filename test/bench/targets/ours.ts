/**
 * Targets (a), (b), (i), (j): our embedded server via the programmatic API `startEmbedded`
 * (services/cli/src/index.ts), serving the bench pack. The parent chooses metrics with
 * MCP_METRICS_ENABLED (on unless "false") and tracing with the standard OTEL_* variables, as
 * the CLI would: `startEmbedded` itself reads no environment. Should this child fail to start,
 * the parent falls back to the CLI (`serve --port 0`), see targets.ts.
 */
import { fileURLToPath } from 'node:url';
import { startEmbedded } from '@mcp-cluster/cli';
import { startTracingFromEnv } from '@mcp-cluster/observability';
import { announce, exitOnSignals } from './announce.js';

const PACK = fileURLToPath(new URL('../pack.ts', import.meta.url));

function metricsEnabled(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`MCP_METRICS_ENABLED: expected true or false, got ${JSON.stringify(raw)}`);
}

try {
  const metrics = metricsEnabled(process.env.MCP_METRICS_ENABLED?.trim());
  // Started before the node, as the CLI does; undefined unless OTEL_* ask for it.
  const tracing = await startTracingFromEnv({
    serviceName: 'mcp-cluster-serve',
    nodeId: `bench-${process.pid}`,
    role: 'serve',
  });
  const server = await startEmbedded({
    host: '127.0.0.1',
    port: 0,
    packs: [PACK],
    // Sessions must outlive the RSS step; the SDK targets log nothing per request either.
    sessionIdleMs: Number(process.env.MCP_SESSION_IDLE_MS ?? 3_600_000),
    // The memory step opens many anonymous sessions: OURS_ENV lifts the per-principal cap.
    maxSessionsPerPrincipal: Number(process.env.MCP_MAX_SESSIONS_PER_PRINCIPAL ?? 100),
    maxSessions: Number(process.env.MCP_MAX_SESSIONS ?? 10_000),
    metricsEnabled: metrics,
    logLevel: 'warn',
  });
  // The buffered spans are exported on the way out, so the sink sees the last batch.
  exitOnSignals(async () => {
    await server.close();
    await tracing?.shutdown();
  });
  const endpoint =
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  announce({
    ready: true,
    url: server.url,
    note: `startEmbedded (services/cli) with test/bench/pack.ts; metrics ${metrics ? 'on' : 'off'}; tracing ${tracing === undefined ? 'off' : `on (OTLP/HTTP to ${endpoint})`}`,
  });
} catch (err) {
  announce({ ready: false, reason: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}

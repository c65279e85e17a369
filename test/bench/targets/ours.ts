/**
 * Targets (a) and (b): our embedded server via the programmatic API `startEmbedded`
 * (services/cli/src/index.ts), serving the bench pack. Should this child fail to start, the
 * parent falls back to the CLI (`serve --port 0`), see targets.ts.
 */
import { fileURLToPath } from 'node:url';
import { startEmbedded } from '@mcp-cluster/cli';
import { announce, exitOnSignals } from './announce.js';

const PACK = fileURLToPath(new URL('../pack.ts', import.meta.url));

const server = await startEmbedded({
  host: '127.0.0.1',
  port: 0,
  packs: [PACK],
  // Sessions must outlive the RSS step; the SDK targets log nothing per request either.
  sessionIdleMs: Number(process.env.MCP_SESSION_IDLE_MS ?? 3_600_000),
  // The memory step opens many anonymous sessions: OURS_ENV lifts the per-principal cap.
  maxSessionsPerPrincipal: Number(process.env.MCP_MAX_SESSIONS_PER_PRINCIPAL ?? 100),
  maxSessions: Number(process.env.MCP_MAX_SESSIONS ?? 10_000),
  logLevel: 'warn',
});
exitOnSignals(() => server.close());
announce({
  ready: true,
  url: server.url,
  note: 'startEmbedded (services/cli) with test/bench/pack.ts',
});

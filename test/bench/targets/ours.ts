/**
 * Targets (a) and (b): our embedded server via the programmatic API `startEmbedded`
 * (services/cli/src/index.ts), serving the bench pack. If that API is not there yet, this
 * child says so and the parent falls back to spawning the CLI (`serve --port 0`).
 */
import { fileURLToPath } from 'node:url';
import { announce, exitOnSignals } from './announce.js';

/** The slice of the CLI's programmatic API the bench uses (contract in the D brief). */
interface Embedded {
  readonly url: string;
  close(): Promise<void>;
}
type StartEmbedded = (config?: Record<string, unknown>) => Promise<Embedded>;

const PACK = fileURLToPath(new URL('../pack.ts', import.meta.url));

// A variable specifier keeps this file compiling while the CLI package is still being
// written; the parent falls back to the CLI when the export is missing. BENCH_OURS_MODULE
// points the bench at another module exporting startEmbedded (e.g. a local experiment).
const cliModule = process.env.BENCH_OURS_MODULE ?? '@mcp-cluster/cli';
let start: StartEmbedded | undefined;
try {
  const mod = (await import(cliModule)) as { startEmbedded?: StartEmbedded };
  start = mod.startEmbedded;
} catch (err) {
  announce({ ready: false, reason: `cannot import ${cliModule}: ${String(err)}` });
  process.exit(0);
}
if (start === undefined) {
  announce({ ready: false, reason: `${cliModule} exports no startEmbedded` });
  process.exit(0);
}

const idleMs = Number(process.env.BENCH_SESSION_IDLE_MS ?? 3_600_000);
const server = await start({
  host: '127.0.0.1',
  port: 0,
  packs: [PACK],
  // Sessions must outlive the RSS step; the SDK targets log nothing per request either.
  sessionIdleMs: idleMs,
  logLevel: 'warn',
});
exitOnSignals(() => server.close());
announce({ ready: true, url: server.url, note: 'startEmbedded' });

/**
 * Targets (f) and (g): a real cluster — `mcp-cluster gateway` and `mcp-cluster worker`
 * processes from the testkit launcher, on real Redis and NATS — seen by the bench as one
 * TargetProcess: the gateway's URL, CPU summed over gateway and workers, close() stops all.
 */
import {
  ensureServices,
  startCluster,
  type ClusterNode,
  type TestCluster,
  type TestServices,
} from '@mcp-cluster/testkit';
import { pinToTargetCpu, TargetStartError, type TargetProcess } from './spawn.js';

/** The brief's topology: one gateway in front of two workers. */
export const BENCH_CLUSTER_GATEWAYS = 1;
export const BENCH_CLUSTER_WORKERS = 2;
/** Bound on the gateway seeing both workers in its registry after they listen. */
const WORKERS_READY_TIMEOUT_MS = 20_000;
/** Stderr lines kept per node in error reports. */
const STDERR_TAIL_LINES = 10;

let services: Promise<TestServices> | undefined;

/**
 * Redis and NATS, once per run: REDIS_URL / NATS_URL when set, else redis-server and
 * nats-server spawned for the run (testkit's ensureServices). The cluster launcher reads
 * them from MCP_TEST_REDIS_URL / MCP_TEST_NATS_URL, as under vitest.
 */
function clusterServices(): Promise<TestServices> {
  services ??= ensureServices().then((s) => {
    process.env.MCP_TEST_REDIS_URL = s.redisUrl;
    process.env.MCP_TEST_NATS_URL = s.natsUrl;
    return s;
  });
  return services;
}

/** Stops Redis/NATS if this run spawned them; a no-op when no cluster target ran. */
export async function stopClusterServices(): Promise<void> {
  const pending = services;
  services = undefined;
  if (pending === undefined) return;
  try {
    await (await pending).stop();
  } catch {
    // They never came up: nothing to stop (the targets already reported why).
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function stderrTail(nodes: readonly ClusterNode[]): string {
  return nodes
    .map((n) => {
      const lines = n.stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
      return `--- ${n.role} ${n.id}${n.running ? '' : ' (exited)'}:\n${lines || '(empty)'}`;
    })
    .join('\n');
}

/**
 * Starts 1 gateway + 2 workers serving `pack` (absolute path) with `env` on every node and
 * resolves once the gateway routes to both workers. Throws TargetStartError (the row is then
 * "not measured") when Redis/NATS or a node cannot be brought up; nothing is left running.
 */
export async function launchCluster(
  pack: string,
  env: Readonly<Record<string, string>>,
): Promise<TargetProcess> {
  let s: TestServices;
  try {
    s = await clusterServices();
  } catch (err) {
    throw new TargetStartError(`Redis/NATS unavailable: ${messageOf(err)}`);
  }
  let cluster: TestCluster;
  try {
    cluster = await startCluster({
      gateways: BENCH_CLUSTER_GATEWAYS,
      workers: BENCH_CLUSTER_WORKERS,
      packs: [pack],
      env,
    });
  } catch (err) {
    throw new TargetStartError(`cluster did not start: ${messageOf(err)}`);
  }
  const nodes = [...cluster.gateways, ...cluster.workers];
  try {
    await cluster.waitForWorkers(BENCH_CLUSTER_WORKERS, WORKERS_READY_TIMEOUT_MS);
    const gateway = cluster.gateways[0];
    const pids = nodes.map((n) => n.pid);
    if (gateway?.pid === undefined || pids.some((p) => p === undefined)) {
      throw new Error('a node exited after listening');
    }
    const running = pids.filter((p): p is number => p !== undefined);
    for (const pid of running) pinToTargetCpu(pid);
    return {
      url: gateway.url,
      pid: gateway.pid,
      pids: running,
      processes: nodes.map((n) => ({ role: n.role, name: `${n.role} ${n.id}` })),
      note:
        `${BENCH_CLUSTER_GATEWAYS} gateway + ${BENCH_CLUSTER_WORKERS} workers (mcp-cluster gateway/worker, tsx) with test/bench/pack.ts; ` +
        `Redis ${s.source.redis === 'env' ? 'from REDIS_URL' : 'spawned'}, NATS ${s.source.nats === 'env' ? 'from NATS_URL' : 'spawned'}; server CPU = ${nodes.map((n) => n.id).join(' + ')}`,
      stderrTail: () => stderrTail(nodes),
      stop: () => cluster.close(),
    };
  } catch (err) {
    const tail = stderrTail(nodes);
    await cluster.close();
    throw new TargetStartError(`cluster not ready: ${messageOf(err)}\n${tail}`);
  }
}

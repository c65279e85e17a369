/**
 * Shared pieces of the e2e scenarios: the packs, one cluster per scenario file, an SDK fetch
 * that alternates gateways, and modern requests and listen streams on a chosen gateway. Raw
 * legacy sessions, SSE reading and bounded waits come from the testkit.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll } from 'vitest';
import { createClusterState } from '@mcp-cluster/cluster';
import type { ClusterState } from '@mcp-cluster/cluster';
import { SseReader, modernCall, modernRequest, startCluster } from '@mcp-cluster/testkit';
import type {
  ClusterNode,
  ClusterOptions,
  McpHttpResponse,
  ModernRequestOptions,
  TestCluster,
} from '@mcp-cluster/testkit';

// Scenarios read messages of arbitrary shape and assert on them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const E2E_PACK = path.join(HERE, 'fixtures', 'e2e-pack.ts');
export const LATE_PACK = path.join(HERE, 'fixtures', 'late-pack.ts');
/** What every initial worker of the scenarios loads. */
export const PACKS: readonly string[] = ['builtin:conformance', E2E_PACK];

/** Bound of one scenario. */
export const SCENARIO_TIMEOUT_MS = 60_000;
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Workers every scenario cluster starts with and waits for. */
export const SCENARIO_WORKERS = 3;

/** The cluster of a scenario file; read it inside tests (it exists once beforeAll ran). */
export interface Scenario {
  readonly cluster: TestCluster;
  /** Endpoint (.../mcp) of the first gateway. */
  readonly g1: string;
  /** Endpoint of the second gateway. */
  readonly g2: string;
}

/**
 * Registers the file's beforeAll/afterAll: a cluster of {@link PACKS} (2 gateways,
 * {@link SCENARIO_WORKERS} workers, all routable) before the tests, closed after them.
 */
export function useScenarioCluster(options: ClusterOptions = {}): Scenario {
  let cluster: TestCluster | undefined;
  const started = (): TestCluster => {
    if (cluster === undefined) throw new Error('the scenario cluster is not started (beforeAll)');
    return cluster;
  };
  const gatewayUrl = (index: number): string => {
    const gateway = started().gateways[index];
    if (gateway === undefined) throw new Error(`the scenario cluster has no gateway ${index + 1}`);
    return gateway.url;
  };
  beforeAll(async () => {
    cluster = await startCluster({ packs: PACKS, ...options });
    await cluster.waitForWorkers(SCENARIO_WORKERS);
  }, SCENARIO_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, SCENARIO_TIMEOUT_MS);
  return {
    get cluster() {
      return started();
    },
    get g1() {
      return gatewayUrl(0);
    },
    get g2() {
      return gatewayUrl(1);
    },
  };
}

/** Where each request of an alternating SDK client went. */
export interface RoutedRequest {
  readonly gateway: number;
  readonly httpMethod: string;
  /** JSON-RPC method of a POSTed request or notification; 'response' for a client answer. */
  readonly rpc: string;
}

/**
 * A fetch for the SDK transport that sends request n to gateway n mod k (rewriting the
 * origin), and records where each went.
 */
export function alternatingFetch(gateways: readonly ClusterNode[]): {
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  routed: RoutedRequest[];
} {
  const routed: RoutedRequest[] = [];
  let n = 0;
  const fetchVia = (input: string | URL, init?: RequestInit): Promise<Response> => {
    const index = n++ % gateways.length;
    const target = new URL(String(input));
    const gateway = new URL(gateways[index]!.url);
    target.host = gateway.host;
    let rpc = '';
    if (typeof init?.body === 'string') {
      const body = JSON.parse(init.body);
      rpc = typeof body.method === 'string' ? body.method : 'response';
    }
    routed.push({ gateway: index, httpMethod: init?.method ?? 'GET', rpc });
    return fetch(target, init);
  };
  return { fetch: fetchVia, routed };
}

/** An SDK client whose requests alternate between the cluster's gateways. */
export async function alternatingClient(
  cluster: TestCluster,
  setup: (client: Client) => void = () => undefined,
): Promise<{ client: Client; routed: RoutedRequest[]; transport: StreamableHTTPClientTransport }> {
  const { fetch: fetchVia, routed } = alternatingFetch(cluster.gateways);
  const client = new Client(
    { name: 'e2e-sdk', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  setup(client);
  const transport = new StreamableHTTPClientTransport(new URL(cluster.gateways[0]!.url), {
    fetch: fetchVia,
  });
  await client.connect(transport);
  return { client, routed, transport };
}

/**
 * A modern (2026-07-28) request through `url` that must be answered: its JSON-RPC response
 * (loosely typed, for assertions) and the whole answer. Throws when the answer holds none.
 */
export async function modern(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: ModernRequestOptions = {},
): Promise<{ response: Loose; all: McpHttpResponse }> {
  const { response, all } = await modernCall(url, method, params, options);
  if (response === undefined) {
    throw new Error(
      `${method} through ${url}: no response (${all.status}) ${all.text.slice(0, 500)}`,
    );
  }
  return { response, all };
}

/** Opens `subscriptions/listen` on `url` and waits for its acknowledgement. */
export async function listen(
  url: string,
  notifications: Record<string, unknown>,
): Promise<{ stream: SseReader; close: () => Promise<void> }> {
  const { body, headers } = modernRequest('subscriptions/listen', { notifications });
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`subscriptions/listen on ${url}: ${res.status}`);
  const stream = new SseReader(res);
  await stream.until((m: Loose) => m?.method === 'notifications/subscriptions/acknowledged');
  return {
    stream,
    close: async () => {
      controller.abort();
      await stream.cancel();
    },
  };
}

/** The cluster's Redis state (sessions, pins, registry) under its prefix; close it after use. */
export function clusterState(cluster: TestCluster): Promise<ClusterState> {
  return createClusterState({ redisUrl: cluster.redisUrl, prefix: cluster.prefix });
}

/** The worker a legacy session is pinned to, read from Redis. */
export async function pinOf(state: ClusterState, sessionId: string): Promise<string | undefined> {
  return state.sessions.getPin(sessionId);
}

export function workerById(cluster: TestCluster, id: string): ClusterNode {
  const w = cluster.workers.find((n) => n.id === id);
  if (w === undefined)
    throw new Error(`no worker ${id} (have ${cluster.workers.map((n) => n.id).join(', ')})`);
  return w;
}

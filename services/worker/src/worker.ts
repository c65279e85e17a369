/**
 * The worker process: config -> packs -> engine -> dispatch endpoint -> registry. It owns the
 * components it loaded, announces them (with heartbeats) in the distributed registry, serves
 * dispatches from gateways, publishes changes on the bus, and drains on close.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  BusEventType,
  DISPATCH_PATH,
  DispatchVerifier,
  MemoryDispatchNonceStore,
  HEALTH_PATH,
  READY_PATH,
  clientRequestIdPrefix,
  createBusChangeFeed,
  leaderElection,
  openClusterConnections,
  outageAsUnavailable,
  readiness,
  taskIdFor,
} from '@mcp-cluster/cluster';
import type { WorkerComponents } from '@mcp-cluster/cluster';
import { loadPacks } from '@mcp-cluster/components';
import { nodeLog, processLogger, requireCluster } from '@mcp-cluster/config';
import type { Config, NodeLog } from '@mcp-cluster/config';
import { createDurableTaskHost } from '@mcp-cluster/queue';
import { createSamplingService } from '@mcp-cluster/sampling';
import { listAuthorizer } from '@mcp-cluster/security';
import {
  METRICS,
  STATUS_PATH,
  baseStatus,
  processMetrics,
  serveMetrics,
} from '@mcp-cluster/observability';
import {
  countComponents,
  createEngine,
  engineLogHooks,
  observeEngine,
  registryKnows,
} from '@mcp-cluster/server';
import type { LocalEngine } from '@mcp-cluster/server';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Dispatcher } from './dispatch.js';
import { filterListsFor } from './list-filter.js';

export interface RunningWorker {
  readonly id: string;
  /** Dispatch base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly engine: LocalEngine;
  /** Its HTTP app (dispatch, health, readiness, metrics). */
  readonly app: FastifyInstance;
  /** Drains: stops taking work, finishes in-flight up to config.drainMs, unregisters. */
  close(): Promise<void>;
}

/**
 * The worker's log. The CLI passes its process logger, which applies MCP_LOG_LEVEL; without
 * one, warnings and errors go to stderr through the same logger.
 */
export type WorkerLog = NodeLog;

function componentsOf(engine: LocalEngine): WorkerComponents {
  const r = engine.registry;
  return {
    tools: r.toolDescriptors.map((t) => t.name),
    prompts: r.promptDescriptors.map((p) => p.name),
    resources: r.resourceDescriptors.map((x) => x.uri),
    resourceTemplates: r.templateDescriptors.map((t) => t.uriTemplate),
    repeatableTools: r.toolDescriptors
      .filter((t) => t.annotations?.readOnlyHint === true || t.annotations?.idempotentHint === true)
      .map((t) => t.name),
  };
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startWorker(
  config: Config,
  log: WorkerLog = nodeLog(processLogger('warn')),
): Promise<RunningWorker> {
  const { redisUrl, natsUrl } = requireCluster(config);
  const id = config.nodeId ?? `w-${randomBytes(4).toString('hex')}`;
  // New on every start, even under a fixed node id: a dispatch signed for an earlier process
  // at this address is refused, so this one's memory of nonces is enough to stop replays.
  const instance = randomBytes(16).toString('base64url');
  const prefix = config.clusterPrefix;
  const packs = await loadPacks(config.packs);
  // The gateways' auth.authz: completion values hide what their lists hide from the caller.
  const authorizer = listAuthorizer(config.auth, (err, what) => log('warn', what, err));
  const startedAt = new Date();
  const { metrics, exposition } = processMetrics({
    enabled: config.metricsEnabled,
    role: 'worker',
    nodeId: id,
  });
  const node = await openClusterConnections({
    redisUrl,
    natsUrl,
    prefix,
    sessionTtlMs: config.sessionIdleMs,
    name: `worker ${id}`,
    onError: (err) => log('warn', 'redis error', err),
    metrics,
  });
  const { state, bus } = node;
  try {
    const changes = await createBusChangeFeed(bus, id);
    node.defer(() => changes.close());
    const stateKeys =
      config.stateKeys.length > 0 ? config.stateKeys : [await state.sharedStateKey()];
    // Durable tasks: records in Redis, runs as BullMQ jobs any worker can take over.
    // The host needs the engine (to rebuild runs) and the engine the host: bound late.
    const late: { engine?: LocalEngine } = {};
    const tasks = await createDurableTaskHost({
      redisUrl,
      prefix,
      nodeId: id,
      resolveRun: (job, ctx) => late.engine?.taskRun(job, ctx),
      lockDurationMs: config.taskLockMs,
      idFactory: () => taskIdFor(id, randomBytes(16).toString('base64url')),
      metrics,
      onError: (err, what) => log('warn', what, err),
    });
    node.defer(() => tasks.close());
    // Providers answering ctx.sample (config `sampling`); the engine closes it.
    const sampler =
      config.sampling === undefined
        ? undefined
        : createSamplingService(config.sampling, {
            // Usage limits in Redis: every worker counts against the same budget.
            store: state.samplingUsage,
            log: {
              warn: (msg, fields) => log('warn', msg, undefined, fields),
              info: (msg, fields) => log('info', msg, undefined, fields),
            },
          });
    const engine = createEngine({
      serverInfo: { name: config.serverName, version: config.serverVersion },
      packs,
      stateKeys,
      sessionIdleMs: config.sessionIdleMs,
      changes,
      // Packs' cluster-wide work (a directory's watcher) runs on the worker holding its lease.
      leadership: leaderElection(state.leases, {
        holder: id,
        onError: (err, what) => log('warn', what, err),
      }),
      clientRequestIdPrefix: clientRequestIdPrefix(id),
      tasks,
      ...(sampler !== undefined && { sampler }),
      // A tool that throws: logged with its stack, tool name and request id.
      ...engineLogHooks({
        error: (msg, fields) => log('error', msg, undefined, fields),
        debug: (msg, fields) => log('debug', msg, undefined, fields),
      }),
    });
    late.engine = engine;
    node.defer(() => engine.close());

    const filtered = authorizer === undefined ? engine : filterListsFor(engine, authorizer);
    const dispatcher = new Dispatcher({
      workerId: id,
      messages: observeEngine(filtered, {
        metrics,
        networkTransport: 'tcp',
        traceParent: 'active',
        knows: registryKnows(engine.registry),
      }),
      verifier: new DispatchVerifier({
        secrets:
          config.dispatchSecrets.length > 0
            ? config.dispatchSecrets
            : [await state.sharedDispatchSecret()],
        nonces: state.dispatchNonces,
        // Gateways address dispatches to this process: their replays are checked here.
        audience: { id: instance, nonces: new MemoryDispatchNonceStore() },
        validityMs: config.dispatchSignatureValidityMs,
        clockSkewMs: config.dispatchClockSkewMs,
      }),
      engine,
      // Redis down: a legacy request is answered -32016 + retryAfterMs, not -32603.
      sessions: outageAsUnavailable(state.sessions),
      bodyLimitBytes: config.bodyLimitBytes,
      maxJsonDepth: config.maxJsonDepth,
      maxConcurrency: config.maxConcurrency,
      onError: (err, what) => log('error', what, err),
    });
    // Served with fastify, like every HTTP endpoint of the cluster. The dispatcher reads the
    // body itself (bounded, as text, signed byte for byte), so no content type is parsed here.
    const app = Fastify({
      logger: false,
      keepAliveTimeout: 65_000,
      forceCloseConnections: true,
      return503OnClosing: true,
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    app.post(DISPATCH_PATH, (req, reply) => {
      reply.hijack();
      void dispatcher.serve(req.raw, reply.raw);
    });
    app.get(HEALTH_PATH, (_req, reply) => {
      const ok = !dispatcher.draining;
      void reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'draining', inFlight: dispatcher.inFlight });
    });
    // Ready = taking work with Redis reachable; NATS away only degrades (see readiness()).
    app.get(READY_PATH, async (_req, reply) => {
      const draining = dispatcher.draining;
      const redis = await state.ping();
      const nats = bus.connected;
      const { ready, reasons, degraded } = readiness({ draining, redis, nats });
      return reply
        .code(ready ? 200 : 503)
        .send({ ready, reasons, degraded, draining, redis, nats, id });
    });
    // The worker's port is the cluster's private network (like /dispatch): no admission here.
    app.get(STATUS_PATH, (_req, reply) => {
      void reply.header('cache-control', 'no-store').send({
        ...baseStatus('worker', id, startedAt),
        components: countComponents(engine),
        sessions: engine.sessions.size,
        inFlight: dispatcher.inFlight,
        draining: dispatcher.draining,
      });
    });
    metrics.gauge(METRICS.inflight, (set) => set({}, dispatcher.inFlight));
    metrics.gauge(METRICS.draining, (set) => set({}, dispatcher.draining ? 1 : 0));
    const heartbeats = metrics.counter(METRICS.heartbeats);
    const metricsListener = await serveMetrics(app, exposition, {
      host: config.host,
      port: config.metricsPort,
    });
    if (metricsListener !== undefined) node.defer(() => metricsListener.close());
    await app.listen({ port: config.port, host: config.host });
    node.defer(() => app.close());
    const server = app.server;
    const { port } = server.address() as AddressInfo;
    const url = config.advertiseUrl ?? `http://${urlHost(config.host)}:${port}`;

    // Legacy notifications/cancelled reach whichever worker runs the request, via the bus.
    const cancels = await bus.subscribe({ types: [BusEventType.SessionCancel] }, (e) => {
      if (e.type !== BusEventType.SessionCancel) return;
      engine.sessions.get(e.sessionId)?.cancel(e.requestId, e.reason);
    });
    node.defer(() => cancels.unsubscribe());

    let registered = componentsOf(engine);
    const register = async (): Promise<void> => {
      registered = componentsOf(engine);
      await state.registry.register(id, {
        url,
        weight: config.weight,
        components: registered,
        instance,
        maxConcurrency: config.maxConcurrency,
      });
      bus.publish({ type: BusEventType.RegistryChanged, workerId: id });
    };
    await register();
    bus.publish({ type: BusEventType.WorkerUp, workerId: id, url });
    // Back from a gap in the bus: gateways may have missed a re-registration (they also poll
    // the registry, and re-read it on their own reconnect); announce this worker again.
    const stopAnnounce = bus.onConnectionChange((change) => {
      if (change === 'reconnected' && !dispatcher.draining) {
        bus.publish({ type: BusEventType.RegistryChanged, workerId: id });
      }
    });
    node.defer(() => Promise.resolve(stopAnnounce()));
    // A component added or removed at runtime changes what this worker owns.
    const stopWatch = changes.subscribe((event) => {
      if (event.type === 'resources/updated') return;
      if (JSON.stringify(componentsOf(engine)) === JSON.stringify(registered)) return;
      register().catch((err: unknown) => log('warn', 're-register failed', err));
    });
    const heartbeat = setInterval(() => {
      state.registry
        .heartbeat(id)
        .then((alive) => {
          heartbeats.inc({ result: alive ? 'ok' : 'reregistered' });
          return alive ? undefined : register();
        })
        .catch((err: unknown) => {
          heartbeats.inc({ result: 'error' });
          log('warn', 'heartbeat failed', err);
        });
    }, config.heartbeatMs);
    heartbeat.unref();

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        stopWatch();
        dispatcher.draining = true;
        // Gateways stop routing here first; then in-flight work gets its deadline.
        await state.registry.unregister(id).catch(() => undefined);
        bus.publish({ type: BusEventType.WorkerDown, workerId: id, reason: 'drain' });
        await bus.flush().catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          dispatcher.idle(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, config.drainMs);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
        await node.close();
      })());
    return { id, url, engine, app, close };
  } catch (err) {
    await node.close();
    throw err;
  }
}

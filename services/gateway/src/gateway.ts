/**
 * The gateway process: config -> Redis/NATS -> router + membership -> transports -> listen.
 * Stateless: sessions live in Redis, workers in the registry; a restarted gateway rebuilds
 * everything it needs from them.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  BREAKER_STATES,
  BusEventType,
  MAX_REVOKED_IDS,
  createBusChangeFeed,
  openClusterConnections,
  outageAsUnavailable,
  STORE_RIDE_THROUGH_MS,
  probeTimeoutMs,
  readiness,
  UndiciDispatch,
} from '@mcp-cluster/cluster';
import type { EventBus, SessionStore } from '@mcp-cluster/cluster';
import { UriTemplate } from '@mcp-cluster/components';
import { nodeLog, processLogger, requireCluster } from '@mcp-cluster/config';
import type { Config } from '@mcp-cluster/config';
import {
  METRICS,
  baseStatus,
  processMetrics,
  serveMetrics,
  traceLogFields,
} from '@mcp-cluster/observability';
import { WorkerBreakers, withBreakers } from '@mcp-cluster/resilience';
import type { BreakerTransition } from '@mcp-cluster/resilience';
import { DEFAULT_HEALTH_OPTIONS, HealthState, Router, asWorkerId } from '@mcp-cluster/router';
import { auditMetrics, createSecurity, tlsServerOptions } from '@mcp-cluster/security';
import type { RevocationChannel } from '@mcp-cluster/security';
import type { PinStore, WorkerId } from '@mcp-cluster/router';
import {
  changeNotification,
  createEngine,
  createMemoryChangeFeed,
  observeEngine,
} from '@mcp-cluster/server';
import type { ChangeEvent } from '@mcp-cluster/server';
import {
  STREAM_ID_SEPARATOR,
  TransportDrain,
  createHttpApp,
  mcpTransports,
} from '@mcp-cluster/transports';
import type { FastifyInstance, StreamGap } from '@mcp-cluster/transports';
import { CapacityQueue } from './capacity.js';
import { GatewayEngine } from './engine.js';
import { RecentChanges, missedBy } from './recent-changes.js';
import { GatewaySessions, isUnavailable } from './sessions.js';
import type { GatewaySession } from './sessions.js';
import { withDispatchMetrics, withRouterFeedback } from './dispatch.js';
import { HungWorkers } from './hung-workers.js';
import { Membership } from './workers.js';

export interface RunningGateway {
  readonly id: string;
  /** Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** What embedding code (tests) may change in how a gateway is put together. */
export interface GatewayOptions {
  /**
   * Wraps the session store this gateway uses (sessions and pins), e.g. to count its reads;
   * the store it gets already announces writes on the bus.
   */
  readonly wrapSessionStore?: (store: SessionStore) => SessionStore;
  /** Told every circuit-breaker transition on this gateway (after its metrics and log). */
  readonly onBreakerTransition?: (t: BreakerTransition) => void;
}

/**
 * Router health options while circuit breakers are on: no passive ejection (thresholds no
 * dispatch count reaches). Breakers replace it: their state is the cluster's, so one worker
 * failing is held back by every gateway at once and tried once, where per-gateway ejection
 * would eject it gateway by gateway and send it one trial from each. Active probes stay: a
 * worker that stops answering them is still marked down and its dispatches ended.
 */
const NO_PASSIVE_EJECTION = {
  consecutiveFailures: Number.MAX_SAFE_INTEGER,
  errorRateMinRequests: Number.MAX_SAFE_INTEGER,
} as const;

/** Bound on compiled uri templates kept for owner routing. */
const MAX_TEMPLATES = 1_000;

/**
 * Pins through the session store. A fresh cached session (see GatewaySessions.fresh: re-pins
 * anywhere are announced and mark it stale) already names its worker, so routing reads no
 * pin from Redis; a stale or missing copy, or a lost compare-and-set, reads the stored pin.
 */
function pinStore(store: SessionStore, sessions: GatewaySessions): PinStore {
  return {
    async get(sessionId): Promise<WorkerId | undefined> {
      const s = sessions.fresh(sessionId);
      if (s !== undefined) return s.workerId === undefined ? undefined : asWorkerId(s.workerId);
      let pin;
      try {
        pin = await store.getPin(sessionId);
      } catch (err) {
        // The store cannot answer: the worker named by the copy held here (see load()).
        const held = isUnavailable(err) ? sessions.held(sessionId)?.workerId : undefined;
        if (held === undefined) throw err;
        return asWorkerId(held);
      }
      return pin === undefined ? undefined : asWorkerId(pin);
    },
    async set(sessionId, workerId, previous): Promise<boolean> {
      const ok = await store.setPin(sessionId, workerId, previous);
      const s = sessions.get(sessionId);
      if (s !== undefined) {
        if (ok) s.workerId = workerId;
        // Another node moved the pin first: the router's next get must read the stored one.
        else s.invalidate();
      }
      return ok;
    },
  };
}

function templateMatcher(): (template: string, uri: string) => boolean {
  const compiled = new Map<string, UriTemplate>();
  return (template, uri) => {
    let t = compiled.get(template);
    if (t === undefined) {
      if (compiled.size >= MAX_TEMPLATES) compiled.clear();
      t = new UriTemplate(template);
      compiled.set(template, t);
    }
    return t.match(uri) !== undefined;
  };
}

/** Revocations over the cluster's event bus (`credential.revoked`, non-secret ids only). */
function busRevocations(bus: EventBus): RevocationChannel {
  return {
    publish(ids) {
      for (let i = 0; i < ids.length; i += MAX_REVOKED_IDS) {
        bus.publish({
          type: BusEventType.CredentialRevoked,
          ids: ids.slice(i, i + MAX_REVOKED_IDS),
        });
      }
    },
    subscribe: (onRevoked) =>
      bus.subscribe({ types: [BusEventType.CredentialRevoked] }, (e) => {
        if (e.type === BusEventType.CredentialRevoked) onRevoked(e.ids);
      }),
  };
}

/** Legacy fan-out: list_changed to sessions with a stream here; updates to subscribers only. */
function fanOut(
  sessions: GatewaySessions,
  event: ChangeEvent,
  onError: (e: unknown) => void,
): void {
  const message = changeNotification(event);
  const targets: GatewaySession[] = [];
  for (const s of sessions.values()) if (s.attached && !s.isNew) targets.push(s);
  for (const s of targets) {
    if (event.type !== 'resources/updated') {
      s.sendLocal(message);
      continue;
    }
    // Subscriptions change on workers; read them fresh before deciding.
    sessions.reload(s).then((live) => {
      if (live && s.state.subscriptions.has(event.uri)) s.sendLocal(message);
    }, onError);
  }
}

/**
 * After a gap in the bus: membership is re-read from the registry (a worker that came, went or
 * changed its components meanwhile; a catalog change sends list_changed as usual), every
 * cached session copy is re-read before its next use, sessions ended elsewhere end their
 * streams here, and each live session with a stream here gets one `resources/updated` per
 * subscribed uri — an update may have been missed, and a spurious one only makes the client
 * read the resource again.
 */
function reconcileAfterBusGap(
  sessions: GatewaySessions,
  membership: Membership,
  onError: (err: unknown, what: string) => void,
): void {
  membership.sync().catch((err: unknown) => onError(err, 'membership sync failed'));
  sessions.reconcile().then(
    (live) => {
      for (const s of live) {
        for (const uri of s.state.subscriptions) {
          s.sendLocal(changeNotification({ type: 'resources/updated', uri }));
        }
      }
    },
    (err: unknown) => onError(err, 'session reconcile failed'),
  );
}

export async function startGateway(
  config: Config,
  log: (level: 'info' | 'warn' | 'error', msg: string, err?: unknown) => void = nodeLog(
    processLogger('warn'),
  ),
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const { redisUrl, natsUrl } = requireCluster(config);
  const id = config.nodeId ?? `g-${randomBytes(4).toString('hex')}`;
  const prefix = config.clusterPrefix;
  const onError = (err: unknown, what: string): void => log('warn', what, err);
  const startedAt = new Date();
  const { metrics, exposition } = processMetrics({
    enabled: config.metricsEnabled,
    role: 'gateway',
    nodeId: id,
  });
  const node = await openClusterConnections({
    redisUrl,
    natsUrl,
    prefix,
    sessionTtlMs: config.sessionIdleMs,
    name: `gateway ${id}`,
    onError: (err) => log('warn', 'redis error', err),
    metrics,
  });
  const { state, bus } = node;
  try {
    const clusterChanges = await createBusChangeFeed(bus);
    node.defer(() => clusterChanges.close());
    // Changes from workers (bus) and from membership (a worker came or went) meet here.
    const changes = createMemoryChangeFeed();
    clusterChanges.subscribe((e) => changes.publish(e));
    const local = createEngine({
      serverInfo: { name: config.serverName, version: config.serverVersion },
      packs: [],
      tasks: false,
      changes,
    });
    const dispatchSecret = config.dispatchSecrets[0] ?? (await state.sharedDispatchSecret());
    // A worker that looks hung between probes leaves routing at once (hung-workers.ts). What
    // it serves is ended only when it has also been silent for a probe interval: one whose
    // probes time out while its answers keep coming is slow, not gone.
    const hung: HungWorkers = new HungWorkers({
      markDown: (w): boolean => router.markDown(asWorkerId(w)),
      abandon: (w): void => void clients.abandonIfQuiet(w, config.workerProbeIntervalMs),
      unhealthyThreshold: DEFAULT_HEALTH_OPTIONS.unhealthyThreshold,
    });
    const clients = new UndiciDispatch({
      connectTimeoutMs: config.dispatchConnectTimeoutMs,
      firstByteTimeoutMs: config.dispatchFirstByteTimeoutMs,
      probeTimeoutMs: probeTimeoutMs(config.workerProbeIntervalMs),
      onHung: (w, evidence) => hung.found(w, evidence),
    });
    node.defer(() => clients.close());
    // eslint-disable-next-line prefer-const -- the engine and the session manager refer to each other
    let engine: GatewayEngine;
    // Every session-store call a request makes (load, pin, open, DELETE) fails as -32016 with
    // Retry-After while Redis cannot answer: transports answer 503 with the request's id.
    const store = outageAsUnavailable(
      options.wrapSessionStore?.(state.sessions) ?? state.sessions,
      // A session this gateway holds no copy of waits out a short Redis outage.
      { rideThrough: { methods: ['get', 'getPin'], forMs: STORE_RIDE_THROUGH_MS } },
    );
    const sessions = new GatewaySessions(
      store,
      bus,
      (session, response) => engine.routeResponse(session, response),
      onError,
      { maxPerPrincipal: config.maxSessionsPerPrincipal, maxTotal: config.maxSessions },
    );
    const healthChanges = metrics.counter(METRICS.workerHealthChanges);
    const decisions = metrics.counter(METRICS.routerDecisions);
    // Requests whose every candidate worker is at its limit wait here, bounded (capacity.ts).
    const shed = metrics.counter(METRICS.shedRequests);
    const capacity = new CapacityQueue({
      max: config.gatewayQueueMax,
      timeoutMs: config.gatewayQueueTimeoutMs,
      onShed: (reason) => shed.inc({ reason }),
    });
    metrics.gauge(METRICS.queueDepth, (set) => set({}, capacity.depth));
    // Why each worker's last probe failed, for the log line that marks it down.
    const lastProbeFailure = new Map<string, string>();
    const router = new Router({
      strategy: config.strategy,
      pins: pinStore(store, sessions),
      matchTemplate: templateMatcher(),
      probe: (w) =>
        hung.probed(
          w.id,
          clients.probe(w).then(
            (ok) => {
              if (ok) lastProbeFailure.delete(w.id);
              else lastProbeFailure.set(w.id, 'not 200');
              return ok;
            },
            (err: unknown) => {
              // Bounded: entries go with the next good probe or the log line they explain.
              if (lastProbeFailure.size > 1_000) lastProbeFailure.clear();
              lastProbeFailure.set(w.id, probeFailure(err));
              throw err;
            },
          ),
        ),
      health: {
        probeIntervalMs: config.workerProbeIntervalMs,
        ...(config.breakerEnabled ? NO_PASSIVE_EJECTION : {}),
      },
      onHealthChange: (w) => {
        healthChanges.inc({ worker: w.id, state: w.health });
        const why = w.health === HealthState.Down ? lastProbeFailure.get(w.id) : undefined;
        lastProbeFailure.delete(w.id);
        log(
          'info',
          `worker ${w.id} ${w.health}${why === undefined ? '' : ` (last probe: ${why})`}`,
        );
        // Its probes go unanswered (hung, or its host gone): what it holds would wait until
        // the deadline. End it now; the dispatch table says what may be sent again. Down on
        // suspicion only (an overdue dispatch), it is left to answer until probes confirm it.
        if (w.health === HealthState.Down) hung.down(w.id);
      },
      onDecision: (decision) => decisions.inc({ decision }),
      maxConcurrency: config.maxConcurrency,
      onSlotFree: () => capacity.release(),
    });
    metrics.gauge(METRICS.workers, (set) => {
      const byState = new Map<string, number>(Object.values(HealthState).map((h) => [h, 0]));
      for (const w of router.pool.list()) byState.set(w.health, (byState.get(w.health) ?? 0) + 1);
      for (const [state, n] of byState) set({ state }, n);
    });
    // One breaker per worker, state shared with every gateway (@mcp-cluster/resilience).
    const breakerTransitions = metrics.counter(METRICS.breakerTransitions);
    const breakers = config.breakerEnabled
      ? new WorkerBreakers(
          {
            gatewayId: id,
            store: state.breakerStates,
            bus,
            hold: (w, held) => router.hold(asWorkerId(w), held),
            workers: () => router.pool.list().map((w) => w.id),
            onTransition: (t) => {
              breakerTransitions.inc({ worker: t.workerId, to: t.to, origin: t.origin });
              log('info', `breaker of worker ${t.workerId} ${t.from} -> ${t.to} (${t.by})`);
              options.onBreakerTransition?.(t);
            },
            onError,
          },
          {
            errorRate: config.breakerErrorRate,
            minRequests: config.breakerMinRequests,
            windowMs: config.breakerWindowMs,
            resetMs: config.breakerResetMs,
          },
        )
      : undefined;
    if (breakers !== undefined) {
      metrics.gauge(METRICS.breakerState, (set) => {
        for (const [worker, current] of breakers.states()) {
          for (const s of BREAKER_STATES) set({ worker, state: s }, s === current ? 1 : 0);
        }
      });
    }
    const feedback = withRouterFeedback(clients, router);
    const membership = new Membership(state.registry, router, clients, (kinds) => {
      for (const kind of kinds) changes.publish({ type: `${kind}/list_changed` });
    });
    engine = new GatewayEngine({
      gatewayId: id,
      router,
      // Breakers outside router feedback: a dispatch they hold back is no health sample.
      dispatch: withDispatchMetrics(
        breakers === undefined ? feedback : withBreakers(feedback, breakers),
        metrics,
      ),
      dispatchSecret,
      membership,
      sessions,
      bus,
      local,
      dispatchTimeoutMs: config.dispatchTimeoutMs,
      dispatchFirstByteTimeoutMs: config.dispatchFirstByteTimeoutMs,
      onError,
      capacity,
    });
    node.defer(() => engine.close());
    // Refuses unauthenticated requests unless auth.allowAnonymous opens the cluster.
    const security = await createSecurity(config.auth, {
      onAudit: auditMetrics(metrics),
      mode: 'cluster',
      redisUrl,
      prefix,
      path: config.path,
      onError,
      // A revocation at any gateway closes the connections every gateway holds with it.
      revocations: busRevocations(bus),
    });
    node.defer(() => security.close());
    if (security.guard === undefined || config.auth?.allowAnonymous === true) {
      log('warn', 'auth.allowAnonymous is on: this gateway admits unauthenticated requests');
    } else if (!hasCredentials(config.auth)) {
      log(
        'warn',
        'no auth configured: this gateway refuses every request (401); configure auth (README "Secure it") or set MCP_AUTH_ALLOW_ANONYMOUS=true',
      );
    }
    const recent = new RecentChanges();
    changes.subscribe((event) => {
      recent.heard(event);
      fanOut(sessions, event, (e) => onError(e, 'fan-out failed'));
    });
    // A standalone stream taken over from another gateway: what was raised while it was
    // attached nowhere (see RecentChanges), with the session's subscriptions read fresh.
    const streamGap: StreamGap = (session, since, until) =>
      missedBy(recent.between(since, until), async () => {
        const s = sessions.get(session.id);
        if (s === undefined) return undefined;
        try {
          return (await sessions.reload(s)) ? s.state.subscriptions : undefined;
        } catch (err) {
          onError(err, 'session read for a stream takeover failed');
          return s.state.subscriptions;
        }
      });

    // Every session of the cluster, one subscription: writes anywhere invalidate the copy here.
    const ends = await bus.subscribe(
      { types: [BusEventType.SessionEnded, BusEventType.SessionChanged] },
      (e) => {
        if (e.type === BusEventType.SessionEnded) sessions.ended(e.sessionId);
        else if (e.type === BusEventType.SessionChanged) sessions.changed(e.sessionId, e.version);
      },
    );
    node.defer(() => ends.unsubscribe());
    await membership.sync();
    if (breakers !== undefined) {
      await breakers.start();
      node.defer(() => breakers.close());
    }
    const membershipEvents = await bus.subscribe(
      { types: [BusEventType.WorkerUp, BusEventType.WorkerDown, BusEventType.RegistryChanged] },
      () => membership.sync().catch((err: unknown) => onError(err, 'membership sync failed')),
    );
    node.defer(() => membershipEvents.unsubscribe());
    // NATS delivers at most once: what was published while this node was away is gone. On
    // reconnect, re-read what events would have said (see reconcileAfterBusGap).
    const stopReconcile = bus.onConnectionChange((change) => {
      if (change !== 'reconnected') return;
      reconcileAfterBusGap(sessions, membership, onError);
    });
    node.defer(() => Promise.resolve(stopReconcile()));
    // Events are hints: the registry is polled too, and lapsed workers are swept.
    const poll = setInterval(() => {
      state.registry
        .cleanup()
        .then(() => membership.sync())
        .catch((err: unknown) => onError(err, 'registry poll failed'));
    }, config.heartbeatMs);
    poll.unref();
    node.defer(() => {
      clearInterval(poll);
      return Promise.resolve();
    });
    router.start();
    node.defer(() => router.stop());

    const app = createHttpApp({
      ...config,
      https: config.tls === undefined ? undefined : tlsServerOptions(config.tls),
      logMixin: traceLogFields,
    });
    await security.registerRoutes(app);
    app.get('/healthz', (_req, reply) => reply.send({ status: 'ok', id }));
    // Ready = something to route to and Redis reachable; `reasons` names what is wrong. NATS
    // away only degrades (`degraded`): requests are still routed and answered, the registry is
    // polled, session copies are re-read from Redis, and events are reconciled on reconnect;
    // taking every gateway out of a load balancer during a NATS restart would be an outage.
    let draining = false;
    let closing: Promise<void> | undefined;
    const drain = new TransportDrain();
    app.get('/readyz', async (_req, reply) => {
      const { up: workers, held } = router.workerCounts();
      const redis = await state.ping();
      const nats = bus.connected;
      const { ready, reasons, degraded } = readiness({ draining, redis, nats, workers, held });
      return reply
        .code(ready ? 200 : 503)
        .send({ ready, reasons, degraded, draining, workers, held, redis, nats, id });
    });
    await app.register(mcpTransports, {
      // Checked here, before dispatch: a refused request reaches no worker. Observed
      // outermost: a refused request is an operation like any other.
      engine: observeEngine(security.wrap(engine), {
        metrics,
        networkTransport: 'tcp',
        knows: membership.knows,
      }),
      metrics,
      status: () => ({
        ...baseStatus('gateway', id, startedAt),
        components: membership.catalogSizes(),
        workers: router.pool.list().map((w) => ({
          id: w.id,
          url: w.url,
          health: w.health,
          ...(breakers === undefined ? {} : { breaker: breakers.state(w.id) }),
          inFlight: w.inFlight,
          latencyMs: Math.round(w.latencyEwma * 10) / 10,
        })),
      }),
      ...(security.guard === undefined ? {} : { guard: security.guard }),
      settings: config,
      drain,
      ...(state.mirror === undefined
        ? {}
        : {
            sharedStreams: {
              // Unique per start: a gateway restarted under the same id never reuses the
              // stream ids (and mirror keys) of the process before it.
              idPrefix: `${id}.${state.mirror.instance.slice(0, 8)}${STREAM_ID_SEPARATOR}`,
              mirror: state.mirror,
              gap: streamGap,
            },
          }),
    });
    const metricsListener = await serveMetrics(app, exposition, {
      host: config.host,
      port: config.metricsPort,
    });
    if (metricsListener !== undefined) node.defer(() => metricsListener.close());
    await app.listen({ host: config.host, port: config.port });
    node.defer(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      id,
      url: `${config.tls === undefined ? 'http' : 'https'}://${host}:${port}${config.path}`,
      app,
      close: () =>
        (closing ??= (async () => {
          // Not ready first: a load balancer stops sending new clients while this one still
          // serves those it has. Then the listener closes (a refused connect is retried on
          // another node by any load balancer, a 503 to a POST is not), requests on kept-alive
          // connections get 503 + Retry-After, idle SSE streams end with `retry:` (resumed
          // elsewhere), in-flight requests finish within gatewayDrainTimeoutMs; then the node
          // closes.
          draining = true;
          if (config.gatewayDrainDelayMs > 0) {
            await new Promise((resolve) => setTimeout(resolve, config.gatewayDrainDelayMs));
          }
          app.server.close();
          const { settled, leftOpen } = await drain.drain(config.gatewayDrainTimeoutMs);
          if (!settled) log('warn', `drain deadline passed: ${leftOpen} streams/requests ended`);
          await node.close();
        })()),
    };
  } catch (err) {
    await node.close();
    throw err;
  }
}

/** Whether `auth` names any way for a caller to authenticate. */
function hasCredentials(auth: Config['auth']): boolean {
  if (auth === undefined) return false;
  return (
    auth.jwt !== undefined ||
    auth.staticTokens !== undefined ||
    auth.basic !== undefined ||
    auth.apiKeys?.enabled === true ||
    auth.tokenService !== undefined ||
    auth.mtls !== undefined
  );
}

/** A failed probe in a few words: the error's code (ECONNREFUSED, a timeout) and message. */
function probeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${err.name}: ${err.message}${cause}`.slice(
    0,
    300,
  );
}

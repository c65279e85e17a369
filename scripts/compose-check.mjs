#!/usr/bin/env node
/* global process, console, fetch, setTimeout, AbortSignal */
/**
 * `node scripts/compose-check.mjs`: brings the top-level docker-compose.yml up with
 * podman-compose under a project name of its own, with the load balancer on a free loopback
 * port, and checks what a user of `docker compose up` relies on, all through that one URL:
 *
 *   - both gateways become ready (/readyz) and the URL answers an MCP initialize + tools/list
 *     with the tools of the pack the workers load by default (builtin:conformance);
 *   - the official conformance suites (as scripts/image-check.mjs runs them: the same packages,
 *     arguments and expected-failures files) pass against the load-balanced URL;
 *   - `podman kill` of one worker: tool calls through the URL keep succeeding;
 *   - the stack is torn down (containers, network, volumes) whatever happened.
 *
 * Core services only (redis, nats, workers, gateways, lb); --observability also starts the
 * profile's `prometheus` and checks that it scrapes all four mcp-cluster targets.
 *
 * Images: the mcp-cluster image (--image, default localhost/mcp-cluster:check, as
 * scripts/image-check.mjs tags it) and redis:7, nats:2, haproxy:2.8 (prom/prometheus:v2.55.1
 * with --observability) present locally or pullable by podman.
 * Flags: --image <name>, --no-conformance, --only stable,alpha,alpha-2026, --observability,
 * --keep (leave the stack running and print how to remove it).
 * Needs podman, podman-compose and `pnpm install` (for the conformance suites).
 * Exit code: non-zero when any check fails.
 */
import { spawnSync } from 'node:child_process';
import {
  CHECK_IMAGE,
  ROOT,
  RUNS,
  asSet,
  asText,
  parseFlags,
  conformance,
  freePort,
  mcpSession,
  quiet,
  run,
  runChecks,
  waitFor,
} from './lib/mcp-checks.mjs';

const CORE = ['redis', 'nats', 'worker-1', 'worker-2', 'gateway-1', 'gateway-2', 'lb'];
const THIRD_PARTY = ['redis:7', 'nats:2', 'haproxy:2.8'];
const PROMETHEUS = 'prom/prometheus:v2.55.1';

function parseArgs(argv) {
  return parseFlags(
    argv,
    { image: CHECK_IMAGE, conformance: true, only: null, observability: false, keep: false },
    {
      '--image': ['image', asText],
      '--no-conformance': ['conformance', false],
      '--only': ['only', asSet],
      '--observability': ['observability', true],
      '--keep': ['keep', true],
    },
  );
}

/** The project's containers by compose service name (podman-compose and Docker label them alike). */
function containers(project) {
  const out = run('podman', [
    'ps',
    '--all',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    'json',
  ]);
  const byService = new Map();
  for (const c of JSON.parse(out || '[]')) {
    const service = c.Labels?.['com.docker.compose.service'];
    if (service) byService.set(service, { name: c.Names[0], state: c.State });
  }
  return byService;
}

/**
 * A container's /readyz, asked inside it as compose's healthcheck asks it (older podman-compose
 * mangles the healthcheck itself): `{ ok, body }`, body undefined when nothing answered.
 */
function readyzIn(name) {
  const r = spawnSync(
    'podman',
    [
      'exec',
      name,
      'node',
      '-e',
      "fetch('http://127.0.0.1:3000/readyz').then(async (r) => console.log(JSON.stringify({ ok: r.ok, body: await r.json().catch(() => null) })), () => console.log('{}'))",
    ],
    { encoding: 'utf8' },
  );
  try {
    return JSON.parse(r.stdout.trim() || '{}');
  } catch {
    return {};
  }
}

const ready = (name) => readyzIn(name).ok === true;

/** How many workers a gateway routes to now: its /readyz `workers` no breaker holds back. */
function routable(name) {
  const body = readyzIn(name).body;
  return (body?.workers ?? 0) - (body?.held ?? 0);
}

/** The retry hint of a retryable JSON-RPC error (-32016 and friends carry `data.retryAfterMs`). */
function retryAfterMs(err) {
  const m = /^JSON-RPC error (.*)$/s.exec(err instanceof Error ? err.message : '');
  if (!m) return undefined;
  const ms = JSON.parse(m[1])?.data?.retryAfterMs;
  return typeof ms === 'number' ? ms : undefined;
}

/**
 * Up to `calls` fresh sessions through `url` for at most `windowMs`, each initialize + one
 * tools/call. A client that
 * follows the documented contract retries a retryable error after its hint (at most 3 times):
 * `firstTry` counts the calls that needed no retry, `ok` those that succeeded in the end.
 */
async function callMany(url, calls, windowMs = Infinity) {
  let ok = 0;
  let firstTry = 0;
  let made = 0;
  const errors = [];
  const started = Date.now();
  for (; made < calls && Date.now() - started < windowMs; made++) {
    try {
      const s = await mcpSession(url, 'compose-check');
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await s.request('tools/call', { name: 'test_simple_text', arguments: {} });
          if (r?.isError) throw new Error(`tool error ${JSON.stringify(r.content)}`);
          if (attempt === 0) firstTry++;
          ok++;
          break;
        } catch (err) {
          const wait = retryAfterMs(err);
          if (attempt === 0) errors.push(err instanceof Error ? err.message : String(err));
          if (wait === undefined || attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      await s.close();
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { ok, firstTry, made, errors };
}

async function main(report) {
  const opts = parseArgs(process.argv.slice(2));
  const check = report.check;
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  for (const image of [opts.image, ...THIRD_PARTY, ...(opts.observability ? [PROMETHEUS] : [])]) {
    if (spawnSync('podman', ['image', 'exists', image]).status !== 0) {
      console.log(`note: image ${image} is not local; podman will try to pull it`);
    }
  }

  const project = `mcp-compose-check-${process.pid}`;
  const port = await freePort();
  const env = {
    ...process.env,
    MCP_IMAGE: opts.image,
    MCP_PORT: String(port),
    PROMETHEUS_PORT: String(await freePort()),
  };
  const compose = (args, extra = {}) =>
    run('podman-compose', ['-p', project, '-f', 'docker-compose.yml', ...args], {
      env,
      ...extra,
    });
  const services = [...CORE, ...(opts.observability ? ['prometheus'] : [])];
  const base = `http://localhost:${port}`;

  const teardown = () => {
    if (opts.keep) {
      console.log(`\nleft running: podman-compose -p ${project} down -v`);
      return;
    }
    console.log(`\n=== tearing down ${project}`);
    spawnSync('podman-compose', ['-p', project, '-f', 'docker-compose.yml', 'down', '-v'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    // Whatever `down` left (a failed `up` half way, an older podman-compose).
    const ids = spawnSync(
      'podman',
      ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`],
      { encoding: 'utf8' },
    ).stdout.trim();
    if (ids) spawnSync('podman', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
    for (const v of ['redis-data', 'nats-data', 'prometheus-data']) {
      spawnSync('podman', ['volume', 'rm', '-f', `${project}_${v}`], { stdio: 'ignore' });
    }
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { stdio: 'ignore' });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      teardown();
      process.exit(130);
    });
  }

  try {
    console.log(`\n=== podman-compose -p ${project} up -d ${services.join(' ')} (port ${port})`);
    compose(['up', '-d', '--no-build', ...services], { inherit: true });
    const upSeconds = since();

    // podman-compose runs no healthcheck timers without systemd, and older versions do not
    // wait on `condition: service_healthy`: run the compose healthchecks here until they pass.
    const byService = containers(project);
    const missing = services.filter((s) => !byService.has(s));
    if (missing.length > 0) throw new Error(`no container for ${missing.join(', ')}`);
    for (const s of ['worker-1', 'worker-2', 'gateway-1', 'gateway-2']) {
      await waitFor(`${s} ready`, async () => ready(byService.get(s).name), 120_000);
    }
    check('up', true, `${services.length} services, up in ${upSeconds}, all ready at ${since()}`);
    await waitFor(
      'load balancer',
      async () => (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) })).ok,
      60_000,
    );
    check('lb', true, `${base}/readyz answers 200 at ${since()}`);

    // Workers that started before Redis accepted connections exit and are restarted
    // (restart: unless-stopped): poll until the URL lists tools, bounded.
    let s;
    let tools = [];
    await waitFor(
      'tools/list through the load balancer',
      async () => {
        s = await mcpSession(`${base}/mcp`, 'compose-check');
        tools = (await s.request('tools/list')).tools ?? [];
        return tools.length > 0;
      },
      60_000,
    );
    // Both gateways route to both workers before anything is measured (start-up is over). A
    // worker a breaker held back at start-up returns after a trial request: calls keep coming.
    for (const g of ['gateway-1', 'gateway-2']) {
      await waitFor(
        `${g} routes to 2 workers`,
        async () => {
          await callMany(`${base}/mcp`, 2);
          return routable(byService.get(g).name) === 2;
        },
        60_000,
      );
    }
    const restarts = ['worker-1', 'worker-2', 'gateway-1', 'gateway-2'].map(
      (x) =>
        `${x} ${run('podman', ['inspect', byService.get(x).name, '--format', '{{.RestartCount}}'])}`,
    );
    report.note(`first tools/list at ${since()}; restarts during start-up: ${restarts.join(', ')}`);
    const names = new Set(tools.map((t) => t.name));
    check(
      'tools/list',
      names.has('test_simple_text'),
      `${s.info?.serverInfo?.name} ${s.info?.serverInfo?.version}, ${tools.length} tools (builtin:conformance)`,
    );

    const before = await callMany(`${base}/mcp`, 20);
    check(
      'tools/call',
      before.ok === 20,
      `${before.ok}/20 sessions through ${base}/mcp${before.errors[0] ? `; first error: ${before.errors[0]}` : ''}`,
    );

    if (opts.conformance) {
      // dns-rebinding-protection passes only against a localhost URL (as in run.ts).
      for (const r of RUNS.filter((x) => !opts.only || opts.only.has(x.name))) {
        const res = await conformance(r, `${base}/mcp`, 'compose');
        check(
          `conformance ${res.name}`,
          res.code === 0,
          `exit ${res.code}, ${res.passed ?? '?'} passed, ${res.failed ?? '?'} failed, ${res.seconds.toFixed(0)} s`,
        );
      }
    }

    if (opts.observability) {
      const prom = `http://127.0.0.1:${env.PROMETHEUS_PORT}`;
      let up = 0;
      await waitFor(
        'prometheus scrapes 4 mcp targets',
        async () => {
          const r = await fetch(`${prom}/api/v1/targets`, { signal: AbortSignal.timeout(2000) });
          const active = (await r.json()).data?.activeTargets ?? [];
          up = active.filter((t) => t.labels.job.startsWith('mcp-') && t.health === 'up').length;
          return up === 4;
        },
        90_000,
      ).catch(() => {});
      check('prometheus', up === 4, `${up}/4 mcp-cluster targets up at ${prom}`);
      const rules = await fetch(`${prom}/api/v1/rules`).then((r) => r.json());
      const count = (rules.data?.groups ?? []).reduce((n, g) => n + g.rules.length, 0);
      check('rules', count > 0, `${count} rules loaded from deploy/prometheus/rules`);
    }

    // One worker dies without draining: calls through the URL must keep succeeding.
    const victim = byService.get('worker-1').name;
    const killedAt = Date.now();
    run('podman', ['kill', victim]);
    console.log(`\n=== podman kill ${victim}`);
    // Calls for 10 s (at most 500): across the time the gateways take to notice the loss.
    const after = await callMany(`${base}/mcp`, 500, 10_000);
    const seconds = ((Date.now() - killedAt) / 1000).toFixed(1);
    check(
      'kill worker-1',
      after.made > 0 && after.ok === after.made,
      `${after.ok}/${after.made} sessions with a tools/call succeeded in the ${seconds} s after the kill, ${after.firstTry} without a retry${after.errors[0] ? `; first error: ${after.errors[0]}` : ''}`,
    );
    const state = containers(project).get('worker-1')?.state ?? 'gone';
    report.note(`worker-1 after the checks: ${state} (restart: unless-stopped)`);
  } catch (err) {
    check('stack', false, err instanceof Error ? err.message : String(err));
    for (const [service, c] of containers(project)) {
      const logs = spawnSync('podman', ['logs', '--tail', '20', c.name], { encoding: 'utf8' });
      console.log(`\n--- ${service} (${c.state})\n${quiet(`${logs.stdout}${logs.stderr}`)}`);
    }
  } finally {
    teardown();
  }

  report.note(`image ${opts.image}, ${since()}`);
}

runChecks('Compose check', main);

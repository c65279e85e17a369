#!/usr/bin/env node
/* global process, console, fetch, AbortSignal */
/**
 * `node scripts/image-check.mjs`: builds the image from the repository's Dockerfile with
 * podman, runs it as `serve --pack builtin:conformance` on a loopback port chosen by the OS,
 * and checks what a deployment relies on:
 *
 *   - /healthz answers, and the image's own HEALTHCHECK passes (`podman healthcheck run`);
 *   - an MCP client can initialize and list tools over Streamable HTTP;
 *   - the official conformance suites (the ones test/conformance/run.ts runs, with the same
 *     expected-failures files) pass against the container's URL;
 *   - `podman stop` (SIGTERM) ends it cleanly and quickly;
 *   - the image size, and what our layers add to the base image (budget: 100 MB).
 *
 * Flags: --tag <name> (default localhost/mcp-cluster:check), --no-build (check an existing
 * image), --only stable,alpha,alpha-2026 (conformance runs), --no-conformance.
 * Needs podman (rootful or rootless) and `pnpm install` (for the conformance suites).
 * Exit code: non-zero when any check fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, RUNS, conformance, rpcResult, waitFor } from './lib/mcp-checks.mjs';

const ADDED_BUDGET = 100 * 1000 * 1000;

function parseArgs(argv) {
  const opts = { tag: 'localhost/mcp-cluster:check', build: true, conformance: true, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--tag') opts.tag = next();
    else if (a === '--no-build') opts.build = false;
    else if (a === '--no-conformance') opts.conformance = false;
    else if (a === '--only') opts.only = new Set(next().split(','));
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Runs podman, returns trimmed stdout; throws with stderr on failure. */
function podman(args, { inherit = false } = {}) {
  const r = spawnSync('podman', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`cannot run podman: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`podman ${args.join(' ')} exited with ${r.status}: ${quiet(r.stderr ?? '')}`);
  }
  return (r.stdout ?? '').trim();
}

/** podman without systemd logs an error about healthcheck timers on run/stop/rm: not ours. */
const quiet = (stderr) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('/run/systemd/private'))
    .join('\n');

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The base image: the Dockerfile's `ARG NODE_IMAGE=` default. */
function baseImage() {
  const m = /^ARG NODE_IMAGE=(\S+)/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('Dockerfile: no ARG NODE_IMAGE=<image>');
  return m[1];
}

function build(tag) {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const revision = git.status === 0 ? git.stdout.trim() : 'unknown';
  const started = Date.now();
  console.log(`\n=== podman build -t ${tag} .`);
  podman(
    [
      'build',
      // Keeps HEALTHCHECK: the OCI image format has no field for it.
      '--format',
      'docker',
      '--build-arg',
      `REVISION=${revision}`,
      '--build-arg',
      `CREATED=${new Date().toISOString()}`,
      '-t',
      tag,
      '.',
    ],
    { inherit: true },
  );
  return (Date.now() - started) / 1000;
}

function sizes(tag) {
  const size = (image) => Number(podman(['image', 'inspect', image, '--format', '{{.Size}}']));
  const base = baseImage();
  const image = size(tag);
  return { base, baseSize: size(base), imageSize: image, added: image - size(base) };
}

/** initialize, notifications/initialized, tools/list: what any MCP client does first. */
async function mcpToolsList(url) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const post = (body, session) =>
    fetch(url, {
      method: 'POST',
      headers: session ? { ...headers, 'mcp-session-id': session } : headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  const init = await post({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'image-check', version: '1' },
    },
  });
  const session = init.headers.get('mcp-session-id') ?? undefined;
  const info = await rpcResult(init);
  const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  await ack.text();
  const list = await rpcResult(
    await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, session),
  );
  return { server: info?.serverInfo, protocol: info?.protocolVersion, tools: list?.tools ?? [] };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = [];
  let ok = true;
  const check = (label, pass, detail) => {
    ok &&= pass;
    report.push(`${pass ? 'ok  ' : 'FAIL'}  ${label}: ${detail}`);
  };

  if (opts.build) report.push(`      build: ${build(opts.tag).toFixed(0)} s`);
  const s = sizes(opts.tag);
  check(
    'size',
    s.added <= ADDED_BUDGET,
    `image ${mb(s.imageSize)}, base ${s.base} ${mb(s.baseSize)}, our layers add ${mb(s.added)} (budget ${mb(ADDED_BUDGET)})`,
  );

  const name = `mcp-cluster-image-check-${process.pid}`;
  const id = podman([
    'run',
    '--detach',
    '--name',
    name,
    '--publish',
    '127.0.0.1::3000',
    opts.tag,
    'serve',
    '--pack',
    'builtin:conformance',
  ]);
  try {
    const hostPort = podman(['port', name, '3000/tcp']).split('\n')[0].split(':').at(-1);
    const base = `http://127.0.0.1:${hostPort}`;
    console.log(`\ncontainer ${id.slice(0, 12)} serving at ${base}`);
    await waitFor(
      '/healthz',
      async () => (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok,
      60_000,
    );
    check('healthz', true, `${base}/healthz answers 200`);
    const hc = spawnSync('podman', ['healthcheck', 'run', name], { encoding: 'utf8' });
    check(
      'HEALTHCHECK',
      hc.status === 0,
      hc.status === 0 ? 'healthy' : quiet(hc.stdout + hc.stderr),
    );
    const user = podman(['exec', name, 'id', '-u']);
    check('user', user !== '0', `runs as uid ${user}`);

    const listed = await mcpToolsList(`${base}/mcp`);
    check(
      'tools/list',
      listed.tools.length > 0,
      `${listed.server?.name} ${listed.server?.version}, protocol ${listed.protocol}, ${listed.tools.length} tools`,
    );

    if (opts.conformance) {
      // dns-rebinding-protection passes only against a localhost URL (as in run.ts).
      const url = `http://localhost:${hostPort}/mcp`;
      for (const run of RUNS.filter((r) => !opts.only || opts.only.has(r.name))) {
        const r = await conformance(run, url, 'image');
        check(
          `conformance ${r.name}`,
          r.code === 0,
          `exit ${r.code}, ${r.passed ?? '?'} passed, ${r.failed ?? '?'} failed, ${r.seconds.toFixed(0)} s`,
        );
      }
    }

    const started = Date.now();
    podman(['stop', '--time', '30', name]);
    const seconds = (Date.now() - started) / 1000;
    const exitCode = podman(['inspect', name, '--format', '{{.State.ExitCode}}']);
    const logs = spawnSync('podman', ['logs', name], { encoding: 'utf8' });
    const stopped = /"msg":"stopped"/.test(`${logs.stdout}${logs.stderr}`);
    check(
      'SIGTERM',
      exitCode === '0' && stopped && seconds < 10,
      `podman stop took ${seconds.toFixed(1)} s, exit code ${exitCode}, ${stopped ? 'logged "stopped"' : 'no "stopped" line'}`,
    );
  } finally {
    spawnSync('podman', ['rm', '--force', name], { stdio: 'ignore' });
  }

  console.log(`\nImage check (${opts.tag})\n${report.join('\n')}`);
  console.log(ok ? '\nimage check: OK' : '\nimage check: FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`image check failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);

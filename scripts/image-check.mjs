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
 *   - the image size, and what our layers add to the base image (budget: 100 MB);
 *   - a pack project's image: the Dockerfile `mcp-cluster init` writes, built on this image,
 *     serves the project's example tool.
 *
 * Flags: --tag <name> (default localhost/mcp-cluster:check), --no-build (check an existing
 * image), --only stable,alpha,alpha-2026 (conformance runs), --no-conformance,
 * --no-pack-project.
 * Needs podman (rootful or rootless) and `pnpm install` (for the conformance suites).
 * Exit code: non-zero when any check fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHECK_IMAGE,
  ROOT,
  RUNS,
  asSet,
  asText,
  parseFlags,
  conformance,
  mcpSession,
  quiet,
  run,
  runChecks,
  waitFor,
} from './lib/mcp-checks.mjs';

const ADDED_BUDGET = 100 * 1000 * 1000;

function parseArgs(argv) {
  return parseFlags(
    argv,
    { tag: CHECK_IMAGE, build: true, conformance: true, only: null, packProject: true },
    {
      '--tag': ['tag', asText],
      '--no-build': ['build', false],
      '--no-conformance': ['conformance', false],
      '--no-pack-project': ['packProject', false],
      '--only': ['only', asSet],
    },
  );
}

const podman = (args, opts) => run('podman', args, opts);

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

async function main(report) {
  const opts = parseArgs(process.argv.slice(2));
  const check = report.check;

  if (opts.build) report.note(`build: ${build(opts.tag).toFixed(0)} s`);
  const s = sizes(opts.tag);
  check(
    'size',
    s.added <= ADDED_BUDGET,
    `image ${mb(s.imageSize)}, base ${s.base} ${mb(s.baseSize)}, our layers add ${mb(s.added)} (budget ${mb(ADDED_BUDGET)})`,
  );

  const name = `mcp-cluster-image-check-${process.pid}`;
  try {
    const { hostPort, base } = await serve(name, opts.tag, [
      'serve',
      '--pack',
      'builtin:conformance',
    ]);
    check('healthz', true, `${base}/healthz answers 200`);
    const hc = spawnSync('podman', ['healthcheck', 'run', name], { encoding: 'utf8' });
    check(
      'HEALTHCHECK',
      hc.status === 0,
      hc.status === 0 ? 'healthy' : quiet(hc.stdout + hc.stderr),
    );
    const user = podman(['exec', name, 'id', '-u']);
    check('user', user !== '0', `runs as uid ${user}`);

    const session = await mcpSession(`${base}/mcp`, 'image-check');
    const tools = (await session.request('tools/list')).tools ?? [];
    await session.close();
    const server = session.info?.serverInfo;
    check(
      'tools/list',
      tools.length > 0,
      `${server?.name} ${server?.version}, protocol ${session.info?.protocolVersion}, ${tools.length} tools`,
    );

    if (opts.conformance) {
      // dns-rebinding-protection passes only against a localhost URL (as in run.ts).
      const url = `http://localhost:${hostPort}/mcp`;
      for (const suite of RUNS.filter((r) => !opts.only || opts.only.has(r.name))) {
        const r = await conformance(suite, url, 'image');
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
  if (opts.packProject) await packProject(opts.tag, check);
}

/** Runs the image detached on a loopback port; resolves once /healthz answers. */
async function serve(name, tag, args) {
  const id = podman([
    'run',
    '--detach',
    '--name',
    name,
    '--publish',
    '127.0.0.1::3000',
    tag,
    ...args,
  ]);
  const hostPort = podman(['port', name, '3000/tcp']).split('\n')[0].split(':').at(-1);
  const base = `http://127.0.0.1:${hostPort}`;
  console.log(`\ncontainer ${id.slice(0, 12)} serving at ${base}`);
  await waitFor(
    `${name} /healthz`,
    async () => (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok,
    60_000,
  );
  return { hostPort, base };
}

/**
 * The image a pack project made by `mcp-cluster init` builds on ours (its Dockerfile,
 * .dockerignore and example pack, as init writes them): it builds, and serves the pack's tool.
 */
async function packProject(tag, check) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-pack-image-'));
  const name = `mcp-cluster-pack-check-${process.pid}`;
  const packTag = 'localhost/mcp-cluster-pack:check';
  try {
    const files = JSON.parse(
      run(process.execPath, [
        '--import',
        'tsx',
        '-e',
        "import('./services/cli/src/init.ts').then((m) => process.stdout.write(JSON.stringify(m.packImageFiles('my-pack'))))",
      ]),
    );
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    console.log(`\n=== podman build -t ${packTag} (mcp-cluster init's Dockerfile, FROM ${tag})`);
    podman(
      [
        'build',
        '--format',
        'docker',
        '--build-arg',
        `MCP_CLUSTER_IMAGE=${tag}`,
        '-t',
        packTag,
        dir,
      ],
      {
        inherit: true,
      },
    );
    const { base } = await serve(name, packTag, []);
    const session = await mcpSession(`${base}/mcp`, 'image-check');
    const result = await session.request('tools/call', {
      name: 'greet',
      arguments: { name: 'Ada' },
    });
    await session.close();
    const text = result?.content?.[0]?.text;
    check(
      'pack project image',
      text === 'Hello, Ada!',
      `init's Dockerfile on ${tag}: greet answered ${JSON.stringify(text)}`,
    );
  } finally {
    spawnSync('podman', ['rm', '--force', name], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

runChecks('Image check', main);

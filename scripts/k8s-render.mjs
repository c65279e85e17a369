#!/usr/bin/env node
/* global console */
/**
 * `node scripts/k8s-render.mjs`: writes k8s/mcp-cluster.yaml, the Helm chart rendered with its
 * default values, for `kubectl apply -k k8s/` without Helm. scripts/chart-check.mjs (in the
 * test command) fails when the file differs from what the chart renders: re-run this after
 * changing the chart.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { K8S, ensureTools, renderK8s } from './lib/chart-tools.mjs';
import { ROOT } from './lib/mcp-checks.mjs';

writeFileSync(K8S.file, renderK8s(ensureTools()));
console.log(`wrote ${path.relative(ROOT, K8S.file)}`);

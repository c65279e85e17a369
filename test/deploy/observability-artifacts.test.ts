/**
 * Static checks of the operator artifacts in deploy/: the Prometheus rules, config and rule
 * unit tests (promtool), the Alertmanager example (amtool), the generated Grafana dashboards,
 * and that every metric they query is one the cluster exports.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS } from '@mcp-cluster/observability';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../deploy/grafana/dashboards.js';
import { renderAll } from '../../deploy/grafana/generate.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(REPO, 'deploy');
const PROMETHEUS_DIR = path.join(DEPLOY, 'prometheus');
const RULE_FILES = ['rules/mcp-recording.yaml', 'rules/mcp-alerts.yaml'];
const INSTALL_HINT = 'install them with `apt-get install prometheus prometheus-alertmanager`';
const TOOL_TIMEOUT_MS = 20_000;

interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a tool to completion; a missing binary is an error naming the packages to install. */
function run(binary: string, args: readonly string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd, timeout: TOOL_TIMEOUT_MS }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (err === null) return resolve({ code: 0, output });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(`${binary} not found on PATH: ${INSTALL_HINT}`));
      }
      const code = typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${output}${err.killed ? '\n(killed: timeout)' : ''}` });
    });
  });
}

async function expectSuccess(
  binary: string,
  args: readonly string[],
  cwd: string,
): Promise<string> {
  const { code, output } = await run(binary, args, cwd);
  expect(code, `${binary} ${args.join(' ')}:\n${output}`).toBe(0);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
  return output;
}

describe('Prometheus and Alertmanager artifacts', () => {
  it.each(RULE_FILES)('promtool check rules %s', async (file) => {
    const output = await expectSuccess('promtool', ['check', 'rules', file], PROMETHEUS_DIR);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool check config accepts the example prometheus.yml and its rule files', async () => {
    const output = await expectSuccess(
      'promtool',
      ['check', 'config', 'prometheus.yml'],
      PROMETHEUS_DIR,
    );
    expect(output).toContain('is valid prometheus config file syntax');
    expect(output).toContain(`SUCCESS: ${RULE_FILES.length} rule files found`);
  });

  it('promtool test rules passes every rule unit test', async () => {
    const tests = (await readdir(path.join(PROMETHEUS_DIR, 'tests')))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `tests/${f}`);
    expect(tests.length).toBeGreaterThanOrEqual(2);
    await expectSuccess('promtool', ['test', 'rules', ...tests], PROMETHEUS_DIR);
  });

  it('the rule unit tests cover every alert, firing and not firing', async () => {
    const alerts = [
      ...(await ruleText('rules/mcp-alerts.yaml')).matchAll(/^\s*- alert:\s*(\S+)/gm),
    ];
    const names = alerts.map((m) => m[1] ?? '');
    expect(names.length).toBeGreaterThanOrEqual(9);
    const tests = await ruleText('tests/mcp-alerts.test.yaml');
    for (const name of names) {
      // Each alert has at least one expectation that it fires and one that it does not.
      const blocks = tests
        .split(/\n\s*- eval_time:/)
        .filter((b) => b.includes(`alertname: ${name}\n`));
      expect(
        blocks.some((b) => /exp_alerts:\s*\[\]/.test(b)),
        `${name} not firing`,
      ).toBe(true);
      expect(
        blocks.some((b) => /exp_alerts:\s*\n\s*- exp_labels:/.test(b)),
        `${name} firing`,
      ).toBe(true);
    }
  });

  it('amtool check-config accepts the Alertmanager example', async () => {
    const output = await expectSuccess(
      'amtool',
      ['check-config', 'alertmanager/alertmanager.yml'],
      DEPLOY,
    );
    expect(output).toMatch(/\d+ receivers/);
  });
});

describe('Grafana dashboards', () => {
  it('the committed JSON equals the generator output', async () => {
    for (const { file, text } of await renderAll()) {
      const committed = await readFile(path.join(DEPLOY, 'grafana/dashboards', file), 'utf8');
      // On a mismatch: run `npx tsx deploy/grafana/generate.ts` and commit the result.
      expect(committed, file).toBe(text);
    }
  });

  it('every panel query is valid PromQL (promtool parses it as an alert expression)', async () => {
    // Grafana's range variable becomes a fixed window; $node / $role sit inside label strings.
    const exprs = DASHBOARDS.flatMap(({ dashboard }) =>
      dashboardTargets(dashboard.panels ?? []).map((t) =>
        String(t.expr).replaceAll('$__rate_interval', '1m'),
      ),
    );
    expect(exprs.length).toBeGreaterThan(40);
    const rules = {
      groups: [{ name: 'dashboards', rules: exprs.map((expr, i) => ({ alert: `Q${i}`, expr })) }],
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-dashboard-promql-'));
    try {
      // JSON is YAML: promtool reads it as a rule file.
      await writeFile(path.join(dir, 'rules.yaml'), JSON.stringify(rules));
      const output = await expectSuccess('promtool', ['check', 'rules', 'rules.yaml'], dir);
      expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every panel query uses the datasource variable', () => {
    for (const { dashboard } of DASHBOARDS) {
      for (const target of dashboardTargets(dashboard.panels ?? [])) {
        expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });
});

// --- Metric names -------------------------------------------------------------------------

/** prom-client's default Node metrics the dashboards may use (histograms get suffixes). */
const NODE_GAUGES = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_active_handles',
];
const NODE_HISTOGRAMS = ['nodejs_gc_duration_seconds'];
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** PromQL functions and aggregations (an unknown one fails the check too). */
const FUNCTIONS = new Set(
  (
    'sum min max avg count group stddev stdvar topk bottomk quantile count_values ' +
    'rate irate increase delta idelta deriv predict_linear resets changes histogram_quantile ' +
    'abs absent absent_over_time ceil floor round exp ln log2 log10 sqrt sgn clamp clamp_min ' +
    'clamp_max scalar vector time timestamp sort sort_desc label_replace label_join ' +
    'avg_over_time min_over_time max_over_time sum_over_time count_over_time ' +
    'quantile_over_time last_over_time present_over_time stddev_over_time stdvar_over_time'
  ).split(' '),
);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right']);
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

/**
 * The metric names an expression selects: every identifier outside strings, label matchers,
 * ranges and grouping clauses that is not a function call, keyword or number.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(GROUPING, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi)) {
    const token = m[0];
    if (/^\d/.test(token) || KEYWORDS.has(token)) continue;
    const next = bare.slice((m.index ?? 0) + token.length).trimStart()[0];
    if (next === '(') {
      if (!FUNCTIONS.has(token)) throw new Error(`unknown PromQL function ${token} in: ${expr}`);
      continue;
    }
    names.push(token);
  }
  return names;
}

/** A Grafana variable query: `label_values(<selector>, label)` queries the selector. */
function variableExpr(query: string): string {
  const m = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query.trim());
  return m?.[1] ?? query;
}

interface Target {
  readonly expr?: unknown;
  readonly datasource?: unknown;
}

function dashboardTargets(panels: readonly { targets?: unknown; panels?: unknown }[]): Target[] {
  return panels.flatMap((p) => [
    ...((p.targets as Target[] | undefined) ?? []),
    ...dashboardTargets((p.panels as { targets?: unknown }[] | undefined) ?? []),
  ]);
}

function ruleText(file: string): Promise<string> {
  return readFile(path.join(PROMETHEUS_DIR, file), 'utf8');
}

/**
 * The `expr` values of a rule file: inline (`expr: up == 0`) or block scalars (`expr: |`),
 * whose lines are those indented deeper than the key. Enough for our own rule files.
 */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(line);
    if (m === null) return;
    const indent = (m[1] ?? '').length;
    const rest = (m[2] ?? '').trim();
    if (!/^[|>][-+]?$/.test(rest)) {
      exprs.push(rest.replace(/^'(.*)'$|^"(.*)"$/, '$1$2'));
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= indent) break;
      block.push(next);
    }
    exprs.push(block.join('\n'));
  });
  return exprs;
}

function recordNames(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1] ?? '');
}

function knownNames(recorded: readonly string[]): Set<string> {
  const known = new Set<string>(['up', ...NODE_GAUGES, ...recorded]);
  const histograms = [...NODE_HISTOGRAMS];
  for (const def of Object.values(METRICS)) {
    if ('buckets' in def) histograms.push(def.name);
    else known.add(def.name);
  }
  for (const h of histograms) for (const s of HISTOGRAM_SUFFIXES) known.add(`${h}${s}`);
  return known;
}

describe('metric names in dashboards and rules', () => {
  it('the extractor finds metric names and rejects what is not one', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, node) (rate(mcp_x_bucket{role=~"a|b", node=~"$node"}[$__rate_interval]))) / on (node) group_left b:c:d',
      ),
    ).toEqual(['mcp_x_bucket', 'b:c:d']);
    expect(metricNames('count(up{job=~"mcp-.*"} == 0) or vector(0)')).toEqual(['up']);
    expect(metricNames('sum(rate(mcp_server_operation_duraton_seconds_count[5m])) > 1e3')).toEqual([
      'mcp_server_operation_duraton_seconds_count',
    ]);
    expect(() => metricNames('sum(rat(mcp_x[5m]))')).toThrow(/unknown PromQL function rat/);
  });

  it('every query and rule expression selects a metric the cluster exports', async () => {
    const recordingYaml = await ruleText('rules/mcp-recording.yaml');
    const recorded = recordNames(recordingYaml);
    expect(recorded.length).toBeGreaterThanOrEqual(10);
    const known = knownNames(recorded);

    const sources: { where: string; expr: string }[] = [];
    for (const { file, dashboard } of DASHBOARDS) {
      for (const target of dashboardTargets(dashboard.panels ?? [])) {
        sources.push({ where: file, expr: String(target.expr) });
      }
      for (const variable of dashboard.templating?.list ?? []) {
        if (variable.type === 'query' && typeof variable.query === 'string') {
          sources.push({ where: `${file} $${variable.name}`, expr: variableExpr(variable.query) });
        }
      }
    }
    for (const file of RULE_FILES) {
      for (const expr of ruleExpressions(await ruleText(file))) sources.push({ where: file, expr });
    }
    expect(sources.filter((s) => s.where.endsWith('.json')).length).toBeGreaterThan(40);
    expect(sources.filter((s) => s.where.endsWith('.yaml')).length).toBe(19);

    const unknown: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of sources) {
      const names = metricNames(expr);
      expect(names.length, `no metric in ${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        used.add(name);
        if (!known.has(name)) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // The alerts build on the recording rules (so a renamed rule cannot go unnoticed).
    expect(recorded.filter((r) => used.has(r)).length).toBeGreaterThanOrEqual(4);
  });
});

/**
 * What a node tells its operator when it starts: every URL it answers on, the packs it loaded
 * and how many components they hold. The same facts go into the `listening` log line (for
 * scripts) and, when stderr is a terminal, into a readable banner (for people).
 */
import { METRICS_PATH } from '@mcp-cluster/observability';
import { METADATA_PATH, TOKEN_PATH } from '@mcp-cluster/security';
import type { ComponentCounts } from '@mcp-cluster/server';
import { LEGACY_SSE_PATH, WEBSOCKET_PATH } from '@mcp-cluster/transports';

/** The worker's dispatch endpoint and health probe (packages/cluster/src/dispatch.ts). */
const WORKER_DISPATCH_PATH = '/dispatch';
const HEALTH_PATH = '/healthz';
const READY_PATH = '/readyz';

export type Role = 'serve' | 'gateway' | 'worker';

/** Endpoint name -> URL, in the order the banner shows them. */
export type Endpoints = Readonly<Record<string, string>>;

/** The part of a fastify app the banner asks: does this route exist? */
export interface RouteTable {
  hasRoute(route: { method: 'GET' | 'POST'; url: string }): boolean;
}

/**
 * The URLs of a node. `url` is what the node reports: the Streamable HTTP endpoint for serve
 * and gateway (`http://host:port/mcp`), the dispatch base URL for a worker. With `routes`
 * (the node's fastify app), only routes the app really has are named, and the OAuth routes
 * security registers (RFC 9728 metadata, the token endpoint) are added when present.
 */
export function endpointsOf(role: Role, url: string, routes?: RouteTable): Endpoints {
  const u = new URL(url);
  const origin = u.origin;
  const candidates: [name: string, method: 'GET' | 'POST', path: string, base: string][] = [];
  const out: Record<string, string> = {};
  if (role === 'worker') {
    out.dispatch = `${origin}${WORKER_DISPATCH_PATH}`;
  } else {
    out.mcp = url;
    const ws = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
    candidates.push(['ws', 'GET', WEBSOCKET_PATH, ws], ['sse', 'GET', LEGACY_SSE_PATH, origin]);
  }
  candidates.push(
    ['health', 'GET', HEALTH_PATH, origin],
    ['ready', 'GET', READY_PATH, origin],
    ['metrics', 'GET', METRICS_PATH, origin],
  );
  if (routes !== undefined && role !== 'worker') {
    candidates.push(
      ['oauthMetadata', 'GET', `${METADATA_PATH}${u.pathname}`, origin],
      ['token', 'POST', TOKEN_PATH, origin],
    );
  }
  for (const [name, method, path, base] of candidates) {
    if (routes === undefined || routes.hasRoute({ method, url: path }))
      out[name] = `${base}${path}`;
  }
  return out;
}

const LABELS: Readonly<Record<string, string>> = {
  mcp: 'Streamable HTTP',
  ws: 'WebSocket',
  sse: 'HTTP+SSE (2024-11-05)',
  health: 'health',
  ready: 'readiness',
  metrics: 'Prometheus metrics',
  dispatch: 'dispatch (gateways)',
  oauthMetadata: 'OAuth metadata',
  token: 'token endpoint',
};

export interface BannerInfo {
  readonly role: Role;
  readonly version: string;
  readonly endpoints: Endpoints;
  readonly id?: string;
  /** Pack references as configured; undefined for a gateway (its workers load the packs). */
  readonly packs?: readonly string[];
  readonly counts?: ComponentCounts;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The readable banner (several lines, ends with a newline). */
export function formatBanner(info: BannerInfo): string {
  const rows: [string, string][] = Object.entries(info.endpoints).map(([k, v]) => [
    LABELS[k] ?? k,
    v,
  ]);
  if (info.packs !== undefined) {
    rows.push(['packs', info.packs.length === 0 ? '(none)' : info.packs.join(', ')]);
  } else {
    rows.push(['packs', 'loaded by the workers']);
  }
  if (info.counts !== undefined) {
    const c = info.counts;
    rows.push([
      'loaded',
      `${plural(c.tools, 'tool')}, ${plural(c.resources, 'resource')}, ${plural(c.resourceTemplates, 'resource template')}, ${plural(c.prompts, 'prompt')}`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const title = `mcp-cluster ${info.version} ${info.role}${info.id === undefined ? '' : ` ${info.id}`} ready`;
  return [
    title,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`),
    '  Ctrl-C stops it.',
    '',
  ].join('\n');
}

/** The banner's facts as fields of the `listening` log line. */
export function bannerFields(info: BannerInfo): Record<string, unknown> {
  return {
    version: info.version,
    endpoints: info.endpoints,
    ...(info.packs === undefined ? {} : { packs: info.packs }),
    ...(info.counts === undefined ? {} : info.counts),
  };
}

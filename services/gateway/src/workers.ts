/**
 * The gateway's view of the workers: membership from the distributed registry (refreshed on
 * bus events and on a timer), one undici keep-alive pool per worker, and the dispatch call.
 */
import { DISPATCH_PATH, HEALTH_PATH, NDJSON_TYPE, signDispatch } from '@mcp-cluster/cluster';
import type { ComponentRegistry, DispatchFailure, WorkerInfo } from '@mcp-cluster/cluster';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import { asWorkerId } from '@mcp-cluster/router';
import type { Router, WorkerId, WorkerView } from '@mcp-cluster/router';
import { Pool } from 'undici';

/** Keep-alive connections per worker; enough for a busy gateway without piling up sockets. */
const CONNECTIONS_PER_WORKER = 128;
const PROBE_TIMEOUT_MS = 2_000;

/** How a dispatch ended. */
export type DispatchOutcome =
  /** The worker never got the request (connection refused): safe to retry anywhere. */
  | { readonly kind: 'not-sent'; readonly error: unknown }
  /** The connection was reset before any answer: the worker may or may not have got it. */
  | { readonly kind: 'reset'; readonly error: unknown }
  /** 202: accepted, nothing to return. */
  | { readonly kind: 'accepted' }
  /** The worker refused the dispatch before running anything (4xx/5xx with a failure body). */
  | { readonly kind: 'refused'; readonly status: number; readonly failure: DispatchFailure }
  /** 200 JSON: the one response. */
  | { readonly kind: 'message'; readonly message: JsonRpcMessage }
  /** 200 NDJSON: lines as they come; the last is the response. */
  | { readonly kind: 'stream'; readonly lines: AsyncIterable<string> }
  /** The connection broke after the request was sent: the worker may have run it. */
  | { readonly kind: 'broken'; readonly error: unknown };

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  const cause = errorCode(e.cause);
  return cause ?? (typeof e.code === 'string' ? e.code : undefined);
}

/** Splits a byte stream into lines (UTF-8 safe: decode with streaming, split on \n). */
async function* linesOf(body: AsyncIterable<Buffer>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.length > 0) yield line;
      nl = rest.indexOf('\n');
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest;
}

export class WorkerClients {
  private readonly pools = new Map<string, { url: string; pool: Pool }>();

  /**
   * `secret` signs every dispatch (the workers check it: dispatch-auth.ts); a worker that
   * refuses the signature (its secret differs: a deployment fault) is reported to `onError`,
   * whichever dispatch it refused.
   */
  constructor(
    private readonly secret: string,
    private readonly onError: (err: unknown, what: string) => void,
  ) {}

  private poolFor(worker: Pick<WorkerView, 'id' | 'url'>): Pool {
    const current = this.pools.get(worker.id);
    if (current !== undefined && current.url === worker.url) return current.pool;
    if (current !== undefined) void current.pool.destroy();
    const pool = new Pool(worker.url, {
      connections: CONNECTIONS_PER_WORKER,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // Dispatches may stream for as long as a tool runs; the envelope deadline bounds them.
      bodyTimeout: 0,
      headersTimeout: 0,
    });
    this.pools.set(worker.id, { url: worker.url, pool });
    return pool;
  }

  async dispatch(
    worker: Pick<WorkerView, 'id' | 'url'>,
    body: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<DispatchOutcome> {
    let res;
    try {
      res = await this.poolFor(worker).request({
        method: 'POST',
        path: DISPATCH_PATH,
        // Signed here, per call: every attempt (a retry included) gets its own nonce and
        // issue time, since a worker runs each nonce once.
        headers: {
          ...headers,
          'content-type': 'application/json',
          ...signDispatch(this.secret, headers, body),
        },
        body,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      const code = errorCode(error) ?? '';
      if (NOT_SENT_CODES.has(code)) return { kind: 'not-sent', error };
      return RESET_CODES.has(code) ? { kind: 'reset', error } : { kind: 'broken', error };
    }
    const type = String(res.headers['content-type'] ?? '');
    try {
      if (res.statusCode === 202) {
        await res.body.dump();
        return { kind: 'accepted' };
      }
      if (res.statusCode !== 200) {
        const failure = (await res.body.json()) as DispatchFailure;
        if (res.statusCode === 401 || failure.reason !== undefined) {
          this.onError(new Error(failure.error.message), 'worker refused dispatch');
        }
        return { kind: 'refused', status: res.statusCode, failure };
      }
      if (type.startsWith(NDJSON_TYPE)) {
        return { kind: 'stream', lines: linesOf(res.body as AsyncIterable<Buffer>) };
      }
      return { kind: 'message', message: (await res.body.json()) as JsonRpcMessage };
    } catch (error) {
      return { kind: 'broken', error };
    }
  }

  /** Active health probe: GET /healthz answers 200. */
  async probe(worker: WorkerView): Promise<boolean> {
    const res = await this.poolFor(worker).request({
      method: 'GET',
      path: HEALTH_PATH,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body.dump();
    return res.statusCode === 200;
  }

  /**
   * Stops using a worker's pool. Requests still running on it finish (a draining worker
   * completes its in-flight work); the connections close once they are idle.
   */
  forget(id: string): void {
    const current = this.pools.get(id);
    this.pools.delete(id);
    if (current !== undefined) current.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy().catch(() => undefined)));
  }
}

/** What the union of every worker's components is, to tell clients when it changes. */
export interface Catalog {
  readonly tools: ReadonlySet<string>;
  readonly prompts: ReadonlySet<string>;
  readonly resources: ReadonlySet<string>;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * Keeps the router's pool equal to the registry's live workers. A worker the gateway found
 * dead (connection refused) stays out until it registers again (a new `registeredAt`), even
 * while its old record has not expired yet.
 */
export class Membership {
  private catalog: Catalog = { tools: new Set(), prompts: new Set(), resources: new Set() };
  private readonly dead = new Map<string, number>();
  private syncing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly registry: ComponentRegistry,
    private readonly router: Router,
    private readonly clients: WorkerClients,
    /** Called with the kinds whose union changed (tools/prompts/resources). */
    private readonly onCatalogChange: (
      changed: readonly ('tools' | 'prompts' | 'resources')[],
    ) => void,
  ) {}

  get size(): number {
    return this.router.pool.size;
  }

  /**
   * Takes a worker out now — it refused a connection, or answered 503 (draining) — and keeps
   * it out until it registers again. Its legacy sessions re-pin on their next request.
   */
  markDead(id: WorkerId): void {
    const info = this.router.pool.get(id);
    if (info === undefined) return;
    this.dead.set(id, this.registeredAt.get(id) ?? 0);
    this.router.removeWorker(id);
    this.clients.forget(id);
    this.updateCatalog();
  }

  private readonly registeredAt = new Map<string, number>();

  /**
   * One routable worker per distinct set of `kind` components: a single entry when every
   * worker serves the same ones (any of them can answer a list alone).
   */
  representatives(kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates'): WorkerView[] {
    const groups = new Map<string, WorkerView>();
    for (const w of this.router.pool.list()) {
      if (w.health === 'down' || w.health === 'ejected') continue;
      const key = JSON.stringify([...(w.owns[kind] ?? [])].sort());
      const current = groups.get(key);
      if (current === undefined || w.id < current.id) groups.set(key, w);
    }
    return [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Re-reads the registry; concurrent calls coalesce into one more run. */
  sync(): Promise<void> {
    if (this.syncing !== undefined) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          this.apply(await this.registry.list());
        } while (this.again);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private apply(workers: readonly WorkerInfo[]): void {
    const live = new Set<string>();
    for (const w of workers) {
      const deadAt = this.dead.get(w.workerId);
      if (deadAt !== undefined && deadAt === w.registeredAt) continue;
      this.dead.delete(w.workerId);
      live.add(w.workerId);
      this.registeredAt.set(w.workerId, w.registeredAt);
      this.router.pool.upsert({
        id: asWorkerId(w.workerId),
        url: w.url,
        weight: w.weight,
        owns: w.components,
      });
    }
    for (const view of this.router.pool.list()) {
      if (live.has(view.id)) continue;
      this.router.removeWorker(view.id);
      this.clients.forget(view.id);
      this.registeredAt.delete(view.id);
    }
    this.updateCatalog();
  }

  private updateCatalog(): void {
    const next = {
      tools: new Set<string>(),
      prompts: new Set<string>(),
      resources: new Set<string>(),
    };
    for (const w of this.router.pool.list()) {
      for (const t of w.owns.tools ?? []) next.tools.add(t);
      for (const p of w.owns.prompts ?? []) next.prompts.add(p);
      for (const r of w.owns.resources ?? []) next.resources.add(r);
      for (const r of w.owns.resourceTemplates ?? []) next.resources.add(`template:${r}`);
    }
    const changed = (['tools', 'prompts', 'resources'] as const).filter(
      (k) => !sameSet(this.catalog[k], next[k]),
    );
    this.catalog = next;
    if (changed.length > 0) this.onCatalogChange(changed);
  }
}

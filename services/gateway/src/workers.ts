/**
 * The gateway's view of the workers: membership from the distributed registry (refreshed on
 * bus events and on a timer), kept equal to the router's pool.
 */
import type { ComponentRegistry, WorkerInfo } from '@mcp-cluster/cluster';
import { asWorkerId } from '@mcp-cluster/router';
import type { Router, WorkerId, WorkerView } from '@mcp-cluster/router';

/** What membership tells the dispatch transport: a worker is gone, drop its connections. */
export interface ConnectionsOf {
  forget(id: string): void;
}

/** What the union of every worker's components is, to tell clients when it changes. */
export interface Catalog {
  readonly tools: ReadonlySet<string>;
  readonly prompts: ReadonlySet<string>;
  readonly resources: ReadonlySet<string>;
  /** Tools some worker serves without calling them repeatable. */
  readonly unrepeatable: ReadonlySet<string>;
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
  private catalog: Catalog = {
    tools: new Set(),
    prompts: new Set(),
    resources: new Set(),
    unrepeatable: new Set(),
  };
  private readonly dead = new Map<string, number>();
  private syncing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly registry: ComponentRegistry,
    private readonly router: Router,
    private readonly clients: ConnectionsOf,
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
    this.dead.set(id, this.records.get(id)?.registeredAt ?? 0);
    this.router.removeWorker(id);
    this.clients.forget(id);
    this.updateCatalog();
  }

  /** The registry record of each worker in the pool, as last read. */
  private readonly records = new Map<string, WorkerInfo>();

  /** How many distinct tools, prompts and resources (templates included) the workers serve. */
  catalogSizes(): { tools: number; prompts: number; resources: number } {
    const c = this.catalog;
    return { tools: c.tools.size, prompts: c.prompts.size, resources: c.resources.size };
  }

  /** Whether some worker serves a tool / prompt of this name (metrics name only those). */
  readonly knows = {
    tool: (name: string): boolean => this.catalog.tools.has(name),
    prompt: (name: string): boolean => this.catalog.prompts.has(name),
  };

  /**
   * Whether a call of this tool may be sent again after its worker failed mid-call: every
   * worker serving it publishes it as repeatable (annotated `readOnlyHint` or `idempotentHint`).
   */
  repeatableTool(name: string): boolean {
    return this.catalog.tools.has(name) && !this.catalog.unrepeatable.has(name);
  }

  /** The boot id a worker published (dispatches are addressed to it), if it did. */
  audienceOf(id: WorkerId): string | undefined {
    return this.records.get(id)?.instance;
  }

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
      this.records.set(w.workerId, w);
      this.router.pool.upsert({
        id: asWorkerId(w.workerId),
        url: w.url,
        weight: w.weight,
        owns: w.components,
        maxConcurrency: w.maxConcurrency,
      });
    }
    for (const view of this.router.pool.list()) {
      if (live.has(view.id)) continue;
      this.router.removeWorker(view.id);
      this.clients.forget(view.id);
      this.records.delete(view.id);
    }
    this.updateCatalog();
  }

  private updateCatalog(): void {
    const next = {
      tools: new Set<string>(),
      prompts: new Set<string>(),
      resources: new Set<string>(),
      unrepeatable: new Set<string>(),
    };
    for (const w of this.router.pool.list()) {
      const repeatable = new Set(this.records.get(w.id)?.components.repeatableTools ?? []);
      for (const t of w.owns.tools ?? []) {
        next.tools.add(t);
        // One owner that does not call it repeatable is enough: it may run there.
        if (!repeatable.has(t)) next.unrepeatable.add(t);
      }
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

import type { TemplateMatcher, WorkerId, WorkerSpec, WorkerView } from './types.js';
import { WorkerState } from './worker.js';

/** Which ownership table a method's Mcp-Name is looked up in. */
export type OwnerKind = 'tool' | 'prompt' | 'resource';

const EMPTY: readonly WorkerState[] = Object.freeze([]);
const TEMPLATE_CACHE_MAX = 4096;

/**
 * The set of workers and the name -> owners indexes. Indexes are rebuilt on membership
 * changes (rare) so lookups on the hot path are one Map.get returning a cached array.
 */
export class WorkerPool {
  private readonly byId = new Map<WorkerId, WorkerState>();
  private all: readonly WorkerState[] = EMPTY;
  private tools = new Map<string, WorkerState[]>();
  private prompts = new Map<string, WorkerState[]>();
  private resources = new Map<string, WorkerState[]>();
  private templates: { template: string; owners: WorkerState[] }[] = [];
  /** uri -> template owners; bounded, cleared on reindex, so repeated uris skip the matcher. */
  private readonly templateCache = new Map<string, readonly WorkerState[]>();

  /** Limit of a worker whose spec has none (0: unlimited); see {@link setDefaultMaxConcurrency}. */
  private defaultMaxConcurrency = 0;

  constructor(private readonly matchTemplate?: TemplateMatcher) {}

  /** The concurrency limit of workers that publish none; applied to those already here too. */
  setDefaultMaxConcurrency(n: number): void {
    this.defaultMaxConcurrency = n;
    for (const w of this.byId.values()) w.applyDefaultLimit(n);
  }

  /** Adds a worker or updates url/weight/ownership/limit while keeping its health and counters. */
  upsert(spec: WorkerSpec): WorkerView {
    let w = this.byId.get(spec.id);
    if (w === undefined) {
      w = new WorkerState(spec, this.defaultMaxConcurrency);
      this.byId.set(spec.id, w);
    } else {
      w.update(spec, this.defaultMaxConcurrency);
    }
    this.reindex();
    return w;
  }

  remove(id: WorkerId): boolean {
    const removed = this.byId.delete(id);
    if (removed) this.reindex();
    return removed;
  }

  get(id: WorkerId): WorkerView | undefined {
    return this.byId.get(id);
  }

  /** Internal mutable state; for the router within this package. */
  state(id: WorkerId): WorkerState | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.all.length;
  }

  list(): readonly WorkerView[] {
    return this.all;
  }

  /** @internal */
  workers(): readonly WorkerState[] {
    return this.all;
  }

  /** Owners of a name, or an empty array. Resources try exact uris, then templates. */
  owners(kind: OwnerKind, name: string): readonly WorkerState[] {
    switch (kind) {
      case 'tool':
        return this.tools.get(name) ?? EMPTY;
      case 'prompt':
        return this.prompts.get(name) ?? EMPTY;
      case 'resource':
        return this.resources.get(name) ?? this.templateOwners(name);
    }
  }

  private templateOwners(uri: string): readonly WorkerState[] {
    const match = this.matchTemplate;
    if (match === undefined) return EMPTY;
    const cached = this.templateCache.get(uri);
    if (cached !== undefined) return cached;
    const owners = this.matchTemplates(match, uri);
    if (this.templateCache.size >= TEMPLATE_CACHE_MAX) this.templateCache.clear();
    this.templateCache.set(uri, owners);
    return owners;
  }

  private matchTemplates(match: TemplateMatcher, uri: string): readonly WorkerState[] {
    let found: WorkerState[] | undefined;
    let merged = false;
    for (const t of this.templates) {
      if (!match(t.template, uri)) continue;
      if (found === undefined) {
        found = t.owners;
      } else {
        // Several templates match: merge once, without duplicates (rare path).
        if (!merged) {
          found = [...found];
          merged = true;
        }
        for (const w of t.owners) if (!found.includes(w)) found.push(w);
      }
    }
    return found ?? EMPTY;
  }

  private reindex(): void {
    const tools = new Map<string, WorkerState[]>();
    const prompts = new Map<string, WorkerState[]>();
    const resources = new Map<string, WorkerState[]>();
    const templates = new Map<string, WorkerState[]>();
    for (const w of this.byId.values()) {
      add(tools, w.owns.tools, w);
      add(prompts, w.owns.prompts, w);
      add(resources, w.owns.resources, w);
      add(templates, w.owns.resourceTemplates, w);
    }
    this.all = [...this.byId.values()];
    this.tools = tools;
    this.prompts = prompts;
    this.resources = resources;
    this.templates = [...templates].map(([template, owners]) => ({ template, owners }));
    this.templateCache.clear();
  }
}

function add(
  index: Map<string, WorkerState[]>,
  names: readonly string[] | undefined,
  w: WorkerState,
): void {
  if (names === undefined) return;
  for (const n of names) {
    const list = index.get(n);
    if (list === undefined) index.set(n, [w]);
    else if (!list.includes(w)) list.push(w);
  }
}

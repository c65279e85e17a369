/**
 * The component registry: tools, resources, resource templates, prompts and extension
 * methods from packs, in registration order (lists are deterministic). Names are unique per
 * kind; a duplicate is a load-time error. Runtime add/remove announces list_changed.
 */
import type { Prompt, Resource, ResourceTemplate, Tool } from '@mcp-cluster/protocol';
import type {
  ComponentPack,
  ComponentSpec,
  MethodSpec,
  PromptSpec,
  ResourceSpec,
  ResourceTemplateSpec,
  ToolSpec,
} from './components.js';
import type { ChangeEvent } from './context.js';

/** A local (never serialized) error for bad registrations. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code = 'DUPLICATE_COMPONENT';
}

/** Runtime access to what the engine serves. */
export interface ComponentRegistry {
  add(spec: ComponentSpec): void;
  /** Removes a tool/prompt by name, a resource by uri, a template by uriTemplate. */
  remove(kind: ComponentSpec['kind'], key: string): boolean;
  tool(name: string): ToolSpec | undefined;
  resource(uri: string): ResourceSpec | undefined;
  prompt(name: string): PromptSpec | undefined;
  method(name: string): MethodSpec | undefined;
  templateFor(uriTemplate: string): ResourceTemplateSpec | undefined;
  readonly templates: readonly ResourceTemplateSpec[];
  /** Descriptors as listed (tools carry `execution.taskSupport` when tasks are served). */
  readonly toolDescriptors: readonly Tool[];
  readonly resourceDescriptors: readonly Resource[];
  readonly templateDescriptors: readonly ResourceTemplate[];
  readonly promptDescriptors: readonly Prompt[];
}

interface Kind<S> {
  readonly specs: Map<string, S>;
  /** Listing snapshot, rebuilt on change (lists are read far more often than changed). */
  list: readonly unknown[];
}

export class MemoryRegistry implements ComponentRegistry {
  private readonly toolKind: Kind<ToolSpec> = { specs: new Map(), list: [] };
  private readonly resourceKind: Kind<ResourceSpec> = { specs: new Map(), list: [] };
  private readonly templateKind: Kind<ResourceTemplateSpec> = { specs: new Map(), list: [] };
  private readonly promptKind: Kind<PromptSpec> = { specs: new Map(), list: [] };
  private readonly methods = new Map<string, MethodSpec>();
  private templateList: readonly ResourceTemplateSpec[] = [];
  private loading = true;

  constructor(
    packs: readonly ComponentPack[],
    private readonly listTaskSupport: boolean,
    private readonly emit: (event: ChangeEvent) => void,
  ) {
    for (const pack of packs) {
      for (const spec of pack.components) this.add(spec);
      for (const method of pack.methods ?? []) {
        if (this.methods.has(method.method)) {
          throw new RegistryError(`Duplicate method "${method.method}" in pack "${pack.name}"`);
        }
        this.methods.set(method.method, method);
      }
    }
    this.loading = false;
  }

  add(spec: ComponentSpec): void {
    switch (spec.kind) {
      case 'tool':
        this.put(this.toolKind, spec.descriptor.name, spec, 'tool');
        this.toolKind.list = [...this.toolKind.specs.values()].map((s) => this.listedTool(s));
        this.changed({ type: 'tools/list_changed' });
        return;
      case 'resource':
        this.put(this.resourceKind, spec.descriptor.uri, spec, 'resource');
        this.resourceKind.list = [...this.resourceKind.specs.values()].map((s) => s.descriptor);
        this.changed({ type: 'resources/list_changed' });
        return;
      case 'resourceTemplate':
        this.put(this.templateKind, spec.descriptor.uriTemplate, spec, 'resource template');
        this.rebuildTemplates();
        this.changed({ type: 'resources/list_changed' });
        return;
      case 'prompt':
        this.put(this.promptKind, spec.descriptor.name, spec, 'prompt');
        this.promptKind.list = [...this.promptKind.specs.values()].map((s) => s.descriptor);
        this.changed({ type: 'prompts/list_changed' });
        return;
    }
  }

  remove(kind: ComponentSpec['kind'], key: string): boolean {
    switch (kind) {
      case 'tool':
        if (!this.toolKind.specs.delete(key)) return false;
        this.toolKind.list = [...this.toolKind.specs.values()].map((s) => this.listedTool(s));
        this.changed({ type: 'tools/list_changed' });
        return true;
      case 'resource':
        if (!this.resourceKind.specs.delete(key)) return false;
        this.resourceKind.list = [...this.resourceKind.specs.values()].map((s) => s.descriptor);
        this.changed({ type: 'resources/list_changed' });
        return true;
      case 'resourceTemplate':
        if (!this.templateKind.specs.delete(key)) return false;
        this.rebuildTemplates();
        this.changed({ type: 'resources/list_changed' });
        return true;
      case 'prompt':
        if (!this.promptKind.specs.delete(key)) return false;
        this.promptKind.list = [...this.promptKind.specs.values()].map((s) => s.descriptor);
        this.changed({ type: 'prompts/list_changed' });
        return true;
    }
  }

  tool(name: string): ToolSpec | undefined {
    return this.toolKind.specs.get(name);
  }
  resource(uri: string): ResourceSpec | undefined {
    return this.resourceKind.specs.get(uri);
  }
  prompt(name: string): PromptSpec | undefined {
    return this.promptKind.specs.get(name);
  }
  method(name: string): MethodSpec | undefined {
    return this.methods.get(name);
  }
  templateFor(uriTemplate: string): ResourceTemplateSpec | undefined {
    return this.templateKind.specs.get(uriTemplate);
  }
  get templates(): readonly ResourceTemplateSpec[] {
    return this.templateList;
  }
  get toolDescriptors(): readonly Tool[] {
    return this.toolKind.list as readonly Tool[];
  }
  get resourceDescriptors(): readonly Resource[] {
    return this.resourceKind.list as readonly Resource[];
  }
  get templateDescriptors(): readonly ResourceTemplate[] {
    return this.templateKind.list as readonly ResourceTemplate[];
  }
  get promptDescriptors(): readonly Prompt[] {
    return this.promptKind.list as readonly Prompt[];
  }

  private put<S>(kind: Kind<S>, key: string, spec: S, label: string): void {
    if (kind.specs.has(key)) throw new RegistryError(`Duplicate ${label} "${key}"`);
    kind.specs.set(key, spec);
  }

  private rebuildTemplates(): void {
    this.templateList = [...this.templateKind.specs.values()];
    this.templateKind.list = this.templateList.map((s) => s.descriptor);
  }

  /** The listed descriptor: `execution.taskSupport` only when tasks are served and allowed. */
  private listedTool(spec: ToolSpec): Tool {
    const { execution: _execution, ...rest } = spec.descriptor;
    if (!this.listTaskSupport || spec.taskSupport === 'forbidden') return rest;
    return { ...rest, execution: { taskSupport: spec.taskSupport } };
  }

  private changed(event: ChangeEvent): void {
    if (!this.loading) this.emit(event);
  }
}

/** How many components of each kind an engine serves (banners, status documents). */
export interface ComponentCounts {
  readonly tools: number;
  readonly resources: number;
  readonly resourceTemplates: number;
  readonly prompts: number;
}

export function countComponents(engine: { readonly registry: ComponentRegistry }): ComponentCounts {
  const r = engine.registry;
  return {
    tools: r.toolDescriptors.length,
    resources: r.resourceDescriptors.length,
    resourceTemplates: r.templateDescriptors.length,
    prompts: r.promptDescriptors.length,
  };
}

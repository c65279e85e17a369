/** definePack: groups components into the ComponentPack a module exports. */
import type { JsonObject } from '@mcp-cluster/protocol';
import type {
  ComponentPack,
  ComponentSpec,
  MethodSpec,
  PackHost,
  PackStop,
} from '@mcp-cluster/server';
import { ComponentError } from './errors.js';

export interface PackDefinition {
  readonly name: string;
  /** Server instructions contributed by this pack (joined with other packs' by the engine). */
  readonly instructions?: string;
  /** Extra capability entries to declare (e.g. an extension the pack implements). */
  readonly capabilities?: JsonObject;
  /** Extension methods (e.g. `skills/list`) served by this pack. */
  readonly methods?: readonly MethodSpec[];
  /** Tools, resources, templates and prompts, in listing order. */
  readonly components: readonly ComponentSpec[];
  /**
   * Background work (e.g. a file watcher) started once per engine serving the pack; it may
   * announce changes with `host.emitChange`. What it returns runs when the engine closes.
   */
  readonly start?: (host: PackHost) => PackStop | void;
}

const KINDS = new Set(['tool', 'resource', 'resourceTemplate', 'prompt']);

/** The listing key of a component: names must be unique per kind within a pack. */
export function componentKey(c: ComponentSpec): string {
  switch (c.kind) {
    case 'tool':
      return `tool ${c.descriptor.name}`;
    case 'prompt':
      return `prompt ${c.descriptor.name}`;
    case 'resource':
      return `resource ${c.descriptor.uri}`;
    case 'resourceTemplate':
      return `resource template ${c.descriptor.uriTemplate}`;
  }
}

/** Defines a pack. Throws a ComponentError for a malformed component or a duplicate name. */
export function definePack(def: PackDefinition): ComponentPack {
  if (typeof def.name !== 'string' || def.name.length === 0) {
    throw new ComponentError('INVALID_DEFINITION', 'pack: name is required');
  }
  const what = `pack ${JSON.stringify(def.name)}`;
  // Checked through `unknown`: Array.isArray would narrow the typed array to any[].
  const raw: unknown = def.components;
  if (!Array.isArray(raw)) {
    throw new ComponentError('INVALID_DEFINITION', `${what}: components must be an array`);
  }
  const seen = new Set<string>();
  for (const c of raw as readonly unknown[]) {
    if (!isComponentSpec(c)) {
      throw new ComponentError(
        'INVALID_DEFINITION',
        `${what}: components must be made with defineTool, defineResource, defineResourceTemplate or definePrompt`,
      );
    }
    const key = componentKey(c);
    if (seen.has(key)) throw new ComponentError('INVALID_DEFINITION', `${what}: duplicate ${key}`);
    seen.add(key);
  }
  const methods = new Set<string>();
  for (const m of def.methods ?? []) {
    if (typeof m?.method !== 'string' || typeof m.run !== 'function') {
      throw new ComponentError('INVALID_DEFINITION', `${what}: a method needs a name and run()`);
    }
    if (methods.has(m.method)) {
      throw new ComponentError('INVALID_DEFINITION', `${what}: duplicate method ${m.method}`);
    }
    methods.add(m.method);
  }
  if (def.start !== undefined && typeof def.start !== 'function') {
    throw new ComponentError('INVALID_DEFINITION', `${what}: start must be a function`);
  }
  return Object.freeze({
    name: def.name,
    components: Object.freeze([...def.components]),
    ...(def.instructions !== undefined && { instructions: def.instructions }),
    ...(def.capabilities !== undefined && { capabilities: def.capabilities }),
    ...(def.methods !== undefined && { methods: Object.freeze([...def.methods]) }),
    ...(def.start !== undefined && { start: def.start }),
  });
}

export function isComponentSpec(c: unknown): c is ComponentSpec {
  if (typeof c !== 'object' || c === null) return false;
  const { kind, descriptor } = c as { kind?: unknown; descriptor?: unknown };
  return (
    typeof kind === 'string' &&
    KINDS.has(kind) &&
    typeof descriptor === 'object' &&
    descriptor !== null
  );
}

/** Structural check of a value a pack module exports. */
export function isComponentPack(p: unknown): p is ComponentPack {
  if (typeof p !== 'object' || p === null) return false;
  const { name, components } = p as { name?: unknown; components?: unknown };
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Array.isArray(components) &&
    components.every((c) => isComponentSpec(c))
  );
}

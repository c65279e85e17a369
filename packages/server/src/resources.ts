/** resources/list, resources/templates/list, resources/read, subscribe/unsubscribe (legacy). */
import { ProtocolError, hasDotSegment, hasEncodedSeparator } from '@mcp-cluster/protocol';
import type { JsonObject, Resource } from '@mcp-cluster/protocol';
import type { ResourceTemplateSpec } from './components.js';
import { listPage, plainContext, requireString, sessionOf, withInput } from './core.js';
import type { EngineCore, MethodHandler } from './core.js';
import type { RequestContext } from './context.js';
import type { SignalSource } from './inflight.js';
import { normalizeResourceReturn } from './normalize.js';

export const listResources: MethodHandler = async (core, params, ctx, abort) => {
  return listPage(core, 'resources', await allResources(core, params, ctx, abort), params, ctx);
};

/** Every resource resources/list pages through: the fixed ones, then templates' listings. */
export async function allResources(
  core: EngineCore,
  params: JsonObject,
  ctx: RequestContext,
  abort: SignalSource,
): Promise<readonly Resource[]> {
  const registry = core.registry;
  const listing = registry.templates.filter((t) => t.list !== undefined);
  if (listing.length === 0) return registry.resourceDescriptors;
  const hctx = plainContext(core, params, ctx, abort);
  const extra = await Promise.all(listing.map(async (t) => (await t.list?.(hctx)) ?? []));
  return [...registry.resourceDescriptors, ...extra.flat()];
}

export const listResourceTemplates: MethodHandler = (core, params, ctx) => {
  return listPage(core, 'resourceTemplates', core.registry.templateDescriptors, params, ctx);
};

export const readResource: MethodHandler = (core, params, ctx, abort) => {
  const uri = requireString(params, 'uri', 'resources/read');
  const binding = { method: 'resources/read', target: uri, principal: ctx.principal.id };
  const wrap = (contents: unknown): JsonObject =>
    ctx.era === 'modern'
      ? { contents, resultType: 'complete', ttlMs: core.readTtlMs, cacheScope: 'private' }
      : { contents };
  const fixed = core.registry.resource(uri);
  if (fixed !== undefined) {
    return withInput(core, params, ctx, abort, binding, async (hctx) =>
      wrap(normalizeResourceReturn(await fixed.read(uri, hctx), uri, fixed.descriptor.mimeType)),
    );
  }
  for (const template of core.registry.templates) {
    const vars = template.match(uri);
    if (vars === undefined) continue;
    const problem = templateVariablesProblem(template, vars, hasEncodedSeparator(uri));
    if (problem !== undefined) {
      throw ProtocolError.of('InvalidParams', `Invalid resource uri: ${problem}`, { uri });
    }
    return withInput(core, params, ctx, abort, binding, async (hctx) =>
      wrap(
        normalizeResourceReturn(
          await template.read(uri, vars, hctx),
          uri,
          template.descriptor.mimeType,
        ),
      ),
    );
  }
  // 2026-07-28 replaced the legacy -32002 with -32602; both carry the uri.
  throw ctx.era === 'modern'
    ? ProtocolError.of('InvalidParams', `Resource not found: ${uri}`, { uri })
    : ProtocolError.of('ResourceNotFound', `Resource not found: ${uri}`, { uri });
};

export const subscribe: MethodHandler = async (core, params, ctx, abort) => {
  const uri = requireString(params, 'uri', 'resources/subscribe');
  // A uri a template would refuse to read is refused here too, with the read's error: a
  // subscription must not stand for a path the resource's owner never serves.
  const template = core.registry.resource(uri) === undefined ? matching(core, uri) : undefined;
  if (template !== undefined) {
    const problem = templateVariablesProblem(
      template.spec,
      template.vars,
      hasEncodedSeparator(uri),
    );
    if (problem !== undefined) {
      throw ProtocolError.of('InvalidParams', `Invalid resource uri: ${problem}`, { uri });
    }
    await template.spec.subscribe?.(uri, template.vars, plainContext(core, params, ctx, abort));
  }
  sessionOf(core, ctx)?.state.subscriptions.add(uri);
  return {};
};

/** The first template matching `uri` (as resources/read picks it), with its variables. */
function matching(
  core: EngineCore,
  uri: string,
): { spec: ResourceTemplateSpec; vars: Readonly<Record<string, string | string[]>> } | undefined {
  for (const spec of core.registry.templates) {
    const vars = spec.match(uri);
    if (vars !== undefined) return { spec, vars };
  }
  return undefined;
}

export const unsubscribe: MethodHandler = (core, params, ctx) => {
  const uri = requireString(params, 'uri', 'resources/unsubscribe');
  sessionOf(core, ctx)?.state.subscriptions.delete(uri);
  return {};
};

/**
 * Why a template's variables must not reach its handler, or undefined. The uri is canonical
 * (engine.handleRequest made it so), but a template decodes its variables: a decoded `.` or
 * `..` segment (from a query, or from `%2F` the template decoded) or a separator that was
 * encoded would let a file-style handler resolve a path other than the one authorized.
 * Encoded separators pass only where the template allows them; dot segments never do.
 */
export function templateVariablesProblem(
  template: Pick<ResourceTemplateSpec, 'encodedSeparators'>,
  variables: Readonly<Record<string, unknown>>,
  encodedSeparators: boolean,
): string | undefined {
  if (encodedSeparators && template.encodedSeparators !== true) {
    return 'encoded "/" or "\\" in a template variable';
  }
  for (const [name, value] of Object.entries(variables)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && hasDotSegment(v)))
      return `dot segment in template variable "${name}"`;
  }
  return undefined;
}

/**
 * The caller's view of the registries: an authorization layer in front of the engine (the
 * security guard) hands the engine the same filter it applies to `tools/list`,
 * `prompts/list`, `resources/list` and `resources/templates/list`, so that what the engine
 * derives from those lists inside a request (completion values) hides the same items. The
 * filter travels beside the request context, not in it: contexts are built lazily by the
 * transports and must not be copied (see request-context.ts).
 */
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from './context.js';

/** A list method's result narrowed to what the caller may use (an authorizer's filterList). */
export type ListFilter = (method: string, result: JsonObject) => JsonObject;

const filters = new WeakMap<RequestContext, ListFilter>();

/** Installs the filter for the request `ctx` describes; set before the engine handles it. */
export function setListFilter(ctx: RequestContext, filter: ListFilter): void {
  filters.set(ctx, filter);
}

/** The filter installed for `ctx`, or undefined: then the caller sees every item. */
export function listFilterOf(ctx: RequestContext): ListFilter | undefined {
  return filters.get(ctx);
}

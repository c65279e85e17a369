/**
 * The caller's view of the registries inside a request: the authorizer's list filter, for
 * the request's principal, handed to the engine (see list-filter.ts in @mcp-cluster/server),
 * so that what the engine derives from its lists (completion values) hides what `tools/list`
 * and the other lists hide from that caller.
 *
 * The engine guard installs it where it wraps the engine (the embedded node). In a cluster the
 * guard runs at the gateway but the engine at a worker: the worker builds the same authorizer
 * from the same `auth.authz` section and installs it for the principal the dispatch envelope
 * carries. One filter, one permission check, wherever the engine runs.
 */
import type { RequestContext } from '@mcp-cluster/server';
import { setListFilter } from '@mcp-cluster/server';
import type { AuthConfig } from '../config.js';
import { createAuthorizer } from '../authz/authorizer.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { GuardAuthorizer } from './engine.js';

/** What installing a list filter needs of an authorizer. */
export type ListAuthorizer = Pick<GuardAuthorizer, 'filterList'>;

/** Installs `authorizer`'s list filter for `ctx.principal`; call before the engine runs. */
export function installListFilter(ctx: RequestContext, authorizer: ListAuthorizer): void {
  setListFilter(ctx, (method, result) => authorizer.filterList(ctx.principal, method, result));
}

/**
 * The authorizer of an `auth` section's `authz` part, as a node without the engine guard in
 * front of its engine (a cluster worker) needs it for list filters; undefined without an
 * `authz` part, or with `authz.disabled`: then every caller sees every item, as the guard
 * does. Throws AuthzError('config') on invalid roles or policies, as createSecurity does.
 */
export function listAuthorizer(
  auth: AuthConfig | undefined,
  onError?: (err: unknown, what: string) => void,
): Authorizer | undefined {
  if (auth?.authz === undefined) return undefined;
  const authorizer = createAuthorizer({
    ...auth.authz,
    onError: (err) => onError?.(err, 'authorization policy failed'),
  });
  return authorizer.enabled ? authorizer : undefined;
}

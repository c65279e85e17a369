/**
 * The caller's view of the registries on a worker. The gateway's guard checks each request's
 * permissions and filters the list results it returns, but completion values are derived
 * here, from this worker's lists (`ctx.list` in a completer): they must hide the same items.
 * Every dispatched request gets the list filter of the configured authorizer for the
 * principal its envelope carries (signed by the gateway, so not taken on trust) before the
 * engine handles it — the guard's own code path (installListFilter), not a second check.
 */
import { installListFilter } from '@mcp-cluster/security';
import type { ListAuthorizer } from '@mcp-cluster/security';
import type { MessageEngine } from '@mcp-cluster/server';

/** `engine` with `authorizer`'s list filter installed on every request's context. */
export function filterListsFor(engine: MessageEngine, authorizer: ListAuthorizer): MessageEngine {
  return {
    sessions: engine.sessions,
    handleRequest(request, ctx) {
      installListFilter(ctx, authorizer);
      return engine.handleRequest(request, ctx);
    },
    handleNotification: (notification, ctx) => engine.handleNotification(notification, ctx),
    toolDescriptor: (name) => engine.toolDescriptor(name),
  };
}

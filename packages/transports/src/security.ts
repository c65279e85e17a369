/**
 * DNS-rebinding protection for every HTTP route (and the WebSocket upgrade): the `Host`
 * must name an allowed host and an `Origin`, when present, an allowed origin. Hostnames are
 * compared without the port. Rejections are 403 with a JSON-RPC error body.
 */
import { RpcError } from '@mcp-cluster/protocol';
import type { JsonRpcFailure } from '@mcp-cluster/protocol';

export interface HostPolicy {
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
}

/** The lower-case hostname of a Host header value (`[::1]:3000` -> `[::1]`). */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** The lower-case hostname of an Origin (`http://localhost:3000` -> `localhost`), or undefined. */
export function originHostnameOf(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.hostname === '' ? undefined : url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Returns why a request is refused, or undefined when its Host and Origin are allowed. */
export function checkHostAndOrigin(
  policy: HostPolicy,
  host: string | undefined,
  origin: string | undefined,
): string | undefined {
  const anyHost = policy.allowedHosts.includes('*');
  if (!anyHost && (host === undefined || !policy.allowedHosts.includes(hostnameOf(host)))) {
    return 'Host not allowed';
  }
  if (origin !== undefined && !policy.allowedOrigins.includes('*')) {
    const name = originHostnameOf(origin);
    if (name === undefined || !policy.allowedOrigins.includes(name)) return 'Origin not allowed';
  }
  return undefined;
}

export const FORBIDDEN_STATUS = 403;

export function forbiddenBody(reason: string): JsonRpcFailure {
  return {
    jsonrpc: '2.0',
    id: null,
    error: { code: RpcError.Forbidden.code, message: `Forbidden: ${reason}` },
  };
}

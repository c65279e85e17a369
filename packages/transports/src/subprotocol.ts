/**
 * WebSocket subprotocols: what the server selects, and the credential a browser, which
 * cannot set headers on a WebSocket, sends in their place.
 */
/**
 * The subprotocol a WebSocket client offers; the server selects it. Browsers cannot set an
 * Authorization header on a WebSocket, so they offer the credential as a second
 * subprotocol, `mcp.bearer.<base64url of the bearer token>` (the Kubernetes API server's
 * scheme): `new WebSocket(url, ['mcp', 'mcp.bearer.' + b64url(token)])`. The server never
 * selects (echoes) that one.
 */
export const WEBSOCKET_SUBPROTOCOL = 'mcp';
export const WEBSOCKET_BEARER_PREFIX = 'mcp.bearer.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The Authorization a WebSocket upgrade carries in its subprotocols (`Bearer <token>`), or
 * undefined. Only an upgrade without an Authorization header is read this way.
 */
export function subprotocolAuthorization(
  headers: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const offered = headers['sec-websocket-protocol'];
  if (offered === undefined || headers['authorization'] !== undefined) return undefined;
  for (const raw of offered.split(',')) {
    const protocol = raw.trim();
    if (!protocol.startsWith(WEBSOCKET_BEARER_PREFIX)) continue;
    const encoded = protocol.slice(WEBSOCKET_BEARER_PREFIX.length);
    if (!BASE64URL.test(encoded)) return undefined;
    const token = Buffer.from(encoded, 'base64url').toString('utf8');
    // Header-safe visible ASCII only: anything else is no credential of ours.
    return /^[\x21-\x7e]+$/.test(token) ? `Bearer ${token}` : undefined;
  }
  return undefined;
}

/**
 * ws's handleProtocols: `mcp` when offered, else the first other offer (ws's own default,
 * kept for clients that name their own protocol), never a credential-carrying entry.
 */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  if (offered.has(WEBSOCKET_SUBPROTOCOL)) return WEBSOCKET_SUBPROTOCOL;
  for (const protocol of offered) {
    if (!protocol.startsWith(WEBSOCKET_BEARER_PREFIX)) return protocol;
  }
  return false;
}

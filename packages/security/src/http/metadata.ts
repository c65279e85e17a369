/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint, as the MCP
 * authorization spec asks of a resource server: served at
 * `/.well-known/oauth-protected-resource` and at the path-suffixed form
 * `/.well-known/oauth-protected-resource<endpoint path>` (RFC 9728 §3.1).
 */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

export interface ResourceMetadataOptions {
  /** The resource identifier, e.g. https://mcp.example.com/mcp. */
  readonly resource: string;
  readonly authorizationServers: readonly string[];
  readonly scopesSupported?: readonly string[] | undefined;
}

/** RFC 9728 §2 document. Bearer tokens travel only in the Authorization header. */
export function resourceMetadata(options: ResourceMetadataOptions): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    resource: options.resource,
    bearer_methods_supported: ['header'],
  };
  if (options.authorizationServers.length > 0) {
    doc['authorization_servers'] = [...options.authorizationServers];
  }
  if (options.scopesSupported !== undefined && options.scopesSupported.length > 0) {
    doc['scopes_supported'] = [...options.scopesSupported];
  }
  return doc;
}

/**
 * Where a resource's metadata lives (RFC 9728 §3.1): the well-known path inserted between
 * the host and the resource's path (`https://h/mcp` -> `https://h/.well-known/oauth-protected-resource/mcp`).
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${METADATA_PATH}${path}`;
}

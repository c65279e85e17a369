/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint, as the MCP
 * authorization spec asks of a resource server: served at
 * `/.well-known/oauth-protected-resource` and at the path-suffixed form
 * `/.well-known/oauth-protected-resource<endpoint path>` (RFC 9728 §3.1).
 */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';
/** RFC 8414 §3: where a client finds an authorization server's metadata. */
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

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

export interface AuthorizationServerMetadataOptions {
  /** The token service's `iss`: what a client found in the resource metadata. */
  readonly issuer: string;
  /** Absolute URLs of the token and revocation endpoints. */
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  readonly grantTypes: readonly string[];
}

/**
 * RFC 8414 §2 document of the built-in token service, so a client that read the resource
 * metadata can discover the token endpoint. There is no authorization endpoint (no
 * interactive flow): `response_types_supported` is empty and only the token grants are
 * listed. Clients authenticate with HTTP Basic or form fields (RFC 6749 §2.3.1).
 */
export function authorizationServerMetadata(
  options: AuthorizationServerMetadataOptions,
): Record<string, unknown> {
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: options.issuer,
    token_endpoint: options.tokenEndpoint,
    revocation_endpoint: options.revocationEndpoint,
    grant_types_supported: [...options.grantTypes],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
  };
}

/** The issuer when it is an http(s) URL (what RFC 8414 discovery needs), else undefined. */
export function issuerUrl(issuer: string): URL | undefined {
  try {
    const url = new URL(issuer);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

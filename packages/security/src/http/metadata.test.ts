import { describe, expect, it } from 'vitest';
import { METADATA_PATH, resourceMetadata, resourceMetadataUrl } from './metadata.js';

describe('resourceMetadata', () => {
  it('describes the resource, its authorization servers and scopes (RFC 9728 §2)', () => {
    const servers = ['https://as.example'];
    const scopes = ['tools:read', 'tools:call'];
    const doc = resourceMetadata({
      resource: 'https://mcp.example/mcp',
      authorizationServers: servers,
      scopesSupported: scopes,
    });
    expect(doc).toEqual({
      resource: 'https://mcp.example/mcp',
      bearer_methods_supported: ['header'],
      authorization_servers: ['https://as.example'],
      scopes_supported: ['tools:read', 'tools:call'],
    });
    // Copies: the document cannot be changed through the options, nor they through it.
    expect(doc['authorization_servers']).not.toBe(servers);
    expect(doc['scopes_supported']).not.toBe(scopes);
  });

  it('omits empty authorization servers and scopes', () => {
    for (const scopesSupported of [undefined, []]) {
      expect(
        resourceMetadata({ resource: 'https://h/mcp', authorizationServers: [], scopesSupported }),
      ).toEqual({ resource: 'https://h/mcp', bearer_methods_supported: ['header'] });
    }
  });
});

describe('resourceMetadataUrl', () => {
  it.each([
    ['https://h/mcp', 'https://h/.well-known/oauth-protected-resource/mcp'],
    ['https://h/', 'https://h/.well-known/oauth-protected-resource'],
    ['https://h', 'https://h/.well-known/oauth-protected-resource'],
    ['https://h:8443/a/b', 'https://h:8443/.well-known/oauth-protected-resource/a/b'],
    ['https://h:443/mcp', 'https://h/.well-known/oauth-protected-resource/mcp'],
  ])('%s -> %s', (resource, url) => {
    expect(resourceMetadataUrl(resource)).toBe(url);
    expect(url.includes(METADATA_PATH)).toBe(true);
  });

  it('throws on a resource that is not an absolute URL', () => {
    expect(() => resourceMetadataUrl('/mcp')).toThrow(TypeError);
  });
});

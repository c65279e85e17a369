/**
 * The token service from its JSON-friendly configuration (a section of the node's config
 * file). HMAC secrets are inline; asymmetric private keys are inline PEM or a path, read at
 * startup by tokenServiceOptions, so the secret need not sit in the file.
 */
import { readFile } from 'node:fs/promises';

import type { TokenServiceConfig } from '@mcp-cluster/config';

import { AuthnError } from '../authn/errors.js';
import type { Principal } from '../principal.js';
import type { TokenCredential, TokenServiceOptions } from './service.js';
import type { TokenSigningKey } from './signing.js';
import type { TokenStore } from './store.js';

/** The schema is the configuration's (it validates `auth.tokenService` at load time). */
export type { TokenServiceConfig, TokenServiceConfigInput } from '@mcp-cluster/config';
export { TokenServiceConfigSchema } from '@mcp-cluster/config';

/** Reads a configured key (the PEM file, when given as a path) into a TokenSigningKey. */
export async function signingKeyFromConfig(
  key: TokenServiceConfig['signingKey'],
): Promise<TokenSigningKey> {
  if ('secret' in key) return key;
  if (key.privateKeyPem !== undefined) {
    return { alg: key.alg, privateKeyPem: key.privateKeyPem, kid: key.kid };
  }
  try {
    const privateKeyPem = await readFile(key.privateKeyPath ?? '', 'utf8');
    return { alg: key.alg, privateKeyPem, kid: key.kid };
  } catch (cause) {
    // The path is configuration, not a secret; the file's content never appears.
    throw new AuthnError('config', `tokenService: cannot read privateKeyPath`, { cause });
  }
}

export interface TokenServiceDependencies {
  readonly store: TokenStore;
  readonly authenticate: (credential: TokenCredential) => Promise<Principal | undefined>;
  readonly now?: () => number;
  readonly onRevoked?: ((ids: readonly string[]) => void) | undefined;
}

/** Options for createTokenService from a parsed configuration and the runtime pieces. */
export async function tokenServiceOptions(
  config: TokenServiceConfig,
  deps: TokenServiceDependencies,
): Promise<TokenServiceOptions> {
  return {
    issuer: config.issuer,
    audience: config.audience,
    signingKey: await signingKeyFromConfig(config.signingKey),
    previousKeys: await Promise.all(config.previousKeys.map(signingKeyFromConfig)),
    accessTtlSec: config.accessTtlSec,
    refreshTtlSec: config.refreshTtlSec,
    ...(config.grantTtlSec === undefined ? {} : { grantTtlSec: config.grantTtlSec }),
    clockToleranceSec: config.clockToleranceSec,
    grantTypes: config.grantTypes,
    ...deps,
  };
}

/**
 * JSON-friendly configuration of the token service (e.g. a section of the gateway's config
 * file), validated with zod. HMAC secrets are inline; asymmetric private keys are inline PEM
 * or a path (read at startup by tokenServiceOptions, so the secret need not sit in the file).
 */
import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { AuthnError } from '../authn/errors.js';
import type { Principal } from '../principal.js';
import {
  DEFAULT_ACCESS_TTL_SEC,
  DEFAULT_GRANT_TYPES,
  DEFAULT_REFRESH_TTL_SEC,
  DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC,
  MAX_ACCESS_TTL_SEC,
  MAX_REFRESH_TTL_SEC,
  MAX_TOKEN_CLOCK_TOLERANCE_SEC,
  type TokenCredential,
  type TokenServiceOptions,
} from './service.js';
import { MIN_HMAC_SECRET_LENGTH, type TokenSigningKey } from './signing.js';
import type { TokenStore } from './store.js';

const kid = z.string().min(1);

const HmacKeySchema = z.strictObject({
  alg: z.enum(['HS256', 'HS512']),
  secret: z.string().min(MIN_HMAC_SECRET_LENGTH),
  kid,
});

const AsymmetricKeySchema = z
  .strictObject({
    alg: z.enum(['ES256', 'RS256', 'EdDSA']),
    /** Inline PEM (PKCS#8). */
    privateKeyPem: z.string().min(1).optional(),
    /** Path of a PEM file, read at startup. */
    privateKeyPath: z.string().min(1).optional(),
    kid,
  })
  .refine((k) => (k.privateKeyPem === undefined) !== (k.privateKeyPath === undefined), {
    message: 'give exactly one of privateKeyPem and privateKeyPath',
  });

export const TokenServiceConfigSchema = z.strictObject({
  issuer: z.string().min(1),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  signingKey: z.discriminatedUnion('alg', [HmacKeySchema, AsymmetricKeySchema]),
  /** Keys tokens were signed with before signingKey; they verify, they never sign. */
  previousKeys: z
    .array(z.discriminatedUnion('alg', [HmacKeySchema, AsymmetricKeySchema]))
    .default([]),
  accessTtlSec: z.number().int().min(1).max(MAX_ACCESS_TTL_SEC).default(DEFAULT_ACCESS_TTL_SEC),
  refreshTtlSec: z.number().int().min(1).max(MAX_REFRESH_TTL_SEC).default(DEFAULT_REFRESH_TTL_SEC),
  /** Absolute lifetime of a grant (token family); default: 30 days or refreshTtlSec if longer. */
  grantTtlSec: z.number().int().min(1).max(MAX_REFRESH_TTL_SEC).optional(),
  clockToleranceSec: z
    .number()
    .int()
    .min(0)
    .max(MAX_TOKEN_CLOCK_TOLERANCE_SEC)
    .default(DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC),
  grantTypes: z
    .array(z.enum(['client_credentials', 'password', 'refresh_token']))
    .min(1)
    .default([...DEFAULT_GRANT_TYPES]),
});

/** The configuration after parsing (defaults filled in). */
export type TokenServiceConfig = z.output<typeof TokenServiceConfigSchema>;
/** The configuration as written (defaults optional). */
export type TokenServiceConfigInput = z.input<typeof TokenServiceConfigSchema>;

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

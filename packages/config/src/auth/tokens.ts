/**
 * JSON-friendly configuration of the token service (a section of the node's config file).
 * HMAC secrets are inline; asymmetric private keys are inline PEM or a path (read at startup
 * by @mcp-cluster/security, so the secret need not sit in the file).
 */
import { z } from 'zod';

export type GrantType = 'client_credentials' | 'password' | 'refresh_token';

export const DEFAULT_ACCESS_TTL_SEC = 300;
export const DEFAULT_REFRESH_TTL_SEC = 86_400;
export const DEFAULT_TOKEN_CLOCK_TOLERANCE_SEC = 5;
export const MAX_ACCESS_TTL_SEC = 86_400;
export const MAX_REFRESH_TTL_SEC = 365 * 86_400;
export const MAX_TOKEN_CLOCK_TOLERANCE_SEC = 300;
export const DEFAULT_GRANT_TYPES: readonly GrantType[] = Object.freeze([
  'client_credentials',
  'refresh_token',
]);

/** Shortest HMAC secret accepted (characters); shorter ones can be brute-forced offline. */
export const MIN_HMAC_SECRET_LENGTH = 32;

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

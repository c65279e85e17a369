/**
 * JSON-friendly configuration of request signing: secrets are strings here (UTF-8), Buffers
 * only through @mcp-cluster/security's API. Validates what its createRequestVerifier would
 * refuse, so a bad file fails at load time with every problem listed.
 */
import { z } from 'zod';

export const SIGNING_ALGORITHMS = ['HMAC-SHA256', 'HMAC-SHA512'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/**
 * Shortest secret: 32 characters (string, as UTF-8) or 32 bytes (Buffer), i.e. at least the
 * SHA-256 block's worth of guessing for random secrets, and never a short password.
 */
export const MIN_SECRET_LENGTH = 32;

/**
 * Key ids: 1-128 visible ASCII characters. No whitespace, so an id can never carry the
 * newline that separates the fields of the canonical form.
 */
export const KEY_ID_PATTERN = /^[\x21-\x7E]{1,128}$/;

/**
 * Accepted clock difference between client and gateway, both ways (5 min). A signed request
 * is accepted while |now - ts| < toleranceMs.
 */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 300_000;

/** Bounds of `toleranceMs`: at least a second of skew, at most an hour of replay window. */
export const MIN_SIGNATURE_TOLERANCE_MS = 1_000;
export const MAX_SIGNATURE_TOLERANCE_MS = 3_600_000;

const SigningKeySchema = z.strictObject({
  id: z.string().regex(KEY_ID_PATTERN, 'key id: 1-128 visible ASCII characters'),
  secret: z
    .string()
    .min(MIN_SECRET_LENGTH, `signing secrets must be at least ${MIN_SECRET_LENGTH} characters`),
  alg: z.enum(SIGNING_ALGORITHMS).optional(),
});

const SigningClientSchema = z.strictObject({
  principal: z.string().min(1),
  keys: z.array(SigningKeySchema).min(1),
});

export const SigningConfigSchema = z
  .strictObject({
    clients: z.array(SigningClientSchema).default([]),
    toleranceMs: z
      .number()
      .int()
      .min(MIN_SIGNATURE_TOLERANCE_MS)
      .max(MAX_SIGNATURE_TOLERANCE_MS)
      .default(DEFAULT_SIGNATURE_TOLERANCE_MS),
  })
  .superRefine((config, ctx) => {
    const principals = new Set<string>();
    const keyIds = new Set<string>();
    config.clients.forEach((client, c) => {
      if (principals.has(client.principal)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clients', c, 'principal'],
          message: 'principal listed twice',
        });
      }
      principals.add(client.principal);
      client.keys.forEach((key, k) => {
        if (keyIds.has(key.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['clients', c, 'keys', k, 'id'],
            message: 'key id used twice (ids are unique across clients)',
          });
        }
        keyIds.add(key.id);
      });
    });
  });

export type SigningConfigInput = z.input<typeof SigningConfigSchema>;
/** Spreads into createRequestVerifier: `createRequestVerifier({ ...config, nonces })`. */
export type SigningConfig = z.output<typeof SigningConfigSchema>;

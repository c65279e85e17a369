/**
 * JSON-friendly configuration of request signing, for the config package: secrets are
 * strings here (UTF-8), Buffers only through the API. Validates what createRequestVerifier
 * would refuse, so a bad file fails at load time with every problem listed.
 */
import { z } from 'zod';

import { KEY_ID_PATTERN, MIN_SECRET_LENGTH, SIGNING_ALGORITHMS } from './keys.js';
import { DEFAULT_SIGNATURE_TOLERANCE_MS } from './verify.js';

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

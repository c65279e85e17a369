/**
 * The `auth` section of a node's configuration (JSON-friendly) and its defaults, embedded in
 * ConfigSchema. @mcp-cluster/security builds providers, stores and guards from its output.
 */
import { z } from 'zod';
import { AuthzConfigSchema } from './authz.js';
import { MTLS_CN_SEGMENT, principalReferenceProblem } from './principal-ids.js';
import { SigningConfigSchema } from './signing.js';
import { TokenServiceConfigSchema } from './tokens.js';

/** Re-check period of long-lived connections' credentials (guard/revalidation.ts). */
export const DEFAULT_REVALIDATE_STREAMS_MS = 1_000;
export const MIN_REVALIDATE_STREAMS_MS = 100;
export const MAX_REVALIDATE_STREAMS_MS = 60_000;

/** Long-lived streams (GET SSE, WebSocket, /sse, listen) one principal may hold per process. */
export const DEFAULT_MAX_STREAMS_PER_PRINCIPAL = 32;

const roles = z.array(z.string().min(1).max(128)).max(64);

/** `id` is the name within the provider: static token `ops` is principal `static:ops`. */
const principalSpec = z.strictObject({
  id: z.string().min(1).max(256),
  kind: z.enum(['user', 'service']).default('service'),
  roles: roles.default([]),
});

const bucket = z.strictObject({
  /** The largest burst. */
  capacity: z.number().positive(),
  /** Tokens added per second, continuously. */
  refillPerSecond: z.number().positive(),
});

const jwtKey = z.union([
  z.strictObject({ type: z.literal('jwk'), jwk: z.record(z.string(), z.unknown()) }),
  z.strictObject({
    type: z.literal('spki'),
    pem: z.string().min(1),
    alg: z.string().min(1),
    kid: z.string().optional(),
  }),
]);

const JwtConfigSchema = z
  .strictObject({
    /** Principals are `jwt:<issuer>#<sub>`, so an issuer has no `#` (nor does a real one). */
    issuer: z
      .string()
      .min(1)
      .refine((s) => !s.includes('#'), 'an issuer identifier has no "#"'),
    /** This server's resource identifier (RFC 8707); defaults to `auth.resource`. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    jwksUrl: z.string().url().optional(),
    keys: z.array(jwtKey).min(1).optional(),
    algorithms: z.array(z.string().min(1)).min(1),
    clockToleranceSec: z.number().int().min(0).max(300).optional(),
    rolesClaim: z.string().min(1).optional(),
    scopeClaim: z.string().min(1).optional(),
    /** Scopes advertised in the 401 challenge. */
    challengeScopes: z.array(z.string().min(1)).optional(),
  })
  .refine((j) => (j.jwksUrl === undefined) !== (j.keys === undefined), {
    message: 'jwt: give exactly one of jwksUrl and keys',
  });

export const AuthConfigSchema = z
  .strictObject({
    /**
     * Requests without credentials pass as the `anonymous` principal. Unset: true for `serve`
     * and `stdio` (a laptop), false for `gateway` (a cluster refuses them unless opened).
     */
    allowAnonymous: z.boolean().optional(),
    /** This server's resource identifier (RFC 9728 `resource`), e.g. https://mcp.example.com/mcp. */
    resource: z.string().url().optional(),
    /** Authorization servers advertised in the RFC 9728 metadata. */
    authorizationServers: z.array(z.string().url()).default([]),
    jwt: JwtConfigSchema.optional(),
    staticTokens: z
      .array(z.strictObject({ token: z.string().min(16), principal: principalSpec }))
      .min(1)
      .optional(),
    basic: z
      .strictObject({
        realm: z.string().min(1).optional(),
        users: z
          .array(
            z.strictObject({
              username: z.string().min(1),
              hash: z.string().min(1),
              roles: roles.default([]),
            }),
          )
          .min(1),
      })
      .optional(),
    /** API keys (`mcp-cluster apikey ...`): in Redis in a cluster, else in `file`. */
    apiKeys: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Embedded node: the JSON file the CLI writes (default `.mcp-cluster/api-keys.json`). */
        file: z.string().min(1).optional(),
      })
      .optional(),
    tokenService: TokenServiceConfigSchema.optional(),
    /** Client certificates (needs `tls` with a `caFile`): subject -> principal. */
    mtls: z
      .strictObject({
        subjects: z
          .array(
            z.strictObject({
              match: z.union([
                z.strictObject({
                  CN: z.string().optional(),
                  O: z.string().optional(),
                  OU: z.string().optional(),
                }),
                z.strictObject({ fingerprint256: z.string().min(1) }),
                z.strictObject({ san: z.string().min(1) }),
              ]),
              principal: principalSpec,
            }),
          )
          .default([]),
        /** Any trusted certificate with a CN becomes principal `mtls:cn:<CN>` with these roles. */
        fromCommonName: z
          .strictObject({
            kind: z.enum(['user', 'service']).default('service'),
            roles: roles.default([]),
          })
          .optional(),
      })
      .optional(),
    authz: AuthzConfigSchema.optional(),
    signing: SigningConfigSchema.optional(),
    rateLimit: z
      .strictObject({
        /**
         * One bucket per principal: every JSON-RPC message (a batch's entries, WebSocket frames,
         * `/messages` posts) and every request without one (GET streams, DELETE, the WebSocket
         * upgrade, `/sse`) takes one token. Over it: 429 + Retry-After, or -32012 per message.
         */
        perPrincipal: bucket.optional(),
        /**
         * Principals (by namespaced id, e.g. `static:ci`) whose bucket has limits of its own
         * instead of `perPrincipal`'s.
         */
        principals: z.record(z.string().min(1).max(256), bucket).optional(),
        /** `tools/call` per principal and tool (a JSON-RPC -32012 error; 429 on the modern wire). */
        perTool: bucket.optional(),
      })
      .default({}),
    /**
     * Failed-credential lockout per client address and user name (on when providers exist).
     * Defaults: 5 failures in 15 min lock for 15 min; a password check is reserved before it
     * runs, at most 4 in flight per identifier, a reservation never finished lapses after 30 s.
     */
    lockout: z
      .strictObject({
        enabled: z.boolean().default(true),
        maxFailures: z.number().int().positive().optional(),
        windowMs: z.number().int().positive().optional(),
        lockMs: z.number().int().positive().optional(),
        /** Password checks in flight at once per address and per user name. */
        maxConcurrent: z.number().int().positive().optional(),
        /** Life of a check's reservation whose process died before it finished. */
        reservationMs: z.number().int().positive().optional(),
      })
      .optional(),
    maxStreamsPerPrincipal: z.number().int().min(1).default(DEFAULT_MAX_STREAMS_PER_PRINCIPAL),
    /**
     * Long-lived connections (WebSocket, SSE streams) re-check a revocable credential (token
     * service, API key) this often, and a message on one uses a verdict at most this old;
     * revocation events close them at once, expiries at the credential's own time.
     */
    revalidateStreamsMs: z
      .number()
      .int()
      .min(MIN_REVALIDATE_STREAMS_MS)
      .max(MAX_REVALIDATE_STREAMS_MS)
      .default(DEFAULT_REVALIDATE_STREAMS_MS),
    /**
     * One JSON line per refused request: on stderr (`true`), appended to a file (`{ file }`,
     * which several processes may share), or nowhere (`false`).
     */
    audit: z.union([z.boolean(), z.strictObject({ file: z.string().trim().min(1) })]).default(true),
  })
  .superRefine((auth, ctx) => {
    // Every place that names a principal names it by its namespaced id (principal-ids.ts); a
    // bare name from before namespacing is refused with the spellings it may mean.
    const issuer = auth.jwt?.issuer;
    const check = (ref: string, path: (string | number)[]): void => {
      const message = principalReferenceProblem(ref, issuer);
      if (message !== undefined) ctx.addIssue({ code: 'custom', path, message });
    };
    auth.authz?.policies?.forEach((policy, i) =>
      policy.principals?.forEach((ref, j) => check(ref, ['authz', 'policies', i, 'principals', j])),
    );
    auth.signing?.clients.forEach((client, i) =>
      check(client.principal, ['signing', 'clients', i, 'principal']),
    );
    for (const ref of Object.keys(auth.rateLimit.principals ?? {})) {
      check(ref, ['rateLimit', 'principals', ref]);
    }
    auth.mtls?.subjects.forEach((subject, i) => {
      if (subject.principal.id.startsWith(MTLS_CN_SEGMENT)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mtls', 'subjects', i, 'principal', 'id'],
          message: `must not start with "${MTLS_CN_SEGMENT}" (mtls:cn:<CN> names fromCommonName principals)`,
        });
      }
    });
  });

export type AuthConfig = z.output<typeof AuthConfigSchema>;
export type AuthConfigInput = z.input<typeof AuthConfigSchema>;

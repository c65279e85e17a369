/**
 * The `sampling` section: model providers that answer `ctx.sample` on the server's side
 * (@mcp-cluster/sampling). Keys are never inline: each provider names an environment
 * variable or a file holding its key, read once at startup.
 */
import { z } from 'zod';

export const SAMPLING_MODES = ['client-first', 'server'] as const;
export type SamplingMode = (typeof SAMPLING_MODES)[number];
export const SAMPLING_PROVIDER_TYPES = ['openai', 'anthropic'] as const;
export type SamplingProviderType = (typeof SAMPLING_PROVIDER_TYPES)[number];

/** Clients that declare `sampling` answer it; the providers answer the others. */
export const DEFAULT_SAMPLING_MODE: SamplingMode = 'client-first';
/** Longest a provider may take to answer one request. */
export const DEFAULT_SAMPLING_TIMEOUT_MS = 60_000;
/** Window of the per-principal token and cost limits (fixed windows, aligned to the epoch). */
export const DEFAULT_SAMPLING_LIMIT_WINDOW_MS = 3_600_000;
/** Where each provider type is reached when `baseUrl` is absent. */
export const DEFAULT_SAMPLING_BASE_URLS: Readonly<Record<SamplingProviderType, string>> =
  Object.freeze({
    openai: 'https://api.openai.com/v1',
    anthropic: 'https://api.anthropic.com',
  });

const name = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, '1-128 of letters, digits, _ . : / -');
/** A relative rank in [0, 1]; absent counts as 0.5. */
const rank = z.number().min(0).max(1).optional();
const price = z.number().min(0).default(0);

const ProviderSchema = z
  .strictObject({
    name,
    type: z.enum(SAMPLING_PROVIDER_TYPES),
    /** openai: `{baseUrl}/chat/completions`; anthropic: `{baseUrl}/v1/messages`. */
    baseUrl: z.string().url().optional(),
    /** Name of the environment variable holding the key. */
    apiKeyEnv: z.string().min(1).optional(),
    /** Path of a file holding the key (surrounding whitespace is trimmed). */
    apiKeyFile: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_SAMPLING_TIMEOUT_MS),
  })
  .refine((p) => (p.apiKeyEnv === undefined) !== (p.apiKeyFile === undefined), {
    message: 'give exactly one of apiKeyEnv and apiKeyFile',
  });

const ModelSchema = z.strictObject({
  /** The model id as the provider spells it (what hints are matched against). */
  name,
  provider: name,
  /** More names hints may match (e.g. "claude" for a model served elsewhere). */
  aliases: z.array(z.string().min(1)).default([]),
  /** Ranks in [0, 1] against `modelPreferences` priorities: higher is costlier / faster / smarter. */
  cost: rank,
  speed: rank,
  intelligence: rank,
  /** USD per million input / output tokens: what the cost limit counts. */
  inputPricePerMTok: price,
  outputPricePerMTok: price,
  /** Cap on `maxTokens` sent to this model. */
  maxOutputTokens: z.number().int().min(1).optional(),
});

const LimitsSchema = z.strictObject({
  windowMs: z.number().int().min(1_000).default(DEFAULT_SAMPLING_LIMIT_WINDOW_MS),
  /** Tokens (input + output) one principal may use per window. Absent: unlimited. */
  tokensPerPrincipal: z.number().int().min(1).optional(),
  /** USD one principal may spend per window (from the models' prices). Absent: unlimited. */
  costPerPrincipal: z.number().gt(0).optional(),
});

const BreakerSchema = z.strictObject({
  errorRate: z.number().gt(0).max(1).optional(),
  minRequests: z.number().int().min(1).max(100_000).optional(),
  windowMs: z.number().int().min(100).max(600_000).optional(),
  resetMs: z.number().int().min(100).max(600_000).optional(),
});

export const SamplingConfigSchema = z
  .strictObject({
    mode: z.enum(SAMPLING_MODES).default(DEFAULT_SAMPLING_MODE),
    providers: z.array(ProviderSchema).min(1),
    models: z.array(ModelSchema).min(1),
    /** The model used when no hint matches and no priority is given; default: the first. */
    defaultModel: name.optional(),
    limits: LimitsSchema.default({ windowMs: DEFAULT_SAMPLING_LIMIT_WINDOW_MS }),
    /** One circuit breaker per provider; defaults: @mcp-cluster/resilience's. */
    breaker: BreakerSchema.default({}),
  })
  .superRefine((c, ctx) => {
    const providers = new Set<string>();
    c.providers.forEach((p, i) => {
      if (providers.has(p.name)) {
        ctx.addIssue({ code: 'custom', path: ['providers', i, 'name'], message: 'listed twice' });
      }
      providers.add(p.name);
    });
    const models = new Set<string>();
    c.models.forEach((m, i) => {
      if (!providers.has(m.provider)) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'provider'],
          message: `no provider named "${m.provider}"`,
        });
      }
      models.add(m.name);
    });
    if (c.defaultModel !== undefined && !models.has(c.defaultModel)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultModel'],
        message: `no model named "${c.defaultModel}"`,
      });
    }
  });

/** The section after parsing (defaults filled in). */
export type SamplingConfig = z.output<typeof SamplingConfigSchema>;
/** The section as written. */
export type SamplingConfigInput = z.input<typeof SamplingConfigSchema>;

/**
 * The sampling service: the engine's Sampler backed by configured model providers. One
 * request: params checked → model chosen from the preferences → content the provider cannot
 * take refused → limits reserved → the provider called through its breaker → the answer
 * mapped to a CreateMessageResult and the reservation settled. Every failure reaches the
 * tool as a ProtocolError with a message naming the provider and what happened.
 */
import { DEFAULT_SAMPLING_BASE_URLS } from '@mcp-cluster/config';
import type { SamplingConfig } from '@mcp-cluster/config';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { Sampler, SamplerRequest } from '@mcp-cluster/server';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { ProviderBreaker, ProviderOpen } from './breaker.js';
import type { ProviderBreakerState } from './breaker.js';
import { ProviderFailure, postJson } from './http.js';
import { MemoryUsageStore, windowKey } from './limits.js';
import type { Usage, UsageStore } from './limits.js';
import { selectModel } from './models.js';
import type { ModelConfig } from './models.js';
import type { ProviderAdapter } from './providers/adapter.js';
import { anthropicAdapter } from './providers/anthropic.js';
import { openAiAdapter } from './providers/openai.js';
import { createMessageResult, estimateInputTokens, parseSampleParams } from './request.js';
import type { SampleAnswer, SampleRequest } from './request.js';
import { readProviderKey } from './secrets.js';
import type { ProviderConfig, SecretSources } from './secrets.js';

/** What the service logs: provider failures and breaker changes. Never a key or a body. */
export interface SamplingLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

export interface SamplingServiceDeps extends SecretSources {
  /** Usage counters; per-process memory when absent. */
  readonly store?: UsageStore;
  readonly log?: SamplingLog;
  /** HTTP client; an undici Agent of the service's own when absent (closed with it). */
  readonly dispatcher?: Dispatcher;
  readonly now?: () => number;
}

const ADAPTERS: Readonly<Record<ProviderConfig['type'], ProviderAdapter>> = {
  openai: openAiAdapter,
  anthropic: anthropicAdapter,
};

/** How long a client is told to wait after a provider failure or an open breaker. */
const PROVIDER_RETRY_AFTER_MS = 1_000;

interface Provider {
  readonly config: ProviderConfig;
  readonly adapter: ProviderAdapter;
  readonly url: string;
  /** Kept off every object that is logged or thrown. */
  readonly key: string;
  readonly breaker: ProviderBreaker;
}

export interface SamplingService extends Sampler, AsyncDisposable {
  /** Each provider's breaker state (for health pages and tests). */
  breakerStates(): Map<string, ProviderBreakerState>;
  close(): Promise<void>;
}

/** Builds the service; reads every key now, so a missing one fails at startup. */
export function createSamplingService(
  config: SamplingConfig,
  deps: SamplingServiceDeps = {},
): SamplingService {
  return new ProviderSampler(config, deps);
}

class ProviderSampler implements SamplingService {
  readonly mode: SamplingConfig['mode'];
  private readonly providers = new Map<string, Provider>();
  private readonly store: UsageStore;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly now: () => number;
  /** A token or cost limit is configured: usage is counted. */
  private readonly limited: boolean;

  constructor(
    private readonly config: SamplingConfig,
    private readonly deps: SamplingServiceDeps,
  ) {
    this.mode = config.mode;
    this.store = deps.store ?? new MemoryUsageStore(deps.now);
    this.now = deps.now ?? Date.now;
    this.limited =
      config.limits.tokensPerPrincipal !== undefined ||
      config.limits.costPerPrincipal !== undefined;
    this.ownsDispatcher = deps.dispatcher === undefined;
    this.dispatcher = deps.dispatcher ?? new Agent({ keepAliveTimeout: 30_000 });
    for (const p of config.providers) {
      const adapter = ADAPTERS[p.type];
      this.providers.set(p.name, {
        config: p,
        adapter,
        url: adapter.url(p.baseUrl ?? DEFAULT_SAMPLING_BASE_URLS[p.type]),
        key: readProviderKey(p, deps),
        breaker: new ProviderBreaker(p.name, config.breaker, (to) => {
          const fields = { provider: p.name, state: to };
          if (to === 'open') deps.log?.warn('sampling provider breaker opened', fields);
          else deps.log?.info(`sampling provider breaker ${to}`, fields);
        }),
      });
    }
  }

  async createMessage(params: JsonObject, request: SamplerRequest): Promise<JsonObject> {
    const req = parseSampleParams(params);
    const model = selectModel(this.config.models, req.preferences, this.config.defaultModel);
    const provider = this.providers.get(model.provider) as Provider;
    for (const m of req.messages) {
      for (const c of m.content) {
        if (provider.adapter.refuses.has(c.type)) {
          throw ProtocolError.of(
            'InvalidParams',
            `sampling/createMessage: provider ${provider.config.name} (${provider.adapter.type}) cannot take ${c.type} content`,
          );
        }
      }
    }
    const maxTokens = Math.min(req.maxTokens, model.maxOutputTokens ?? req.maxTokens);
    const inputEstimate = estimateInputTokens(req);
    const reserved = usageOf(model, inputEstimate, maxTokens);
    const { key, ttlMs } = windowKey(request.principal.id, this.config.limits.windowMs, this.now());
    const limited = this.limited;
    if (limited) await this.reserve(key, reserved, ttlMs, request.principal.id);
    let answer: SampleAnswer;
    try {
      answer = await this.call(provider, req, model, maxTokens, request.signal);
    } catch (err) {
      if (limited) await this.store.add(key, negate(reserved), ttlMs);
      throw err;
    }
    // Settle to what the provider reports; without a report the reservation stands.
    if (limited && answer.usage !== undefined) {
      const used = usageOf(model, answer.usage.inputTokens, answer.usage.outputTokens);
      await this.store.add(
        key,
        { tokens: used.tokens - reserved.tokens, cost: used.cost - reserved.cost },
        ttlMs,
      );
    }
    return createMessageResult({ ...answer, model: answer.model || model.name });
  }

  breakerStates(): Map<string, ProviderBreakerState> {
    return new Map([...this.providers].map(([name, p]) => [name, p.breaker.state]));
  }

  async close(): Promise<void> {
    for (const p of this.providers.values()) p.breaker.shutdown();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async reserve(key: string, delta: Usage, ttlMs: number, principal: string) {
    const limits = this.config.limits;
    const r = await this.store.reserve(
      key,
      delta,
      { tokens: limits.tokensPerPrincipal, cost: limits.costPerPrincipal },
      ttlMs,
    );
    if (r.ok) return;
    const tokensOver =
      limits.tokensPerPrincipal !== undefined &&
      r.usage.tokens + delta.tokens > limits.tokensPerPrincipal;
    const what = tokensOver
      ? `token limit (${limits.tokensPerPrincipal} per ${limits.windowMs} ms; ${r.usage.tokens} used, this request may take ${delta.tokens})`
      : `cost limit (${limits.costPerPrincipal} USD per ${limits.windowMs} ms; ${r.usage.cost.toFixed(6)} used, this request may cost ${delta.cost.toFixed(6)})`;
    throw ProtocolError.of('RateLimited', `sampling ${what} reached for principal ${principal}`, {
      retryAfterMs: ttlMs,
    });
  }

  private async call(
    provider: Provider,
    req: SampleRequest,
    model: ModelConfig,
    maxTokens: number,
    signal: AbortSignal,
  ): Promise<SampleAnswer> {
    const name = provider.config.name;
    try {
      return await provider.breaker.fire(async () => {
        const body = await postJson({
          provider: name,
          url: provider.url,
          headers: provider.adapter.headers(provider.key),
          body: provider.adapter.body(req, model.name, maxTokens),
          timeoutMs: provider.config.timeoutMs,
          signal,
          dispatcher: this.dispatcher,
        });
        const answer = provider.adapter.answer(body);
        if (answer === undefined) {
          throw new ProviderFailure(name, 'invalid-response', 'answered with an unexpected body');
        }
        return answer;
      });
    } catch (err) {
      throw this.toProtocolError(name, err);
    }
  }

  private toProtocolError(name: string, err: unknown): ProtocolError {
    const retry = { retryAfterMs: PROVIDER_RETRY_AFTER_MS };
    if (err instanceof ProviderOpen) {
      return ProtocolError.of('Unavailable', `sampling provider ${name} is unavailable`, retry);
    }
    if (!(err instanceof ProviderFailure)) {
      this.deps.log?.warn('sampling provider call failed', { provider: name });
      return ProtocolError.of('InternalError', `sampling provider ${name} failed`);
    }
    this.deps.log?.warn('sampling provider call failed', {
      provider: name,
      kind: err.kind,
      ...(err.status !== undefined && { status: err.status }),
    });
    switch (err.kind) {
      case 'aborted':
        return ProtocolError.of('RequestCancelled', `sampling provider ${name}: request cancelled`);
      case 'refused':
        return new ProtocolError(-32603, err.message);
      case 'connect':
      case 'timeout':
      case 'unavailable':
      case 'invalid-response':
        return ProtocolError.of(
          'Unavailable',
          `sampling provider ${name} is unavailable (${err.detail})`,
          retry,
        );
    }
  }
}

/** Tokens and their price at `model`'s rates. */
function usageOf(model: ModelConfig, input: number, output: number): Usage {
  return {
    tokens: input + output,
    cost: (input * model.inputPricePerMTok + output * model.outputPricePerMTok) / 1_000_000,
  };
}

const negate = (u: Usage): Usage => ({ tokens: -u.tokens, cost: -u.cost });

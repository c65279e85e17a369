export type { ProviderBreakerOptions, ProviderBreakerState } from './breaker.js';
export { ProviderBreaker, ProviderOpen } from './breaker.js';
export type { FailureKind } from './http.js';
export { ProviderFailure } from './http.js';
export type { Usage, UsageLimits, UsageStore } from './limits.js';
export { MemoryUsageStore, windowKey } from './limits.js';
export type { ModelConfig } from './models.js';
export { selectModel } from './models.js';
export type { ProviderAdapter } from './providers/adapter.js';
export { ANTHROPIC_VERSION, anthropicAdapter } from './providers/anthropic.js';
export { openAiAdapter } from './providers/openai.js';
export type {
  ModelPreferences,
  SampleAnswer,
  SampleContent,
  SampleMessage,
  SampleRequest,
} from './request.js';
export { createMessageResult, parseSampleParams } from './request.js';
export type { ProviderConfig, SecretSources } from './secrets.js';
export { readProviderKey } from './secrets.js';
export type { SamplingLog, SamplingService, SamplingServiceDeps } from './service.js';
export { createSamplingService } from './service.js';

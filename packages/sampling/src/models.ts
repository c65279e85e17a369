/**
 * MCP model preferences mapped to the configured models. As the spec describes: hints are
 * tried in order, each matching a model whose name (or alias) contains it; without a match
 * the priorities weigh the models' ranks; without priorities, the default model.
 */
import type { SamplingConfig } from '@mcp-cluster/config';
import type { ModelPreferences } from './request.js';

export type ModelConfig = SamplingConfig['models'][number];

/** A rank the configuration left out sits in the middle. */
const MIDDLE = 0.5;

/** The model that answers a request with `prefs`. `models` is non-empty (config says so). */
export function selectModel(
  models: readonly ModelConfig[],
  prefs: ModelPreferences,
  defaultModel?: string,
): ModelConfig {
  for (const hint of prefs.hints) {
    const h = hint.toLowerCase();
    const hit = models.find((m) => [m.name, ...m.aliases].some((n) => n.toLowerCase().includes(h)));
    if (hit !== undefined) return hit;
  }
  const cost = prefs.costPriority ?? 0;
  const speed = prefs.speedPriority ?? 0;
  const intelligence = prefs.intelligencePriority ?? 0;
  if (cost + speed + intelligence > 0) {
    let best: ModelConfig | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const m of models) {
      // High costPriority favours cheap models: a model's cost rank counts against it.
      const score =
        cost * (1 - (m.cost ?? MIDDLE)) +
        speed * (m.speed ?? MIDDLE) +
        intelligence * (m.intelligence ?? MIDDLE);
      if (score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    if (best !== undefined) return best;
  }
  const fallback =
    defaultModel === undefined ? undefined : models.find((m) => m.name === defaultModel);
  return fallback ?? (models[0] as ModelConfig);
}

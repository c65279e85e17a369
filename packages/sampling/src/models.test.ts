import { describe, expect, it } from 'vitest';
import { selectModel } from './models.js';
import type { ModelConfig } from './models.js';

const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name,
  provider: 'p',
  aliases: [],
  inputPricePerMTok: 0,
  outputPricePerMTok: 0,
  ...extra,
});

const MODELS = [
  model('claude-3-5-haiku', { cost: 0.2, speed: 0.9, intelligence: 0.5 }),
  model('claude-sonnet-4', { cost: 0.6, speed: 0.5, intelligence: 0.85 }),
  model('gpt-4o-mini', { aliases: ['mini'], cost: 0.1, speed: 0.8, intelligence: 0.4 }),
];

describe('selectModel', () => {
  it('tries hints in order; a hint matches any model containing it', () => {
    expect(selectModel(MODELS, { hints: ['sonnet'] }).name).toBe('claude-sonnet-4');
    expect(selectModel(MODELS, { hints: ['gemini', 'claude'] }).name).toBe('claude-3-5-haiku');
    expect(selectModel(MODELS, { hints: ['MINI'] }).name).toBe('gpt-4o-mini');
  });

  it('hints win over priorities', () => {
    expect(selectModel(MODELS, { hints: ['haiku'], intelligencePriority: 1 }).name).toBe(
      'claude-3-5-haiku',
    );
  });

  it('weighs priorities against ranks when no hint matches', () => {
    expect(selectModel(MODELS, { hints: ['x'], intelligencePriority: 1 }).name).toBe(
      'claude-sonnet-4',
    );
    expect(selectModel(MODELS, { hints: [], costPriority: 1 }).name).toBe('gpt-4o-mini');
    expect(selectModel(MODELS, { hints: [], speedPriority: 1 }).name).toBe('claude-3-5-haiku');
  });

  it('falls back to the default model, else the first', () => {
    expect(selectModel(MODELS, { hints: ['x'] }, 'gpt-4o-mini').name).toBe('gpt-4o-mini');
    expect(selectModel(MODELS, { hints: [] }).name).toBe('claude-3-5-haiku');
  });
});

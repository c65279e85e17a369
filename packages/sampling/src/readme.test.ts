import { readFileSync } from 'node:fs';
import { SamplingConfigSchema } from '@mcp-cluster/config';
import { describe, expect, it } from 'vitest';
import { selectModel } from './models.js';

describe('README', () => {
  it('its configuration example is valid and means what the text says', () => {
    const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(text)?.[1];
    const config = SamplingConfigSchema.parse(
      (JSON.parse(json ?? 'null') as { sampling: unknown }).sampling,
    );
    expect(selectModel(config.models, { hints: ['sonnet'] }).provider).toBe('claude');
    expect(selectModel(config.models, { hints: [] }, config.defaultModel).name).toBe('gpt-4o-mini');
  });
});

import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from './providers/anthropic.js';
import { openAiAdapter } from './providers/openai.js';
import { estimateInputTokens, parseSampleParams } from './request.js';

const text = (t: string) => ({ type: 'text', text: t });

describe('parseSampleParams', () => {
  it('reads the documented fields and drops empty ones', () => {
    expect(
      parseSampleParams({
        messages: [{ role: 'user', content: text('hi') }],
        maxTokens: 5,
        systemPrompt: '',
        stopSequences: [],
        includeContext: 'none',
        modelPreferences: { hints: [{ name: 'a' }, {}], speedPriority: 1 },
      }),
    ).toEqual({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      maxTokens: 5,
      preferences: { hints: ['a'], speedPriority: 1 },
    });
  });

  it.each([
    [{ maxTokens: 5 }, 'params.messages must be a non-empty array'],
    [{ messages: [], maxTokens: 5 }, 'params.messages must be a non-empty array'],
    [
      { messages: [{ role: 'system', content: text('x') }], maxTokens: 5 },
      'params.messages[0].role',
    ],
    [
      { messages: [{ role: 'user', content: { type: 'video' } }], maxTokens: 5 },
      '"video" is not supported',
    ],
    [
      { messages: [{ role: 'user', content: [text('a'), { type: 'image' }] }], maxTokens: 5 },
      'params.messages[0].content[1]: image content needs',
    ],
    [{ messages: [{ role: 'user', content: text('x') }], maxTokens: 1.5 }, 'params.maxTokens'],
    [
      { messages: [{ role: 'user', content: text('x') }], maxTokens: 5, temperature: -1 },
      'params.temperature',
    ],
    [
      { messages: [{ role: 'user', content: text('x') }], maxTokens: 5, stopSequences: [1] },
      'params.stopSequences',
    ],
    [
      {
        messages: [{ role: 'user', content: text('x') }],
        maxTokens: 5,
        modelPreferences: { costPriority: 2 },
      },
      'costPriority must be a number in [0, 1]',
    ],
    [
      {
        messages: [{ role: 'user', content: text('x') }],
        maxTokens: 5,
        modelPreferences: { hints: [{ name: 3 }] },
      },
      'hints[0]',
    ],
  ])('refuses %j with -32602 naming the field', (params, fragment) => {
    expect(() => parseSampleParams(params)).toThrow(
      expect.objectContaining({
        code: -32602,
        message: expect.stringContaining(fragment) as unknown,
      }),
    );
  });

  it('estimates input at four characters a token', () => {
    const req = parseSampleParams({
      messages: [{ role: 'user', content: text('12345678') }],
      systemPrompt: '1234',
      maxTokens: 1,
    });
    expect(estimateInputTokens(req)).toBe(3);
  });
});

describe('provider answers', () => {
  it('OpenAI: finish_reason mapped, null content is empty text, usage read', () => {
    const body = (finish: string, content: string | null) => ({
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
    expect(openAiAdapter.answer(body('stop', 'a'))).toEqual({
      text: 'a',
      model: 'm',
      stopReason: 'endTurn',
      usage: { inputTokens: 3, outputTokens: 4 },
    });
    expect(openAiAdapter.answer(body('length', 'a'))?.stopReason).toBe('maxTokens');
    expect(openAiAdapter.answer(body('content_filter', null))).toMatchObject({
      text: '',
      stopReason: 'content_filter',
    });
    expect(openAiAdapter.answer({ choices: [] })).toBeUndefined();
    expect(openAiAdapter.answer({ error: 'x' })).toBeUndefined();
  });

  it('Anthropic: text blocks joined, stop_reason mapped, other blocks ignored', () => {
    const body = (stop: string) => ({
      model: 'c',
      content: [
        { type: 'text', text: 'a' },
        { type: 'tool_use', id: 't', name: 'n', input: {} },
        { type: 'text', text: 'b' },
      ],
      stop_reason: stop,
      usage: { input_tokens: 1, output_tokens: 2 },
    });
    expect(anthropicAdapter.answer(body('end_turn'))).toEqual({
      text: 'ab',
      model: 'c',
      stopReason: 'endTurn',
      usage: { inputTokens: 1, outputTokens: 2 },
    });
    expect(anthropicAdapter.answer(body('max_tokens'))?.stopReason).toBe('maxTokens');
    expect(anthropicAdapter.answer(body('stop_sequence'))?.stopReason).toBe('stopSequence');
    expect(anthropicAdapter.answer({ type: 'error' })).toBeUndefined();
  });

  it('OpenAI: images become data-URL parts beside text parts', () => {
    const req = parseSampleParams({
      messages: [
        {
          role: 'user',
          content: [text('look'), { type: 'image', data: 'aGk=', mimeType: 'image/png' }],
        },
      ],
      maxTokens: 9,
    });
    expect(openAiAdapter.body(req, 'm', 9)).toEqual({
      model: 'm',
      max_tokens: 9,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,aGk=' } },
          ],
        },
      ],
    });
  });
});

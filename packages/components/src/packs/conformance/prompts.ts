/** Section 4.2 prompts, and the MRTR prompt of section 4.3. */
import { PNG_BASE64 } from './media.js';
import { definePrompt } from '../../prompt.js';
import { ASK_CONTEXT } from './tools-modern.js';
import { elicited } from './util.js';

export const simplePrompt = definePrompt({
  name: 'test_simple_prompt',
  title: 'Simple prompt',
  description: 'A simple prompt without arguments',
  get: () => [
    { role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } },
  ],
});

export const promptWithArguments = definePrompt({
  name: 'test_prompt_with_arguments',
  title: 'Prompt with arguments',
  description: 'A prompt with required arguments',
  arguments: [
    { name: 'arg1', description: 'First test argument', required: true },
    { name: 'arg2', description: 'Second test argument', required: true },
  ],
  complete: { arg1: () => [], arg2: () => [] },
  get: ({ arg1, arg2 }) => [
    {
      role: 'user',
      content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
    },
  ],
});

export const promptWithEmbeddedResource = definePrompt({
  name: 'test_prompt_with_embedded_resource',
  title: 'Prompt with embedded resource',
  description: 'A prompt that includes an embedded resource',
  arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  get: ({ resourceUri }) => [
    {
      role: 'user',
      content: {
        type: 'resource',
        resource: {
          uri: resourceUri as string,
          mimeType: 'text/plain',
          text: 'Embedded resource content for testing.',
        },
      },
    },
    {
      role: 'user',
      content: { type: 'text', text: 'Please process the embedded resource above.' },
    },
  ],
});

export const promptWithImage = definePrompt({
  name: 'test_prompt_with_image',
  title: 'Prompt with image',
  description: 'A prompt that includes image content',
  get: () => [
    { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
    { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
  ],
});

export const mrtrPrompt = definePrompt({
  name: 'test_input_required_result_prompt',
  title: 'MRTR prompt',
  description: 'A prompt that asks the user for context (input_required) before answering',
  async get(_args, ctx) {
    const { user_context } = await ctx.input({ user_context: ASK_CONTEXT });
    return [
      {
        role: 'user',
        content: {
          type: 'text',
          text: `Prompt with context: ${elicited(user_context, 'context')}`,
        },
      },
    ];
  },
});

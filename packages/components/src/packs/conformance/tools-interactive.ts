/** Section 4.1: logging, progress, server->client requests and SSE polling fixtures. */
import { z } from 'zod';
import { defineTool } from '../../tool.js';
import { clientErrorText, delay, isObject, sampledText, show } from './util.js';

const GAP_MS = 50;

export const toolWithLogging = defineTool({
  name: 'test_tool_with_logging',
  title: 'Logging',
  description: 'Tests tool that emits log messages during execution',
  async handler(_args, ctx) {
    ctx.log('info', 'Tool execution started');
    await delay(GAP_MS, ctx.signal);
    ctx.log('info', 'Tool processing data');
    await delay(GAP_MS, ctx.signal);
    ctx.log('info', 'Tool execution completed');
    return 'Tool with logging executed successfully';
  },
});

export const toolWithProgress = defineTool({
  name: 'test_tool_with_progress',
  title: 'Progress',
  description: 'Tests tool that reports progress notifications',
  async handler(_args, ctx) {
    for (const step of [0, 50, 100]) {
      if (step > 0) await delay(GAP_MS, ctx.signal);
      ctx.progress(step, 100, `Completed step ${step} of 100`);
    }
    const token = ctx.meta['progressToken'];
    return token === undefined ? 'No progress token provided' : show(token);
  },
});

export const sampling = defineTool({
  name: 'test_sampling',
  title: 'Sampling',
  description: 'Tests server-initiated sampling (LLM completion request)',
  input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
  async handler({ prompt }, ctx) {
    try {
      const r = await ctx.sample({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 100,
      });
      return `LLM response: ${sampledText(r)}`;
    } catch (err) {
      return `Sampling not supported or error: ${clientErrorText(err)}`;
    }
  },
});

function elicitationSummary(prefix: string, r: Record<string, unknown>): string {
  const content = isObject(r['content']) ? r['content'] : {};
  return `${prefix}: action=${show(r['action'])}, content=${JSON.stringify(content)}`;
}

export const elicitation = defineTool({
  name: 'test_elicitation',
  title: 'Elicitation',
  description: 'Tests server-initiated elicitation (user input request)',
  input: z.object({ message: z.string().describe('The message to show the user') }),
  async handler({ message }, ctx) {
    try {
      const r = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: { response: { type: 'string', description: "User's response" } },
          required: ['response'],
        },
      });
      return elicitationSummary('User response', r);
    } catch (err) {
      return `Elicitation not supported or error: ${clientErrorText(err)}`;
    }
  },
});

/** SEP-1034: a default on every primitive type. */
export const SEP1034_REQUEST = {
  message: 'Please review and update the form fields with defaults',
  requestedSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'User name', default: 'John Doe' },
      age: { type: 'integer', description: 'User age', default: 30 },
      score: { type: 'number', description: 'User score', default: 95.5 },
      status: {
        type: 'string',
        description: 'User status',
        enum: ['active', 'inactive', 'pending'],
        default: 'active',
      },
      verified: { type: 'boolean', description: 'Verification status', default: true },
    },
    required: [],
  },
};

export const elicitationSep1034 = defineTool({
  name: 'test_elicitation_sep1034_defaults',
  title: 'Elicitation defaults',
  description: 'Tests elicitation with default values for all primitive types (SEP-1034)',
  async handler(_args, ctx) {
    return elicitationSummary('Elicitation completed', await ctx.elicit(SEP1034_REQUEST));
  },
});

/** SEP-1330: every enum style, each without the keywords of the others. */
export const SEP1330_REQUEST = {
  message: 'Please select options from the enum fields',
  requestedSchema: {
    type: 'object',
    properties: {
      untitledSingle: {
        type: 'string',
        description: 'Select one option',
        enum: ['option1', 'option2', 'option3'],
      },
      titledSingle: {
        type: 'string',
        description: 'Select one option with titles',
        oneOf: [
          { const: 'value1', title: 'First Option' },
          { const: 'value2', title: 'Second Option' },
          { const: 'value3', title: 'Third Option' },
        ],
      },
      legacyEnum: {
        type: 'string',
        description: 'Select one option (legacy enumNames)',
        enum: ['opt1', 'opt2', 'opt3'],
        enumNames: ['Option One', 'Option Two', 'Option Three'],
      },
      untitledMulti: {
        type: 'array',
        description: 'Select one or more options',
        minItems: 1,
        maxItems: 3,
        items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
      },
      titledMulti: {
        type: 'array',
        description: 'Select one or more options with titles',
        minItems: 1,
        maxItems: 3,
        items: {
          anyOf: [
            { const: 'value1', title: 'First Choice' },
            { const: 'value2', title: 'Second Choice' },
            { const: 'value3', title: 'Third Choice' },
          ],
        },
      },
    },
    required: [],
  },
};

export const elicitationSep1330 = defineTool({
  name: 'test_elicitation_sep1330_enums',
  title: 'Elicitation enums',
  description: 'Tests elicitation with enum schema variants (SEP-1330)',
  async handler(_args, ctx) {
    return elicitationSummary('Elicitation completed', await ctx.elicit(SEP1330_REQUEST));
  },
});

export const reconnection = defineTool({
  name: 'test_reconnection',
  title: 'Reconnection',
  description: 'Tests SSE polling: closes the response stream before the result (SEP-1699)',
  async handler(_args, ctx) {
    ctx.progress(0, 1, 'Closing the stream; reconnect to receive the result');
    ctx.log('info', 'Reconnection test: closing the stream before the result');
    ctx.closeStream();
    // Give the client time to reconnect with Last-Event-ID before the result is written.
    await delay(100, ctx.signal);
    return 'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.';
  },
});

/**
 * Section 4.3: 2026-07-28 diagnostics and MRTR fixtures. They are written against ctx.input,
 * so they also work on a legacy session (where ctx.input sends real requests).
 */
import type { InputRequest } from '@mcp-cluster/protocol';
import { ProtocolError } from '@mcp-cluster/protocol';
import { defineTool } from '../../tool.js';
import { askString, elicited, sampledText } from './util.js';

export const missingCapability = defineTool({
  name: 'test_missing_capability',
  title: 'Missing capability',
  description: 'Requires the sampling client capability; fails with -32021 without it',
  handler(_args, ctx) {
    if (ctx.clientCapabilities.sampling === undefined) {
      throw ProtocolError.of('MissingCapability', 'This tool requires the sampling capability', {
        requiredCapabilities: { sampling: {} },
      });
    }
    return 'Success';
  },
});

export const streamingElicitation = defineTool({
  name: 'test_streaming_elicitation',
  title: 'Streaming without requests',
  description: 'Streams a notification then the result; never sends a request on the stream',
  handler(_args, ctx) {
    ctx.progress(1, 1, 'Streaming');
    return 'Streaming complete';
  },
});

export const loggingTool = defineTool({
  name: 'test_logging_tool',
  title: 'Per-request logging',
  description: 'Logs only when the request sets a log level',
  handler(_args, ctx) {
    ctx.log('info', 'Logging tool evaluated');
    return 'Logging evaluated';
  },
});

export const triggerToolChange = defineTool({
  name: 'test_trigger_tool_change',
  title: 'Trigger tools/list_changed',
  description: 'Announces notifications/tools/list_changed to subscribed listeners',
  handler(_args, ctx) {
    ctx.emitChange({ type: 'tools/list_changed' });
    return 'Mutation triggered';
  },
});

export const triggerPromptChange = defineTool({
  name: 'test_trigger_prompt_change',
  title: 'Trigger prompts/list_changed',
  description: 'Announces notifications/prompts/list_changed to subscribed listeners',
  handler(_args, ctx) {
    ctx.emitChange({ type: 'prompts/list_changed' });
    return 'Mutation triggered';
  },
});

const ASK_NAME: InputRequest = {
  method: 'elicitation/create',
  params: askString('What is your name?', 'name'),
};

const CONFIRM: InputRequest = {
  method: 'elicitation/create',
  params: {
    message: 'Please confirm',
    requestedSchema: {
      type: 'object',
      properties: { ok: { type: 'boolean' } },
      required: ['ok'],
    },
  },
};

function sample(text: string, maxTokens: number): InputRequest {
  return {
    method: 'sampling/createMessage',
    params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens },
  };
}

const LIST_ROOTS: InputRequest = { method: 'roots/list', params: {} };

function rootCount(result: Record<string, unknown>): number {
  const roots = result['roots'];
  return Array.isArray(roots) ? roots.length : 0;
}

export const mrtrElicitation = defineTool({
  name: 'test_input_required_result_elicitation',
  title: 'MRTR elicitation',
  description: 'Asks for the user name through an input_required result (SEP-2322)',
  async handler(_args, ctx) {
    const { user_name } = await ctx.input({ user_name: ASK_NAME });
    return `Hello, ${elicited(user_name, 'name')}!`;
  },
});

export const mrtrSampling = defineTool({
  name: 'test_input_required_result_sampling',
  title: 'MRTR sampling',
  description: 'Asks the client LLM a question through an input_required result',
  async handler(_args, ctx) {
    const { sample_request } = await ctx.input({
      sample_request: sample('What is the capital of France?', 100),
    });
    return `Sampling result: ${sampledText(sample_request)}`;
  },
});

export const mrtrListRoots = defineTool({
  name: 'test_input_required_result_list_roots',
  title: 'MRTR roots',
  description: "Asks for the client's roots through an input_required result",
  async handler(_args, ctx) {
    const { roots_request } = await ctx.input({ roots_request: LIST_ROOTS });
    return `Found ${rootCount(roots_request)} root(s)`;
  },
});

export const mrtrRequestState = defineTool({
  name: 'test_input_required_result_request_state',
  title: 'MRTR request state',
  description: 'Asks for confirmation and carries a requestState across the retry',
  async handler(_args, ctx) {
    await ctx.input({ confirm: CONFIRM });
    return 'state-ok: requestState validated';
  },
});

export const mrtrMultipleInputs = defineTool({
  name: 'test_input_required_result_multiple_inputs',
  title: 'MRTR multiple inputs',
  description: 'Asks for an elicitation, a sampling and the roots in one round',
  async handler(_args, ctx) {
    const r = await ctx.input({
      user_name: ASK_NAME,
      greeting: sample('Generate a greeting', 50),
      client_roots: LIST_ROOTS,
    });
    const name = elicited(r.user_name, 'name');
    return `Name: ${name}; Greeting: ${sampledText(r.greeting)}; Roots: ${rootCount(r.client_roots)}`;
  },
});

export const mrtrMultiRound = defineTool({
  name: 'test_input_required_result_multi_round',
  title: 'MRTR multi round',
  description: 'Asks for a name, then (in a second round) for a favorite color',
  async handler(_args, ctx) {
    const { step1 } = await ctx.input({
      step1: {
        method: 'elicitation/create',
        params: askString('Step 1: What is your name?', 'name'),
      },
    });
    const { step2 } = await ctx.input({
      step2: {
        method: 'elicitation/create',
        params: askString('Step 2: What is your favorite color?', 'color'),
      },
    });
    return `Multi-round complete for ${elicited(step1, 'name')} who likes ${elicited(step2, 'color')}`;
  },
});

export const mrtrTamperedState = defineTool({
  name: 'test_input_required_result_tampered_state',
  title: 'MRTR state integrity',
  description: 'Asks for confirmation with an integrity-protected requestState',
  async handler(_args, ctx) {
    await ctx.input({ confirm: CONFIRM });
    return 'integrity-ok: state verified';
  },
});

export const mrtrCapabilities = defineTool({
  name: 'test_input_required_result_capabilities',
  title: 'MRTR capabilities',
  description: 'Asks only for input the client declared it can provide',
  async handler(_args, ctx) {
    const requests: Record<string, InputRequest> = {};
    if (ctx.clientCapabilities.elicitation !== undefined) {
      requests['elicit_input'] = {
        method: 'elicitation/create',
        params: askString('Please provide a value', 'value'),
      };
    }
    if (ctx.clientCapabilities.sampling !== undefined) {
      requests['sample_input'] = sample('Sample request', 50);
    }
    if (Object.keys(requests).length === 0) return 'No supported capabilities declared';
    const answers = await ctx.input(requests);
    return `capabilities-ok: received ${Object.keys(answers).join(', ')}`;
  },
});

/** The MRTR prompt's input request (used by prompts.ts). */
export const ASK_CONTEXT: InputRequest = {
  method: 'elicitation/create',
  params: askString('What context should the prompt use?', 'context'),
};

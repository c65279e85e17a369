/** Section 4.4: tasks-extension fixtures (SEP-2663). */
import { ProtocolError } from '@mcp-cluster/protocol';
import { z } from 'zod';
import { defineTool } from '../../tool.js';
import { askString, delay, elicited } from './util.js';

export const greet = defineTool({
  name: 'greet',
  title: 'Greet',
  description: 'Greets someone synchronously (never runs as a task)',
  input: z.object({ name: z.string().describe('Who to greet') }),
  taskSupport: 'forbidden',
  handler: ({ name }) => `Hello, ${name}!`,
});

export const slowCompute = defineTool({
  name: 'slow_compute',
  title: 'Slow compute',
  description: 'Computes for the given number of seconds; runs as a task when the client opts in',
  input: z.object({
    seconds: z.number().min(0).max(3600).describe('How long to compute, in seconds'),
    label: z.string().optional().describe('A label echoed in the result'),
  }),
  taskSupport: 'optional',
  async handler({ seconds, label }, ctx) {
    if (seconds > 0) await delay(seconds * 1000, ctx.signal);
    return `Computed ${label ?? 'result'} in ${seconds}s`;
  },
});

export const failingJob = defineTool({
  name: 'failing_job',
  title: 'Failing job',
  description: 'A task that completes after about a second with a tool error (isError: true)',
  taskSupport: 'required',
  async handler(_args, ctx) {
    await delay(1000, ctx.signal);
    return {
      isError: true,
      content: [{ type: 'text' as const, text: 'The job failed (simulated tool error)' }],
    };
  },
});

export const protocolErrorJob = defineTool({
  name: 'protocol_error_job',
  title: 'Protocol error job',
  description: 'A task that fails with a protocol error (status failed)',
  taskSupport: 'required',
  async handler(_args, ctx) {
    await delay(100, ctx.signal);
    throw ProtocolError.of('InternalError', 'Simulated protocol error in the job');
  },
});

export const confirmDelete = defineTool({
  name: 'confirm_delete',
  title: 'Confirm delete',
  description: 'Asks the user to confirm a deletion before completing',
  input: z.object({ filename: z.string().describe('The file to delete') }),
  taskSupport: 'optional',
  async handler({ filename }, ctx) {
    const { confirm } = await ctx.input({
      confirm: {
        method: 'elicitation/create',
        params: {
          message: `Delete ${filename}?`,
          requestedSchema: {
            type: 'object',
            properties: { confirm: { type: 'boolean', description: 'Confirm the deletion' } },
            required: ['confirm'],
          },
        },
      },
    });
    const content = confirm['content'] as { confirm?: unknown } | undefined;
    const yes = confirm['action'] === 'accept' && content?.confirm === true;
    return yes ? `Deleted ${filename}` : `Kept ${filename}`;
  },
});

export const multiInput = defineTool({
  name: 'multi_input',
  title: 'Multiple inputs',
  description: 'Asks two questions at once and completes when both are answered',
  taskSupport: 'optional',
  async handler(_args, ctx) {
    const r = await ctx.input({
      first: {
        method: 'elicitation/create',
        params: askString('First question: your name?', 'name'),
      },
      second: {
        method: 'elicitation/create',
        params: askString('Second question: your city?', 'city'),
      },
    });
    return `Received ${elicited(r.first, 'name') || 'first'} and ${elicited(r.second, 'city') || 'second'}`;
  },
});

export const toolWithTask = defineTool({
  name: 'test_tool_with_task',
  title: 'MRTR then task',
  description: 'Asks for a name (MRTR) before creating a task that uses it',
  taskSupport: 'required',
  async prepare(_args, ctx) {
    const { user_name } = await ctx.input({
      user_name: { method: 'elicitation/create', params: askString('What is your name?', 'name') },
    });
    return elicited(user_name, 'name');
  },
  async handler(_args, ctx, name) {
    await delay(100, ctx.signal);
    return `Hello, ${name}! The task completed.`;
  },
});

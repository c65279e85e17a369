/**
 * The bench pack: one trivial tool, the same `echo` every target serves, so the benchmark
 * measures the server around the tool and nothing else.
 */
import { definePack, defineTool } from '@mcp-cluster/components';
import { z } from 'zod';

const echo = defineTool({
  name: 'echo',
  description: 'Returns its text argument.',
  input: z.object({ text: z.string() }),
  // What it is: a read. Through a cluster gateway a legacy call of a tool that is neither
  // read-only nor idempotent is answered on a resumable SSE stream (three Redis writes more).
  annotations: { readOnlyHint: true },
  // The full CallToolResult, like the SDK targets return, so no target gets a shortcut.
  handler: ({ text }) => ({ content: [{ type: 'text' as const, text }] }),
});

export default definePack({ name: 'bench', components: [echo] });

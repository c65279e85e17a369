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
  // The full CallToolResult, like the SDK targets return, so no target gets a shortcut.
  handler: ({ text }) => ({ content: [{ type: 'text' as const, text }] }),
});

export default definePack({ name: 'bench', components: [echo] });

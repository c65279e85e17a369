/** A pack whose tool fails unexpectedly (an operator's problem) or refuses (the model's). */
import { ToolError, definePack, defineTool, z } from '@mcp-cluster/components';

function readInventory(): never {
  throw new Error('inventory file is missing');
}

const explode = defineTool({
  name: 'explode',
  description: 'Fails with an unexpected error',
  input: z.object({ apiKey: z.string().optional() }),
  handler: () => readInventory(),
});

const refuse = defineTool({
  name: 'refuse',
  description: 'Refuses with a ToolError (an isError result)',
  input: z.object({}),
  handler: () => {
    throw new ToolError('not today');
  },
});

export default definePack({ name: 'throwing', components: [explode, refuse] });

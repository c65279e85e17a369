/** A pack whose tool fails unexpectedly: the worker must log it for the operator. */
import { definePack, defineTool, z } from '@mcp-cluster/components';

function readInventory(): never {
  throw new Error('inventory file is missing');
}

const explode = defineTool({
  name: 'explode',
  description: 'Fails with an unexpected error',
  input: z.object({}),
  handler: () => readInventory(),
});

export default definePack({ name: 'throwing', components: [explode] });

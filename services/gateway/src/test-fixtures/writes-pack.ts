/** Test pack with one tool safe to repeat and one that is not, for how a gateway answers each. */
import { definePack, defineTool } from '@mcp-cluster/components';

export const READ_TOOL = 'fx_read';
export const WRITE_TOOL = 'fx_write';

export default definePack({
  name: 'fx-writes',
  components: [
    defineTool({
      name: READ_TOOL,
      description: 'A read-only call: answers "read"',
      annotations: { readOnlyHint: true },
      handler: () => 'read',
    }),
    defineTool({
      name: WRITE_TOOL,
      description: 'A write that must not run twice (no read-only or idempotent annotation)',
      handler: () => 'written',
    }),
  ],
});

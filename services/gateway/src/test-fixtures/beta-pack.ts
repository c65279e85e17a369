/** Test pack owned by one worker only: the counterpart of alpha-pack.ts. */
import { definePack, defineTool } from '@mcp-cluster/components';

export const BETA_TOOL = 'fx_beta';

export default definePack({
  name: 'fx-beta',
  components: [
    defineTool({
      name: BETA_TOOL,
      description: 'Answers "beta" (only workers loading the beta fixture pack own it)',
      handler: () => 'beta',
    }),
  ],
});

/** Test pack owned by one worker only: lets a routing test tell which worker served a call. */
import { definePack, defineTool } from '@mcp-cluster/components';

export const ALPHA_TOOL = 'fx_alpha';

export default definePack({
  name: 'fx-alpha',
  components: [
    defineTool({
      name: ALPHA_TOOL,
      description: 'Answers "alpha" (only workers loading the alpha fixture pack own it)',
      handler: () => 'alpha',
    }),
  ],
});

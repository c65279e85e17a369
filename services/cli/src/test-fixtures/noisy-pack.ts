/** A pack that writes to the console when it loads and when its tool runs (stdio tests). */
/* eslint-disable no-console -- console output is what this fixture is for */
import { definePack, defineTool, z } from '@mcp-cluster/components';

console.log('noisy pack: loading');

const shout = defineTool({
  name: 'shout',
  description: 'Logs with console.log, then answers',
  input: z.object({ text: z.string() }),
  handler: ({ text }) => {
    console.log(`noisy pack: shouting ${text}`);
    console.info('noisy pack: info');
    return text.toUpperCase();
  },
});

export default definePack({ name: 'noisy', components: [shout] });

/**
 * The "hello" pack: a five-minute tour of the component API.
 *
 * A pack is an ES module whose default export is `definePack(...)`. Start the server with it:
 *   pnpm start            (or: mcp-cluster serve --pack ./examples/hello/pack.ts)
 */
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ToolError,
  definePack,
  definePrompt,
  defineResource,
  defineResourceTemplate,
  defineTool,
  fileRoot,
  resourceNotFound,
  z,
} from '@mcp-cluster/components';

// A tool with a zod input schema. The handler receives typed, validated arguments.
// `output` declares an outputSchema: returning a plain object sends it as structuredContent
// (plus a JSON text block for clients that only read text).
const greet = defineTool({
  name: 'greet',
  title: 'Greet',
  description: 'Says hello to someone',
  input: z.object({
    name: z.string().min(1).describe('Who to greet'),
    excited: z.boolean().default(false).describe('End with an exclamation mark'),
  }),
  output: z.object({ greeting: z.string() }),
  annotations: { readOnlyHint: true },
  handler: ({ name, excited }) => ({ greeting: `Hello, ${name}${excited ? '!' : '.'}` }),
});

// Returning a string is the short form of a single text content block.
// Throwing ToolError answers with `isError: true`: the model sees the message and can retry.
const add = defineTool({
  name: 'add',
  title: 'Add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  handler: ({ a, b }) => {
    const sum = a + b;
    if (!Number.isFinite(sum)) throw new ToolError('The sum is not a finite number');
    return String(sum);
  },
});

// The second argument of every handler is the context: progress, logging, cancellation
// (ctx.signal), the caller (ctx.principal), and requests to the client (ctx.elicit, ...).
const countdown = defineTool({
  name: 'countdown',
  title: 'Countdown',
  description: 'Counts down, reporting progress each step (cancellable)',
  input: z.object({ from: z.number().int().min(1).max(20).default(5) }),
  async handler({ from }, ctx) {
    ctx.log('info', `Counting down from ${from}`);
    for (let i = from; i > 0; i--) {
      ctx.progress(from - i, from, `${i}...`);
      // Pass ctx.signal so a cancelled call stops waiting at once.
      await sleep(100, undefined, { signal: ctx.signal });
    }
    ctx.progress(from, from, 'Liftoff');
    return 'Liftoff!';
  },
});

// A fixed resource: `read` returns the text (or bytes, or full contents).
const now = defineResource({
  uri: 'time://now',
  name: 'now',
  title: 'Current time',
  description: 'The server time, ISO 8601',
  mimeType: 'text/plain',
  read: () => new Date().toISOString(),
});

// A resource template (RFC 6570). `read` gets the variables matched from the URI;
// `complete` suggests values for a variable; `list` adds concrete notes to resources/list.
const NOTES: Record<string, string> = {
  welcome: 'Welcome to mcp-cluster.',
  todo: 'Write a tool of your own.',
};

const notes = defineResourceTemplate({
  uriTemplate: 'notes://{id}',
  name: 'note',
  title: 'Notes',
  description: 'A small in-memory notebook',
  mimeType: 'text/plain',
  complete: { id: (value) => Object.keys(NOTES).filter((id) => id.startsWith(value)) },
  list: () => Object.keys(NOTES).map((id) => ({ uri: `notes://${id}`, name: id })),
  read: (uri, { id }, ctx) => {
    const text = typeof id === 'string' ? NOTES[id] : undefined;
    // The error the client expects for an unknown resource (its code depends on the era).
    if (text === undefined) throw resourceNotFound(uri, ctx);
    return text;
  },
});

// Files from a folder. The engine hands `read` a canonical uri (no `..`, no encoded `/`);
// fileRoot then resolves the variable inside the folder (no traversal, no symbolic link out
// of it, deny globs first) and answers -32602 for anything else.
const folder = fileRoot({ dir: new URL('./files', import.meta.url).pathname, deny: ['**/.*'] });

const files = defineResourceTemplate({
  uriTemplate: 'files://{+path}',
  name: 'file',
  title: 'Files',
  description: 'Text files of the example folder',
  mimeType: 'text/plain',
  complete: {
    path: async (value) => {
      const entries = await readdir(folder.dir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => `${e.parentPath.slice(folder.dir.length + 1)}/${e.name}`.replace(/^\//, ''))
        .filter((p) => p.startsWith(value) && folder.admits(p));
    },
  },
  read: async (uri, { path }, ctx) => {
    const file = await folder.resolve(String(path));
    try {
      return await readFile(file, 'utf8');
    } catch {
      throw resourceNotFound(uri, ctx);
    }
  },
});

// A prompt with one argument (prompt arguments are strings). A string return is one user
// message; return an array for several messages.
const summarize = definePrompt({
  name: 'summarize',
  title: 'Summarize',
  description: 'Asks the model to summarize a text',
  arguments: z.object({ text: z.string().describe('The text to summarize') }),
  get: ({ text }) => `Summarize the following text in one sentence:\n\n${text}`,
});

export default definePack({
  name: 'hello',
  instructions:
    'A small example pack: greet, add, countdown, time://now, notes://{id}, files://{+path}, summarize.',
  components: [greet, add, countdown, now, notes, files, summarize],
});

/**
 * The "notes" example: a folder of markdown notes as resources, a tool that asks a model to
 * summarize one, and a prompt whose arguments complete as you type.
 *
 *   mcp-cluster serve --pack ./examples/notes/pack.ts --config ./examples/notes/config.json
 *
 * The default export is an array: the `files` pack serving the folder, and a small pack of
 * our own that reads notes through the same confinement.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  ToolError,
  completeFilePaths,
  completeToolNames,
  definePack,
  definePrompt,
  defineTool,
  filesMount,
  filesPack,
  resourceNotFound,
  z,
} from '@mcp-cluster/components';

// One mount, shared by the resources and the tool: `notes:///welcome.md` names
// files/welcome.md. `deny` is checked before anything is listed, completed or opened, so
// files/private/ stays invisible to clients and to our own tool alike.
const notes = filesMount({
  dir: fileURLToPath(new URL('./files', import.meta.url)),
  name: 'notes',
  scheme: 'notes',
  deny: ['private/**', '**/.*'],
});

/** Longest note we send to a model, in characters: a budget, not a safety limit. */
const MAX_NOTE_CHARS = 20_000;

/** The text of a note the mount admits, or undefined (refused, missing or unreadable). */
async function readNote(path: string): Promise<string | undefined> {
  try {
    // resolve: no `..`, no absolute path, deny globs first, symbolic links judged by target.
    return await readFile(await notes.root.resolve(path), 'utf8');
  } catch {
    return undefined; // its message may name host paths: callers say what went wrong instead
  }
}

// ctx.sample asks for a model completion. A client that declared `sampling` answers it
// itself; otherwise the provider of the config's `sampling` section does (see README.md).
const summarize = defineTool({
  name: 'summarize_note',
  title: 'Summarize a note',
  description: 'Summarizes one note (a path such as "meetings/2026-03-02-planning.md")',
  input: z.object({ path: z.string().min(1).max(1024).describe('Path of the note') }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  async handler({ path }, ctx) {
    const text = await readNote(path);
    // A ToolError is an `isError: true` result: the model reads it and can try another path.
    if (text === undefined) throw new ToolError(`No note you may read at ${path}`);
    if (text.length > MAX_NOTE_CHARS) throw new ToolError(`Note too long to summarize: ${path}`);
    const answer = await ctx.sample({
      systemPrompt: 'You summarize notes in one short paragraph.',
      messages: [{ role: 'user', content: { type: 'text', text } }],
      maxTokens: 200,
      modelPreferences: { costPriority: 0.8 },
    });
    // A sampling result holds one content block (or, from newer clients, a list of them).
    const blocks = [answer['content']].flat() as { type?: string; text?: string }[];
    const summary = blocks.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
    if (summary === '') throw new ToolError('The model answered without text');
    return summary;
  },
});

// Prompt arguments complete as the user types: `path` from the mount (denied paths never
// appear), `tool` from the tools this caller may call.
const review = definePrompt({
  name: 'review_note',
  title: 'Review a note',
  description: 'Asks the model to review a note, optionally with one of the tools',
  arguments: z.object({
    // A path the mount refuses fails validation: -32602 before `get` runs.
    path: z
      .string()
      .refine((p) => notes.root.admits(p), 'not a note you may read')
      .describe('Path of the note'),
    tool: z.string().optional().describe('A tool the model may call'),
  }),
  complete: { path: completeFilePaths(notes.root), tool: completeToolNames() },
  get: async ({ path, tool }, ctx) => {
    const uri = notes.uriOf(path);
    const text = await readNote(path);
    if (text === undefined) throw resourceNotFound(uri, ctx);
    const hint = tool === undefined ? '' : ` You may call the tool "${tool}".`;
    // Two messages: the request, then the note itself as an embedded resource.
    return [
      {
        role: 'user',
        content: { type: 'text', text: `Review this note: what is unclear?${hint}` },
      },
      {
        role: 'user',
        content: { type: 'resource', resource: { uri, mimeType: 'text/markdown', text } },
      },
    ];
  },
});

export default [
  filesPack(notes),
  definePack({
    name: 'notes-tools',
    instructions: 'Markdown notes under notes:///; summarize_note and review_note work on them.',
    components: [summarize, review],
  }),
];

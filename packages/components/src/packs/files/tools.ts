/**
 * The write tools of a writable mount: `<name>_write_file` and `<name>_delete_file`. Each has
 * a name of its own per mount, so the authorizer's per-tool permission
 * (`tools:call:<name>_write_file`) grants writing one mount without reading rights implying
 * it. A refused path or an oversized content is a tool error (`isError`), which the model
 * can correct; nothing is written outside the root.
 */
import { lstat, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { HandlerContext, ToolSpec } from '@mcp-cluster/server';
import { ToolError } from '@mcp-cluster/server';
import { z } from 'zod';
import type { FileRoot } from '../../file-root.js';
import { defineTool } from '../../tool.js';
import type { ResolvedFilesOptions } from './options.js';
import { uriOf } from './options.js';

/** `root.resolve` with a refusal as a tool error. */
async function resolveForTool(root: FileRoot, relative: string): Promise<string> {
  try {
    return await root.resolve(relative);
  } catch (err) {
    if (err instanceof ProtocolError) throw new ToolError(err.message);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'ELOOP') throw new ToolError(`Not a file: ${relative}`);
    throw err;
  }
}

async function kindOf(absolute: string): Promise<'file' | 'dir' | 'other' | 'none'> {
  try {
    const s = await lstat(absolute);
    return s.isFile() || s.isSymbolicLink() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
}

const PATH = z.string().min(1).max(4096).describe('Path under the root, with "/" separators');

/** The write tools of a mount (announcing changes themselves when the mount does not watch). */
export function writeTools(options: ResolvedFilesOptions, root: FileRoot): ToolSpec[] {
  const announce = (ctx: HandlerContext, relative: string, membership: boolean): void => {
    if (options.watch) return; // the watcher announces what reached the disk
    ctx.emitChange({ type: 'resources/updated', uri: uriOf(options.baseUri, relative) });
    if (membership) ctx.emitChange({ type: 'resources/list_changed' });
  };
  const write = defineTool({
    name: `${options.name}_write_file`,
    title: `Write a file (${options.name})`,
    description: `Creates or replaces a file under ${options.baseUri} (parent folders are created).`,
    input: z.object({
      path: PATH,
      content: z.string(),
      encoding: z.enum(['utf8', 'base64']).default('utf8'),
    }),
    output: z.object({ uri: z.string(), bytes: z.number(), created: z.boolean() }),
    annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    handler: async ({ path: relative, content, encoding }, ctx) => {
      const bytes = Buffer.from(content, encoding);
      if (bytes.length > options.maxBytes) {
        throw new ToolError(`Content too large: ${bytes.length} bytes (limit ${options.maxBytes})`);
      }
      const absolute = await resolveForTool(root, relative);
      const kind = await kindOf(absolute);
      if (kind === 'dir' || kind === 'other') throw new ToolError(`Not a file: ${relative}`);
      await mkdir(path.dirname(absolute), { recursive: true });
      await writeFile(absolute, bytes);
      announce(ctx, relative, kind === 'none');
      return {
        uri: uriOf(options.baseUri, relative),
        bytes: bytes.length,
        created: kind === 'none',
      };
    },
  });
  const remove = defineTool({
    name: `${options.name}_delete_file`,
    title: `Delete a file (${options.name})`,
    description: `Deletes a file under ${options.baseUri}.`,
    input: z.object({ path: PATH }),
    output: z.object({ uri: z.string() }),
    annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    handler: async ({ path: relative }, ctx) => {
      const absolute = await resolveForTool(root, relative);
      const kind = await kindOf(absolute);
      if (kind === 'none') throw new ToolError(`No such file: ${relative}`);
      if (kind !== 'file') throw new ToolError(`Not a file: ${relative}`);
      await unlink(absolute);
      announce(ctx, relative, true);
      return { uri: uriOf(options.baseUri, relative) };
    },
  });
  return [write, remove];
}

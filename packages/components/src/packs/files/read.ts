/** Reading one file of a mount: confinement, size limit, MIME type, text or base64 blob. */
import type { FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ResourceContents } from '@mcp-cluster/protocol';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { HandlerContext } from '@mcp-cluster/server';
import type { FileRoot } from '../../file-root.js';
import { resourceNotFound } from '../../resource.js';
import type { TemplateVariables } from '../../uri-template.js';
import { isTextMimeType, mimeTypeOf } from './mime.js';
import type { ResolvedFilesOptions } from './options.js';

/** Errors of the file system that mean "no such resource" rather than a server fault. */
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR']);

/**
 * The relative path a uri names, or -32602: the `path` variable must be one string, and the
 * uri must not hide a separator as `%2F`/`%5C` (the engine refuses those too; checked again
 * so the pack stays safe wherever its template is matched).
 */
export function pathOf(
  options: Pick<ResolvedFilesOptions, 'baseUri'>,
  uri: string,
  variables: TemplateVariables,
): string {
  const value = variables['path'];
  if (typeof value !== 'string') {
    throw ProtocolError.of('InvalidParams', 'Path not allowed: not a single path', { uri });
  }
  if (/%2F|%5C/i.test(uri.slice(options.baseUri.length))) {
    throw ProtocolError.of('InvalidParams', 'Path not allowed: encoded separator', { uri });
  }
  return value;
}

/**
 * Refuses a uri whose path the mount refuses to read, with the read's error (denied, outside
 * the root, a link leading out): the check of a subscription. A file that does not exist
 * (yet) passes: the watcher announces it when it appears.
 */
export async function checkReadable(
  options: Pick<ResolvedFilesOptions, 'baseUri'>,
  root: FileRoot,
  uri: string,
  variables: TemplateVariables,
): Promise<void> {
  try {
    await root.resolve(pathOf(options, uri, variables));
  } catch (err) {
    if (!NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

/** The contents of the file `uri` names (see the pack README for every error). */
export async function readFileContents(
  options: ResolvedFilesOptions,
  root: FileRoot,
  uri: string,
  variables: TemplateVariables,
  ctx: Pick<HandlerContext, 'era'>,
): Promise<ResourceContents> {
  const relative = pathOf(options, uri, variables);
  let handle: FileHandle;
  try {
    // resolve fails with the file system's error too, e.g. ENOTDIR for `file.txt/x`.
    const absolute = await root.resolve(relative);
    // O_NONBLOCK: a FIFO planted in the tree must not hang the request (then refused below).
    handle = await open(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) throw resourceNotFound(uri, ctx);
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw resourceNotFound(uri, ctx);
    if (info.size > options.maxBytes) throw tooLarge(uri, info.size, options.maxBytes);
    // Read one byte past the limit: a file that grew since stat is refused, not cut.
    const buffer = Buffer.alloc(Math.min(info.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > options.maxBytes) throw tooLarge(uri, length, options.maxBytes);
    const bytes = buffer.subarray(0, length);
    const mimeType = mimeTypeOf(relative, options.mimeTypes);
    if (isTextMimeType(mimeType)) {
      const text = utf8(bytes);
      if (text !== undefined) return { uri, mimeType, text };
    }
    return { uri, mimeType, blob: bytes.toString('base64') };
  } catch (err) {
    if (NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) throw resourceNotFound(uri, ctx);
    throw err;
  } finally {
    await handle.close();
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes as UTF-8 text, or undefined when they are not (then sent as a blob). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** -32602: the file is larger than the mount's `maxBytes`. */
export function tooLarge(uri: string, size: number, maxBytes: number): ProtocolError {
  return ProtocolError.of(
    'InvalidParams',
    `Resource too large: ${size} bytes (limit ${maxBytes})`,
    { uri, size, maxBytes },
  );
}

/**
 * The `files` pack: a directory tree served as resources under one uri prefix, confined by a
 * FileRoot (allow/deny globs, no traversal, no symlink escape), with a size limit, MIME types
 * by extension, paged listing, optional write tools and a watcher announcing changes.
 * `filesPack(options)` may be mounted several times with different names and uri prefixes.
 */
import type { ChangeEvent, ComponentPack } from '@mcp-cluster/server';
import { completeFilePaths } from '../../completions.js';
import { fileRoot } from '../../file-root.js';
import type { FileRoot } from '../../file-root.js';
import { definePack } from '../../pack.js';
import { defineResourceTemplate } from '../../resource.js';
import { mimeTypeOf } from './mime.js';
import type { FilesPackOptions, ResolvedFilesOptions } from './options.js';
import { resolveFilesOptions, uriOf } from './options.js';
import { checkReadable, readFileContents } from './read.js';
import { writeTools } from './tools.js';
import { listFiles } from './tree.js';
import { FilesWatcher } from './watcher.js';

export { DEFAULT_FILES_OPTIONS, resolveFilesOptions, uriOf } from './options.js';
export type { FilesPackOptions, ResolvedFilesOptions } from './options.js';
export { DEFAULT_MIME_TYPE, DEFAULT_MIME_TYPES, isTextMimeType, mimeTypeOf } from './mime.js';
export { DEFAULT_WATCHER_OPTIONS, FilesWatcher } from './watcher.js';
export type { FilesWatcherOptions } from './watcher.js';

/** A mount's resolved options and root: what the pack and a watcher of it share. */
export interface FilesMount {
  readonly options: ResolvedFilesOptions;
  readonly root: FileRoot;
  /** The uri of a relative path. */
  readonly uriOf: (relative: string) => string;
}

/** Resolves a mount; throws a ComponentError for an invalid option. */
export function filesMount(input: FilesPackOptions): FilesMount {
  const options = resolveFilesOptions(input);
  const root = fileRoot({ dir: options.dir, allow: options.allow, deny: options.deny });
  return { options, root, uriOf: (relative) => uriOf(options.baseUri, relative) };
}

/**
 * A watcher of a mount's tree that sends its changes to `emit` (not started): what the pack
 * runs per engine, for an owner that decides elsewhere which process watches.
 */
export function filesWatcher(mount: FilesMount, emit: (event: ChangeEvent) => void): FilesWatcher {
  return new FilesWatcher({
    root: mount.root,
    uriOf: mount.uriOf,
    emit,
    debounceMs: mount.options.debounceMs,
    ...(mount.options.onError !== undefined && { onError: mount.options.onError }),
  });
}

/**
 * The name of the lease whose holder watches a mount's tree in a cluster: the directory and
 * the uri prefix (what the announcements depend on), so workers serving the same directory
 * under the same uris share one watcher, and other mounts get their own.
 */
export function watchLeaseName(mount: FilesMount): string {
  return `files-watch\n${mount.options.baseUri}\n${mount.root.dir}`;
}

/** The `files` pack of one directory (see README.md for every option and error). */
export function filesPack(input: FilesPackOptions | FilesMount): ComponentPack {
  const mount = 'root' in input && 'options' in input ? input : filesMount(input);
  const { options, root } = mount;
  const template = defineResourceTemplate({
    uriTemplate: `${options.baseUri}{+path}`,
    name: options.name,
    title: options.title ?? `Files (${options.name})`,
    description: options.description ?? `Files under ${options.baseUri}`,
    list: async () =>
      (await listFiles(root, options.maxListed)).map((relative) => ({
        uri: mount.uriOf(relative),
        name: relative,
        mimeType: mimeTypeOf(relative, options.mimeTypes),
      })),
    read: (uri, variables, ctx) => readFileContents(options, root, uri, variables, ctx),
    subscribe: (uri, variables) => checkReadable(options, root, uri, variables),
    complete: { path: completeFilePaths(root) },
  });
  return definePack({
    name: options.name,
    components: [template, ...(options.writable ? writeTools(options, root) : [])],
    ...(options.watch && {
      // One watcher per directory in a cluster: only the process leading the lease runs it.
      start: (host) =>
        host.lead(watchLeaseName(mount), async () => {
          const watcher = filesWatcher(mount, (event) => host.emitChange(event));
          try {
            await watcher.start();
          } catch (err) {
            options.onError?.(err as Error);
            await watcher.stop();
            throw err; // the lease goes back: another process (or a later try) may watch
          }
          return () => watcher.stop();
        }),
    }),
  });
}

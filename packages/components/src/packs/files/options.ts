/**
 * Options of `filesPack`: named defaults, then `resolveFilesOptions` normalizes and checks
 * them once, so a bad mount fails at load time, not on the first request.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ComponentError } from '../../errors.js';
import { DEFAULT_MIME_TYPES } from './mime.js';

/** Defaults of FilesPackOptions, written once. */
export const DEFAULT_FILES_OPTIONS = Object.freeze({
  name: 'files',
  scheme: 'file',
  maxBytes: 1024 * 1024,
  maxListed: 10_000,
  writable: false,
  watch: true,
  debounceMs: 100,
});

export interface FilesPackOptions {
  /** The directory served (made absolute against the working directory). Required. */
  readonly dir: string;
  /** Pack name; must differ between mounts (default `files`). */
  readonly name?: string;
  /** Globs a relative path must match one of (default `['**']`). */
  readonly allow?: readonly string[];
  /** Globs no relative path may match, checked first (default none). */
  readonly deny?: readonly string[];
  /**
   * Uri scheme (default `file`). `file` uris name the real location
   * (`file:///srv/docs/a.md`); another scheme names the path under the root
   * (`docs:///a.md`).
   */
  readonly scheme?: string;
  /** The uri every file's uri starts with, overriding `scheme` (e.g. `docs://main/`). */
  readonly baseUri?: string;
  /** Largest file read or written, in bytes (default 1 MiB). */
  readonly maxBytes?: number;
  /** Most files `resources/list` enumerates (default 10,000; the rest are not listed). */
  readonly maxListed?: number;
  /** Extension (`.ext`) → MIME type entries added to the built-in table. */
  readonly mimeTypes?: Readonly<Record<string, string>>;
  /** Adds the `<name>_write_file` and `<name>_delete_file` tools (default false). */
  readonly writable?: boolean;
  /** Watches the tree and announces changes while an engine serves the pack (default true). */
  readonly watch?: boolean;
  /** Quiet time before a burst of file events is announced, in ms (default 100). */
  readonly debounceMs?: number;
  /** Title and description of the resource template. */
  readonly title?: string;
  readonly description?: string;
  /** Told about watcher failures (e.g. the directory vanished); default: ignored. */
  readonly onError?: (err: Error) => void;
}

export interface ResolvedFilesOptions {
  readonly dir: string;
  readonly name: string;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly baseUri: string;
  readonly maxBytes: number;
  readonly maxListed: number;
  readonly mimeTypes: Readonly<Record<string, string>>;
  readonly writable: boolean;
  readonly watch: boolean;
  readonly debounceMs: number;
  readonly title?: string;
  readonly description?: string;
  readonly onError?: (err: Error) => void;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** Pack names become tool-name prefixes: the tool-name alphabet. */
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function invalid(message: string): ComponentError {
  return new ComponentError('INVALID_DEFINITION', `filesPack: ${message}`);
}

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be an integer >= 0`);
  return value;
}

/** The options with defaults applied; throws a ComponentError for an invalid option. */
export function resolveFilesOptions(input: FilesPackOptions): ResolvedFilesOptions {
  const d = DEFAULT_FILES_OPTIONS;
  if (typeof input?.dir !== 'string' || input.dir.length === 0) throw invalid('dir is required');
  const dir = path.resolve(input.dir);
  const name = input.name ?? d.name;
  if (!NAME.test(name)) throw invalid(`name ${JSON.stringify(name)} must be [A-Za-z0-9_.-]+`);
  const scheme = input.scheme ?? d.scheme;
  if (!SCHEME.test(scheme)) throw invalid(`scheme ${JSON.stringify(scheme)} is not a uri scheme`);
  const baseUri = input.baseUri ?? defaultBaseUri(scheme, dir);
  if (
    !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(baseUri) ||
    !baseUri.endsWith('/') ||
    /[{}]/.test(baseUri)
  ) {
    throw invalid(`baseUri ${JSON.stringify(baseUri)} must be an absolute uri ending with "/"`);
  }
  const mimeTypes = { ...DEFAULT_MIME_TYPES };
  for (const [ext, type] of Object.entries(input.mimeTypes ?? {})) {
    if (!/^\.[^./]+$/.test(ext) || typeof type !== 'string' || !type.includes('/')) {
      throw invalid(`mimeTypes entry ${JSON.stringify(ext)} must map ".ext" to "type/subtype"`);
    }
    mimeTypes[ext.toLowerCase()] = type;
  }
  return Object.freeze({
    dir,
    name,
    allow: [...(input.allow ?? ['**'])],
    deny: [...(input.deny ?? [])],
    baseUri,
    maxBytes: positiveInt(input.maxBytes ?? d.maxBytes, 'maxBytes'),
    maxListed: positiveInt(input.maxListed ?? d.maxListed, 'maxListed'),
    mimeTypes: Object.freeze(mimeTypes),
    writable: input.writable ?? d.writable,
    watch: input.watch ?? d.watch,
    debounceMs: positiveInt(input.debounceMs ?? d.debounceMs, 'debounceMs'),
    ...(input.title !== undefined && { title: input.title }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.onError !== undefined && { onError: input.onError }),
  });
}

/** `file:` names the directory itself; other schemes start at the root (`docs:///`). */
function defaultBaseUri(scheme: string, dir: string): string {
  if (scheme.toLowerCase() !== 'file') return `${scheme}:///`;
  const href = pathToFileURL(dir).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** The uri of `relative` (a plain `/`-separated path): each segment percent-encoded. */
export function uriOf(baseUri: string, relative: string): string {
  return baseUri + relative.split('/').map(encodeURIComponent).join('/');
}

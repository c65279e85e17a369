/**
 * MIME types by file extension: a small closed table (no database lookup), extended per mount
 * with `mimeTypes`. Whether contents go out as `text` or base64 `blob` follows the type.
 */

/** Extension (lower case, with the dot) → MIME type. Unknown extensions are octet streams. */
export const DEFAULT_MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.cjs': 'text/javascript',
  '.ts': 'text/x-typescript',
  '.py': 'text/x-python',
  '.sh': 'text/x-shellscript',
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.toml': 'application/toml',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/vnd.microsoft.icon',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
});

export const DEFAULT_MIME_TYPE = 'application/octet-stream';

/** Non-`text/*` types whose contents are text. */
const TEXT_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/jsonl',
  'application/yaml',
  'application/toml',
  'application/xml',
  'application/javascript',
  'image/svg+xml',
]);

/** The MIME type of `relative` by its extension (case-insensitive). */
export function mimeTypeOf(relative: string, table: Readonly<Record<string, string>>): string {
  const base = relative.slice(relative.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_MIME_TYPE;
  return table[base.slice(dot).toLowerCase()] ?? DEFAULT_MIME_TYPE;
}

/** Whether contents of `mimeType` are sent as `text` (else as a base64 `blob`). */
export function isTextMimeType(mimeType: string): boolean {
  return mimeType.startsWith('text/') || TEXT_TYPES.has(mimeType) || mimeType.endsWith('+json');
}

/**
 * `builtin:files?dir=/srv/docs&name=docs&scheme=docs&deny=private/**` — the files pack from a
 * pack reference's query string, so configuration that lists pack references can mount it
 * (several times, with different names) without a module of its own.
 */
import type { ComponentPack } from '@mcp-cluster/server';
import { ComponentError } from '../../errors.js';
import type { FilesPackOptions } from './options.js';
import { filesPack } from './index.js';

const KEYS = new Set([
  'dir',
  'name',
  'scheme',
  'baseUri',
  'allow',
  'deny',
  'maxBytes',
  'maxListed',
  'writable',
  'watch',
  'debounceMs',
]);

function invalid(message: string): ComponentError {
  return new ComponentError('PACK_INVALID', `builtin:files: ${message}`);
}

function flag(params: URLSearchParams, key: string): boolean | undefined {
  const v = params.get(key);
  if (v === null) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`${key} must be true or false`);
}

function int(params: URLSearchParams, key: string): number | undefined {
  const v = params.get(key);
  if (v === null) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw invalid(`${key} must be a non-negative integer`);
  return Number(v);
}

/** Globs: the parameter repeated, or one value with commas (`deny=a/**,b/**`). */
function globs(params: URLSearchParams, key: string): string[] | undefined {
  const values = params.getAll(key);
  if (values.length === 0) return undefined;
  return values.flatMap((v) => v.split(',')).filter((g) => g.length > 0);
}

/** The files pack a `builtin:files?...` query describes. Throws a ComponentError. */
export function filesPackFromQuery(params: URLSearchParams): ComponentPack {
  for (const key of params.keys()) {
    if (!KEYS.has(key)) throw invalid(`unknown option ${JSON.stringify(key)}`);
  }
  const dir = params.get('dir');
  if (dir === null || dir === '') throw invalid('dir is required (builtin:files?dir=/path)');
  const options: FilesPackOptions = {
    dir,
    ...optional('name', params.get('name')),
    ...optional('scheme', params.get('scheme')),
    ...optional('baseUri', params.get('baseUri')),
    ...optional('allow', globs(params, 'allow')),
    ...optional('deny', globs(params, 'deny')),
    ...optional('maxBytes', int(params, 'maxBytes')),
    ...optional('maxListed', int(params, 'maxListed')),
    ...optional('writable', flag(params, 'writable')),
    ...optional('watch', flag(params, 'watch')),
    ...optional('debounceMs', int(params, 'debounceMs')),
  };
  return filesPack(options);
}

function optional<K extends string, V>(key: K, value: V | null | undefined): Partial<Record<K, V>> {
  return value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

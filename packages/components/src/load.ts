/**
 * loadPacks: resolves pack references from configuration. A reference is `builtin:<name>`
 * or a path / URL of an ES module whose default export is a ComponentPack (or an array).
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ComponentPack } from '@mcp-cluster/server';
import { ComponentError } from './errors.js';
import { isComponentPack } from './pack.js';

/** Built-in packs, imported only when asked for. */
const BUILTINS: Readonly<Record<string, () => Promise<ComponentPack>>> = {
  conformance: async () => (await import('./packs/conformance/index.js')).conformancePack,
};

export const BUILTIN_PACKS: readonly string[] = Object.keys(BUILTINS);

export interface LoadPacksOptions {
  /** Base directory of relative paths; default `process.cwd()`. */
  readonly cwd?: string;
}

/** Loads every reference, in order. Throws a ComponentError naming the bad reference. */
export async function loadPacks(
  refs: readonly string[],
  options: LoadPacksOptions = {},
): Promise<ComponentPack[]> {
  const cwd = options.cwd ?? process.cwd();
  const packs: ComponentPack[] = [];
  const names = new Map<string, string>();
  for (const ref of refs) {
    for (const pack of await loadOne(ref, cwd)) {
      const other = names.get(pack.name);
      if (other !== undefined) {
        throw new ComponentError(
          'PACK_INVALID',
          `pack ${JSON.stringify(pack.name)} from ${ref} is already loaded (from ${other})`,
        );
      }
      names.set(pack.name, ref);
      packs.push(pack);
    }
  }
  return packs;
}

async function loadOne(ref: string, cwd: string): Promise<ComponentPack[]> {
  if (ref.startsWith('builtin:')) {
    const name = ref.slice('builtin:'.length);
    const load = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
    if (!load) {
      throw new ComponentError(
        'PACK_NOT_FOUND',
        `unknown built-in pack ${JSON.stringify(ref)} (available: ${BUILTIN_PACKS.map((n) => `builtin:${n}`).join(', ')})`,
      );
    }
    return [await load()];
  }
  const url = await moduleUrl(ref, cwd);
  let mod: unknown;
  try {
    mod = await import(url);
  } catch (cause) {
    throw new ComponentError(
      'PACK_LOAD_FAILED',
      `pack module ${ref} failed to load: ${describe(cause)}`,
      {
        cause,
      },
    );
  }
  const exported = (mod as { default?: unknown }).default;
  const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
  if (exported === undefined) {
    throw new ComponentError(
      'PACK_INVALID',
      `pack module ${ref} has no default export (expected definePack(...))`,
    );
  }
  if (list.length === 0 || !list.every(isComponentPack)) {
    throw new ComponentError(
      'PACK_INVALID',
      `pack module ${ref}: the default export must be a pack made with definePack (or an array of them)`,
    );
  }
  return list;
}

async function moduleUrl(ref: string, cwd: string): Promise<string> {
  // Absolute URLs (file:, data:, ...) pass through; a Windows drive letter is a path.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(ref)) return ref;
  const path = isAbsolute(ref) ? ref : resolve(cwd, ref);
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a file');
  } catch (cause) {
    throw new ComponentError('PACK_NOT_FOUND', `pack module ${ref} not found (looked at ${path})`, {
      cause,
    });
  }
  return pathToFileURL(path).href;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * loadPacks: resolves pack references from configuration. A reference is `builtin:<name>`
 * or a path / URL of an ES module whose default export is a ComponentPack (or an array).
 */
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ComponentPack } from '@mcp-cluster/server';
import { ComponentError } from './errors.js';
import { isComponentPack } from './pack.js';

/**
 * Built-in packs, imported only when asked for. A reference may carry options as a query
 * (`builtin:files?dir=/srv/docs&name=docs`); packs without options refuse one.
 */
const BUILTINS: Readonly<Record<string, (params: URLSearchParams) => Promise<ComponentPack>>> = {
  conformance: async (params) => {
    if ([...params.keys()].length > 0) {
      throw new ComponentError('PACK_INVALID', 'builtin:conformance takes no options');
    }
    return (await import('./packs/conformance/index.js')).conformancePack;
  },
  files: async (params) => (await import('./packs/files/builtin.js')).filesPackFromQuery(params),
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
    const rest = ref.slice('builtin:'.length);
    const query = rest.indexOf('?');
    const name = query < 0 ? rest : rest.slice(0, query);
    const params = new URLSearchParams(query < 0 ? '' : rest.slice(query + 1));
    const load = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
    if (!load) {
      throw new ComponentError(
        'PACK_NOT_FOUND',
        `unknown built-in pack ${JSON.stringify(ref)} (available: ${BUILTIN_PACKS.map((n) => `builtin:${n}`).join(', ')})`,
      );
    }
    return [await load(params)];
  }
  const url = await moduleUrl(ref, cwd);
  let mod: unknown;
  try {
    mod = await import(url);
  } catch (cause) {
    throw new ComponentError('PACK_LOAD_FAILED', loadFailure(ref, url, cause), { cause });
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

/**
 * The file a pack reference given as a path names, resolved against `cwd`; undefined for a
 * reference that is a URL (file:, data:, ...), which loads as it is. A Windows drive letter is
 * a path. Built-in references (`builtin:<name>`) are not paths either.
 */
export function packModulePath(ref: string, cwd: string): string | undefined {
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(ref)) return undefined;
  return isAbsolute(ref) ? ref : resolve(cwd, ref);
}

async function moduleUrl(ref: string, cwd: string): Promise<string> {
  const path = packModulePath(ref, cwd);
  if (path === undefined) return ref;
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

/**
 * One line saying why a pack module did not load: a package its folder lacks, a syntax
 * error with its `file:line`, or the module's own error.
 */
function loadFailure(ref: string, url: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const missing = /^Cannot find package '([^']+)' imported from (.+)$/m.exec(message);
  if (code === 'ERR_MODULE_NOT_FOUND' && missing) {
    const [, name, from] = missing as unknown as [string, string, string];
    const folder = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
    return `pack module ${ref} imports package '${name}', which is not installed for ${from}: install it in the pack's folder (${folder}), e.g. npm install ${name}`;
  }
  // A .ts pack in a folder whose package.json does not say "type": "module" (or has none).
  if (/Cannot require\(\) ES Module .* in a cycle/.test(message)) {
    return `pack module ${ref} is an ES module loaded as CommonJS: add a package.json with "type": "module" to the pack's folder, or name it .mts`;
  }
  // esbuild (tsx, .ts packs): "Transform failed with 1 error:\n<file>:<line>:<col>: ERROR: <text>".
  const transform = /^(.+:\d+:\d+): ERROR: (.+)$/m.exec(message);
  if (message.startsWith('Transform failed') && transform) {
    return `pack module ${ref} has a syntax error at ${transform[1]}: ${transform[2]}`;
  }
  if (err instanceof SyntaxError) {
    const at = syntaxErrorAt(url);
    const where = at === undefined ? '' : ` at ${at}`;
    return `pack module ${ref} has a syntax error${where}: ${oneLine(message)}`;
  }
  return `pack module ${ref} failed to load: ${oneLine(message)}`;
}

/**
 * `<file>:<line>` of a JavaScript pack's syntax error: Node does not put it on the error of a
 * dynamic import, `node --check` prints it first. Undefined when the error is elsewhere.
 */
function syntaxErrorAt(url: string): string | undefined {
  if (!url.startsWith('file:') || !/\.[cm]?js$/.test(url)) return undefined;
  const path = fileURLToPath(url);
  const checked = spawnSync(process.execPath, ['--check', path], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  const first = checked.stderr?.split('\n')[0] ?? '';
  const at = /^(.+):(\d+)$/.exec(first);
  return at ? `${at[1]}:${at[2]}` : undefined;
}

/** Joins a multi-line message into one line. */
function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length <= 1 ? text.trim() : `${lines[0]} ${lines.slice(1).join(' ')}`.trim();
}

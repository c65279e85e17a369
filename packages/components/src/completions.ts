/**
 * Ready-made completers a pack author attaches to any argument (`complete: { arg: … }` of a
 * prompt or a resource template): paths under a FileRoot, and the names of the tools,
 * prompts and resources the caller may use.
 *
 * Every completer matches a case-sensitive prefix (`Re` completes `README.md`, not
 * `readme.txt`), as in the spec's examples, and returns all its matches sorted by code unit,
 * so the same request always gets the same answer; the engine sends the first 100 with
 * `total` and `hasMore`.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Completer, CompletionListMethod } from '@mcp-cluster/server';
import type { FileRoot } from './file-root.js';

export interface FilePathCompletionOptions {
  /** Offer directories only (for an argument that names a folder). Default false. */
  readonly directoriesOnly?: boolean;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A segment that is, or percent-decodes to, `.`/`..` or something holding a separator. */
function isTraversal(segment: string): boolean {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // Not valid percent-encoding: the name is taken literally.
  }
  return decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded);
}

/**
 * The typed value split into the directory to list and the partial name in it, or undefined
 * when the value could name something outside the root (absolute, `..`, encoded traversal,
 * backslash, NUL, empty segment). Nothing is normalized: what is checked is what is listed.
 */
function splitTyped(value: string): { dir: string[]; partial: string } | undefined {
  if (value.startsWith('/') || value.includes('\\') || value.includes('\0')) return undefined;
  const dir = value.split('/');
  const partial = dir.pop() ?? '';
  if (dir.some((s) => s === '' || isTraversal(s))) return undefined;
  if (partial !== '' && partial !== '.' && isTraversal(partial)) return undefined;
  return { dir, partial };
}

/**
 * Completes a path under `root`, one segment at a time: `guides/fi` lists the directory
 * `guides` and offers its entries starting with `fi`, directories ending with `/`. Only
 * entries the root's globs admit are offered (a directory when something below it may be);
 * a symbolic link is offered only when its real path is inside the root and admitted too.
 * A value that could reach outside the root (`..`, absolute, `%2e%2e`, `\`) gets no values,
 * and a file system error gets none either: no host path ever appears in an answer.
 */
export function completeFilePaths(
  root: FileRoot,
  options: FilePathCompletionOptions = {},
): Completer {
  const directoriesOnly = options.directoriesOnly ?? false;
  let realRoot: Promise<string> | undefined;

  /** Every directory on the way to `segments` (inclusive) may hold admitted paths. */
  const dirVisible = (segments: readonly string[]): boolean =>
    segments.every((_, i) => root.admitsDirectory(segments.slice(0, i + 1).join('/')));
  const fileVisible = (rel: string): boolean =>
    root.admits(rel) && dirVisible(rel.split('/').slice(0, -1));

  /** The real path of `absolute` relative to the real root, if it is inside; else undefined. */
  const targetOf = (base: string, real: string): string | undefined =>
    isInside(base, real) ? path.relative(base, real).split(path.sep).join('/') : undefined;

  const offer = async (
    base: string,
    absolute: string,
    rel: string,
  ): Promise<string | undefined> => {
    let real: string;
    let isDir: boolean;
    try {
      real = await realpath(absolute);
      const info = await stat(real);
      if (!info.isDirectory() && !info.isFile()) return undefined;
      isDir = info.isDirectory();
    } catch {
      return undefined; // vanished, unreadable, or a dangling link
    }
    const target = targetOf(base, real);
    if (target === undefined || target === '') return undefined;
    if (isDir) {
      const ok = dirVisible(rel.split('/')) && (target === rel || dirVisible(target.split('/')));
      return ok ? `${rel}/` : undefined;
    }
    if (directoriesOnly) return undefined;
    return fileVisible(rel) && (target === rel || fileVisible(target)) ? rel : undefined;
  };

  return async (value) => {
    const typed = splitTyped(value);
    if (typed === undefined || !dirVisible(typed.dir)) return [];
    let base: string;
    try {
      base = await (realRoot ??= realpath(root.dir));
    } catch {
      realRoot = undefined;
      return [];
    }
    const dirRel = typed.dir.join('/');
    const absDir = path.join(root.dir, ...typed.dir);
    let names: string[];
    try {
      // The listed directory, reached through links or not, must lead somewhere admitted.
      const target = targetOf(base, await realpath(absDir));
      if (target === undefined) return [];
      if (target !== dirRel && target !== '' && !dirVisible(target.split('/'))) return [];
      names = await readdir(absDir);
    } catch {
      return [];
    }
    // A name the completer would refuse once typed (`%2e%2e`) is not offered either.
    const candidates = names
      .filter((n) => n.startsWith(typed.partial) && !isTraversal(n))
      .sort(byCodeUnit);
    const offered = await Promise.all(
      candidates.map((name) =>
        offer(base, path.join(absDir, name), dirRel === '' ? name : `${dirRel}/${name}`),
      ),
    );
    return offered.filter((v): v is string => v !== undefined);
  };
}

/** Distinct string `key`s of the caller's visible `method` items that start with the value. */
function namesOf(method: CompletionListMethod, key: string): Completer {
  return async (value, ctx) => {
    const items = (await ctx.list?.(method)) ?? [];
    const names = new Set<string>();
    for (const item of items) {
      const name = item[key];
      if (typeof name === 'string' && name.startsWith(value)) names.add(name);
    }
    return [...names].sort(byCodeUnit);
  };
}

/** Completes the name of a tool the caller may call (what its `tools/list` shows). */
export function completeToolNames(): Completer {
  return namesOf('tools/list', 'name');
}

/** Completes the name of a prompt the caller may get (what its `prompts/list` shows). */
export function completePromptNames(): Completer {
  return namesOf('prompts/list', 'name');
}

/** Completes the uri of a resource the caller may read (what its `resources/list` shows). */
export function completeResourceUris(): Completer {
  return namesOf('resources/list', 'uri');
}

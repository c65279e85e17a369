/**
 * Files under a root directory, for resource templates and tools that take a path from a
 * client: `fileRoot({ dir, allow, deny }).resolve(variables.path)` is the absolute path of a
 * file inside `dir` that the globs admit, or a -32602 error. Traversal cannot get out:
 *
 * - the relative path must be plain: no `.`/`..` segment, no leading `/`, no `\`, no NUL,
 *   no empty segment (nothing is normalized, so what was checked is what is opened);
 * - `deny` globs are checked before `allow` globs (default allow: everything), on the
 *   relative path with `/` separators: `*` is one segment's characters, `**` any number of
 *   segments, `?` one character;
 * - symbolic links are followed: the real path must still be inside the root's real path
 *   (a link to `/etc` refused) and be admitted by the globs too; a path that does not exist
 *   yet is checked through its nearest existing parent.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ProtocolError } from '@mcp-cluster/protocol';

export interface FileRootOptions {
  /** The root directory (made absolute against the working directory). */
  readonly dir: string;
  /** Globs a relative path must match one of (default `['**']`). */
  readonly allow?: readonly string[];
  /** Globs no relative path may match (checked first). */
  readonly deny?: readonly string[];
}

export interface FileRoot {
  /** The root directory, absolute. */
  readonly dir: string;
  /** The absolute path of `relative` inside the root; throws -32602 when it is not allowed. */
  resolve(relative: string): Promise<string>;
  /** Whether `relative` is a plain relative path the globs admit (no file system access). */
  admits(relative: string): boolean;
  /**
   * Whether the directory `relative` may hold admitted paths (no file system access): it is
   * plain, no deny glob matches it or everything under it, and an allow glob could match
   * below it. For completers offering directories to descend into.
   */
  admitsDirectory(relative: string): boolean;
}

/** A glob (`*`, `**`, `?`) as an anchored RegExp over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` matches the rest.
      if (glob[i + 2] === '/') {
        source += '(?:[^/]+/)*';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') {
      source += '[^/]*';
    } else if (c === '?') {
      source += '[^/]';
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether `glob` could match a path below the directory `segments`: each of its leading
 * segments matches the directory's, with a segment left over; a `**` gives up and says yes.
 */
function mayMatchBelow(glob: string, segments: readonly string[]): boolean {
  const parts = glob.split('/');
  for (const [i, seg] of segments.entries()) {
    const part = parts[i];
    if (part === undefined) return false;
    if (part.includes('**')) return true;
    if (!globToRegExp(part).test(seg)) return false;
  }
  return parts.length > segments.length;
}

function notAllowed(relative: string, why: string): ProtocolError {
  return ProtocolError.of('InvalidParams', `Path not allowed: ${why}`, { path: relative });
}

/** Why `relative` is not a plain relative path, or undefined. */
function plainPathProblem(relative: string): string | undefined {
  if (relative === '') return 'empty path';
  if (relative.includes('\0')) return 'NUL in path';
  if (relative.includes('\\')) return 'backslash in path';
  if (relative.startsWith('/')) return 'absolute path';
  for (const seg of relative.split('/')) {
    if (seg === '.' || seg === '..') return 'dot segment in path';
    if (seg === '') return 'empty segment in path';
  }
  return undefined;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The real path of `p`, or of its nearest existing parent joined with the rest. */
async function realpathOrParent(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    const parent = path.dirname(p);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw err;
    return path.join(await realpathOrParent(parent), path.basename(p));
  }
}

/** Files under `options.dir`, admitted by its globs (see the module comment). */
export function fileRoot(options: FileRootOptions): FileRoot {
  const dir = path.resolve(options.dir);
  const allowGlobs = options.allow ?? ['**'];
  const allow = allowGlobs.map(globToRegExp);
  const deny = (options.deny ?? []).map(globToRegExp);
  let realDir: Promise<string> | undefined;
  const problem = (relative: string): string | undefined => {
    const plain = plainPathProblem(relative);
    if (plain !== undefined) return plain;
    if (deny.some((re) => re.test(relative))) return 'denied';
    if (!allow.some((re) => re.test(relative))) return 'not allowed';
    return undefined;
  };
  return {
    dir,
    admits: (relative) => problem(relative) === undefined,
    admitsDirectory(relative) {
      if (plainPathProblem(relative) !== undefined) return false;
      // `private/**` covers everything under `private` (it matches `private/`).
      if (deny.some((re) => re.test(relative) || re.test(`${relative}/`))) return false;
      const segments = relative.split('/');
      return allowGlobs.some((g) => mayMatchBelow(g, segments));
    },
    async resolve(relative) {
      const why = problem(relative);
      if (why !== undefined) throw notAllowed(String(relative), why);
      const absolute = path.join(dir, ...relative.split('/'));
      realDir ??= realpath(dir);
      const [root, real] = await Promise.all([realDir, realpathOrParent(absolute)]);
      if (!isInside(root, real)) throw notAllowed(relative, 'outside the root');
      // A link inside the root is judged by where it leads, too (a deny glob holds for it).
      const target = path.relative(root, real).split(path.sep).join('/');
      if (target !== '' && target !== relative) {
        const via = problem(target);
        if (via !== undefined) throw notAllowed(relative, `link target ${via}`);
      }
      return absolute;
    },
  };
}

/**
 * The repository stands alone: no file refers to a `shared` folder beside the checkout (the
 * place reference material sometimes lives next to a clone). A fresh clone has no such
 * folder, so anything that reads it breaks `pnpm test` for everyone else.
 *
 * Checked: every file git knows about (tracked, or new and not ignored); without git, every
 * file under the root except dependencies and build output. A relative path that climbs into
 * a folder named `shared` is allowed only when that folder exists inside the repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', '.tmp', 'dist', 'coverage']);
const NAME = 'shared';

/** One or more parent steps, then the folder name as a whole segment (not `<name>-utils`). */
const RELATIVE = new RegExp(String.raw`(?:\.\.[\\/])+${NAME}(?![\w-]|\.\w)`, 'g');
/** The same path spelt as `path.join` arguments: a quoted parent step, then the quoted name. */
const SEGMENTS = new RegExp(String.raw`(['"\x60])\.\.\1\s*,\s*(['"\x60])${NAME}\2`, 'g');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : walk(full);
    return entry.isFile() ? [path.relative(ROOT, full)] : [];
  });
}

function repositoryFiles(): string[] {
  try {
    const out = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return out.split('\0').filter((f) => f !== '' && existsSync(path.join(ROOT, f)));
  } catch {
    return walk(ROOT); // not a git checkout (an unpacked archive, a copy)
  }
}

const insideRepo = (p: string): boolean => {
  const rel = path.relative(ROOT, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** The offending references in one file's text, as `line: excerpt`. */
function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(RELATIVE)) {
    const target = path.resolve(path.dirname(path.join(ROOT, file)), m[0]);
    if (insideRepo(target) && existsSync(target)) continue; // a real folder of this repository
    found.push(`${lineOf(m.index)}: ${m[0]}`);
  }
  for (const m of text.matchAll(SEGMENTS)) found.push(`${lineOf(m.index)}: ${m[0]}`);
  return found;
}

describe('the repository stands alone', () => {
  it('recognizes references to a sibling folder, and only those', () => {
    const up = (n: number): string => '../'.repeat(n);
    const hits = (text: string): number => outsideReferences('docs/x.md', text).length;
    expect(hits(`see ${up(1)}${NAME}/ARCHITECTURE.md`)).toBe(1);
    expect(hits(`\`${up(1)}${NAME}\``)).toBe(1);
    expect(hits(`resolve(dir, '${up(4)}${NAME}/mcp-schema')`)).toBe(1);
    expect(hits(`<repo>/${up(1)}${NAME}/mcp-schema`)).toBe(1);
    expect(hits(`path.resolve(ROOT, '..', '${NAME}', 'x')`)).toBe(1);
    expect(hits(`..\\${NAME}\\x`)).toBe(1);
    expect(hits(`next to the checkout, in ${up(1)}${NAME}.`)).toBe(1);
    // Not references to a sibling folder:
    expect(hits(`import x from '${up(1)}${NAME}-utils.js'`)).toBe(0);
    expect(hits(`import x from '${up(1)}${NAME}State.js'`)).toBe(0);
    expect(hits(`[notes](${up(1)}${NAME}.md)`)).toBe(0);
    expect(hits(`the ${NAME} state key; ${NAME}/transport.js; SHARED_STATE_KEY_ID`)).toBe(0);
    expect(hits(`[bench](${up(1)}test/bench/run.ts)`)).toBe(0);
  });

  it('has no file that refers to a folder beside the repository', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), 'utf8');
      } catch {
        continue;
      }
      if (text.includes('\0')) continue; // binary
      for (const ref of outsideReferences(file, text)) offenders.push(`${file}:${ref}`);
    }
    expect(offenders, 'paths outside the repository (vendor what is needed instead)').toEqual([]);
  });
});

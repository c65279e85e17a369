/**
 * Every relative link in the repository's Markdown files points at a file or folder that
 * exists, inside the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', '.tmp', 'dist', 'coverage']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) {
      return SKIP_DIRS.has(entry.name) ? [] : markdownFiles(path.join(dir, entry.name));
    }
    return entry.isFile() && entry.name.endsWith('.md') ? [path.join(dir, entry.name)] : [];
  });
}

/** Link targets of inline links `[text](target "title")` and definitions `[id]: target`. */
function linkTargets(markdown: string): string[] {
  const text = markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '') // fenced code blocks
    .replace(/`[^`\n]*`/g, ''); // inline code
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)];
  const defs = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)];
  return [...inline, ...defs].map((m) => m[1] ?? '');
}

const isRelative = (target: string): boolean =>
  target !== '' && !target.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(target);

interface Link {
  readonly file: string;
  readonly target: string;
  readonly resolved: string;
}

const links: Link[] = markdownFiles(ROOT).flatMap((file) =>
  linkTargets(readFileSync(file, 'utf8'))
    .filter(isRelative)
    .map((target) => {
      const pathPart = decodeURI(target.split('#')[0] ?? '');
      const resolved = pathPart.startsWith('/')
        ? path.join(ROOT, pathPart)
        : path.resolve(path.dirname(file), pathPart);
      return { file: path.relative(ROOT, file), target, resolved };
    }),
);

const insideRepo = (p: string): boolean => {
  const rel = path.relative(ROOT, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

describe('Markdown links', () => {
  it('finds the links of inline and reference style, outside code', () => {
    expect(
      linkTargets(
        [
          'See [a](./a.md), [b](b/c.ts#L3 "title") and [web](https://example.com).',
          '`[not](code.md)`',
          '```',
          '[not](fenced.md)',
          '```',
          '[ref]: ../ref.md',
        ].join('\n'),
      ),
    ).toEqual(['./a.md', 'b/c.ts#L3', 'https://example.com', '../ref.md']);
  });

  it('are checked in the repository', () => {
    expect(links.length).toBeGreaterThan(0);
  });

  it('point at files that exist', () => {
    // Links leaving the repository are the next test's concern.
    const broken = links
      .filter((l) => insideRepo(l.resolved) && !existsSync(l.resolved))
      .map((l) => `${l.file}: ${l.target}`);
    expect(broken).toEqual([]);
  });

  it('stay inside the repository', () => {
    const outside = links
      .filter((l) => !insideRepo(l.resolved))
      .map((l) => `${l.file}: ${l.target}`);
    expect(outside).toEqual([]);
  });
});

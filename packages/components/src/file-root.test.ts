import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import { fileRoot, globToRegExp } from './file-root.js';

const top = mkdtempSync(path.join(tmpdir(), 'file-root-'));
const root = path.join(top, 'root');
mkdirSync(path.join(root, 'public', 'docs'), { recursive: true });
mkdirSync(path.join(root, 'secret'), { recursive: true });
writeFileSync(path.join(root, 'public', 'readme.md'), 'hello');
writeFileSync(path.join(root, 'public', 'docs', 'a.txt'), 'a');
writeFileSync(path.join(root, 'secret', 'key'), 'k');
writeFileSync(path.join(top, 'outside'), 'o');
symlinkSync(path.join(top, 'outside'), path.join(root, 'public', 'escape'));
symlinkSync(path.join(root, 'secret', 'key'), path.join(root, 'public', 'to-secret'));
symlinkSync(top, path.join(root, 'public', 'up'));

afterAll(() => rmSync(top, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(-32602);
    return (err as ProtocolError).message;
  }
  throw new Error('expected a refusal');
}

describe('globToRegExp', () => {
  it('matches *, ** and ? on / separated paths', () => {
    expect(globToRegExp('public/**').test('public/docs/a.txt')).toBe(true);
    expect(globToRegExp('public/*').test('public/docs/a.txt')).toBe(false);
    expect(globToRegExp('**/*.md').test('readme.md')).toBe(true);
    expect(globToRegExp('**/*.md').test('a/b/readme.md')).toBe(true);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('a/c')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('fileRoot', () => {
  const files = fileRoot({ dir: root, allow: ['public/**'], deny: ['**/*.key', 'secret/**'] });

  it('resolves plain relative paths the globs admit', async () => {
    expect(await files.resolve('public/readme.md')).toBe(path.join(root, 'public', 'readme.md'));
    expect(await files.resolve('public/docs/a.txt')).toBe(
      path.join(root, 'public', 'docs', 'a.txt'),
    );
    // A file that does not exist yet, checked through its parent.
    expect(await files.resolve('public/new/file.txt')).toBe(
      path.join(root, 'public', 'new', 'file.txt'),
    );
  });

  it('refuses traversal in every spelling without normalizing it', async () => {
    for (const [p, why] of [
      ['public/../secret/key', 'dot segment in path'],
      ['../outside', 'dot segment in path'],
      ['public/./readme.md', 'dot segment in path'],
      ['/etc/passwd', 'absolute path'],
      ['public\\..\\secret\\key', 'backslash in path'],
      ['public/readme.md\0.txt', 'NUL in path'],
      ['public//readme.md', 'empty segment in path'],
      ['', 'empty path'],
    ] as const) {
      expect(await refusal(files.resolve(p))).toBe(`Path not allowed: ${why}`);
      expect(files.admits(p)).toBe(false);
    }
  });

  it('applies deny before allow', async () => {
    expect(await refusal(files.resolve('secret/key'))).toBe('Path not allowed: denied');
    expect(await refusal(files.resolve('public/x.key'))).toBe('Path not allowed: denied');
    expect(await refusal(files.resolve('other/file'))).toBe('Path not allowed: not allowed');
    expect(files.admits('public/readme.md')).toBe(true);
  });

  it('follows links and judges where they lead', async () => {
    expect(await refusal(files.resolve('public/escape'))).toBe(
      'Path not allowed: outside the root',
    );
    expect(await refusal(files.resolve('public/up/outside'))).toBe(
      'Path not allowed: outside the root',
    );
    expect(await refusal(files.resolve('public/to-secret'))).toBe(
      'Path not allowed: link target denied',
    );
  });
});

/**
 * The ready-made completers: paths under a real temporary folder (links in and out of it,
 * denied globs, traversal attempts), and the registry completers through real
 * completion/complete requests to the engine, capped at 100 values.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JsonObject, JsonRpcResponse } from '@mcp-cluster/protocol';
import type { CompletionContext, Engine, RequestContext } from '@mcp-cluster/server';
import { createEngine, setListFilter } from '@mcp-cluster/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeFilePaths,
  completePromptNames,
  completeResourceUris,
  completeToolNames,
} from './completions.js';
import { fileRoot } from './file-root.js';
import { definePack } from './pack.js';
import { definePrompt } from './prompt.js';
import { defineResource, defineResourceTemplate } from './resource.js';
import { modernClient } from './test-helpers.js';
import { defineTool } from './tool.js';

const NO_ARGS: CompletionContext = { arguments: {} };

let tmp: string;
let dir: string;
let outside: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'mcp-completions-'));
  dir = path.join(tmp, 'root');
  outside = path.join(tmp, 'outside-secret-place');
  const files: Record<string, string> = {
    'README.md': 'r',
    'readme.txt': 'r',
    'notes.md': 'n',
    'guides/first.md': 'f',
    'guides/second.md': 's',
    'guides/deep/x.md': 'x',
    'private/secret.md': 'p',
    '.env': 'SECRET=1',
    '.git/config': 'c',
    '%2e%2e/trap.md': 't',
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  await mkdir(outside);
  await writeFile(path.join(outside, 'passwd.md'), 'root:x:0:0');
  await symlink(outside, path.join(dir, 'link-out'));
  await symlink(path.join(outside, 'passwd.md'), path.join(dir, 'link-out.md'));
  await symlink(path.join(dir, 'guides'), path.join(dir, 'link-guides'));
  await symlink(path.join(dir, 'notes.md'), path.join(dir, 'link-notes.md'));
  await symlink(path.join(dir, 'private', 'secret.md'), path.join(dir, 'link-private.md'));
  await symlink(path.join(dir, 'private'), path.join(dir, 'link-private-dir'));
  await symlink(path.join(tmp, 'nowhere'), path.join(dir, 'dangling.md'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const docs = () => fileRoot({ dir, deny: ['private/**', '**/.*'] });

describe('completeFilePaths', () => {
  it('lists the root, sorted, directories with a trailing slash, links only when inside and admitted', async () => {
    expect(await completeFilePaths(docs())('', NO_ARGS)).toEqual([
      'README.md',
      'guides/',
      'link-guides/',
      'link-notes.md',
      'notes.md',
      'readme.txt',
    ]);
  });

  it('completes segment by segment, with a case-sensitive prefix', async () => {
    const complete = completeFilePaths(docs());
    expect(await complete('gu', NO_ARGS)).toEqual(['guides/']);
    expect(await complete('guides/', NO_ARGS)).toEqual([
      'guides/deep/',
      'guides/first.md',
      'guides/second.md',
    ]);
    expect(await complete('guides/f', NO_ARGS)).toEqual(['guides/first.md']);
    expect(await complete('guides/deep/', NO_ARGS)).toEqual(['guides/deep/x.md']);
    expect(await complete('link-guides/s', NO_ARGS)).toEqual(['link-guides/second.md']);
    expect(await complete('RE', NO_ARGS)).toEqual(['README.md']);
    expect(await complete('re', NO_ARGS)).toEqual(['readme.txt']);
    expect(await complete('guides/nothing', NO_ARGS)).toEqual([]);
    expect(await complete('missing/', NO_ARGS)).toEqual([]);
  });

  it('never reaches outside the root or into denied paths', async () => {
    const complete = completeFilePaths(docs());
    const attempts = [
      '..',
      '../',
      '../outside-secret-place/',
      '../../',
      '/',
      '/etc/',
      '/etc/pass',
      '%2e%2e/',
      '%2e%2e',
      '%2E%2E%2F',
      'guides/../',
      'guides/..',
      'guides/%2e%2e/',
      './',
      'guides//',
      'guides\\..\\',
      'gui\0',
      'link-out/',
      'link-out/pa',
      'link-private-dir/',
      'private/',
      'private/s',
      '.git/',
      '.git/c',
      '.e',
    ];
    for (const value of attempts) {
      const values = await complete(value, NO_ARGS);
      expect({ value, values }).toEqual({ value, values: [] });
    }
  });

  it('filters with the allow globs, and offers a directory only when something below may be admitted', async () => {
    const md = fileRoot({ dir, allow: ['**/*.md'], deny: ['**/.*', 'private/**'] });
    expect(await completeFilePaths(md)('', NO_ARGS)).toEqual([
      'README.md',
      'guides/',
      'link-guides/',
      'link-notes.md',
      'notes.md',
    ]);
    const shallow = fileRoot({ dir, allow: ['guides/*.md'] });
    expect(await completeFilePaths(shallow)('', NO_ARGS)).toEqual(['guides/']);
    expect(await completeFilePaths(shallow)('guides/', NO_ARGS)).toEqual([
      'guides/first.md',
      'guides/second.md',
    ]);
    expect(await completeFilePaths(shallow)('guides/deep/', NO_ARGS)).toEqual([]);
  });

  it('offers only directories when asked', async () => {
    expect(await completeFilePaths(docs(), { directoriesOnly: true })('', NO_ARGS)).toEqual([
      'guides/',
      'link-guides/',
    ]);
  });

  it('answers nothing (and throws nothing) for a root that does not exist', async () => {
    const gone = fileRoot({ dir: path.join(tmp, 'no-such-root') });
    expect(await completeFilePaths(gone)('', NO_ARGS)).toEqual([]);
  });
});

describe('FileRoot.admitsDirectory', () => {
  it('admits a directory that may hold admitted paths, and nothing a deny glob covers', () => {
    const root = fileRoot({ dir, allow: ['docs/**/*.md', 'top/*.txt'], deny: ['docs/private/**'] });
    expect(root.admitsDirectory('docs')).toBe(true);
    expect(root.admitsDirectory('docs/a/b')).toBe(true);
    expect(root.admitsDirectory('top')).toBe(true);
    expect(root.admitsDirectory('top/sub')).toBe(false);
    expect(root.admitsDirectory('src')).toBe(false);
    expect(root.admitsDirectory('docs/private')).toBe(false);
    expect(root.admitsDirectory('docs/private/x')).toBe(false);
    for (const bad of ['', '..', 'docs/..', '/docs', 'docs\\x', 'docs//a']) {
      expect({ bad, ok: root.admitsDirectory(bad) }).toEqual({ bad, ok: false });
    }
  });
});

describe('registry completers without an engine', () => {
  it('answer nothing when the context has no lists', async () => {
    expect(await completeToolNames()('', NO_ARGS)).toEqual([]);
    expect(await completePromptNames()('', NO_ARGS)).toEqual([]);
    expect(await completeResourceUris()('', NO_ARGS)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// End to end: completion/complete through the engine.

function completion(r: JsonRpcResponse): { values: string[]; total: number; hasMore: boolean } {
  if (!('result' in r)) throw new Error(`expected a result: ${JSON.stringify(r)}`);
  return r.result['completion'] as { values: string[]; total: number; hasMore: boolean };
}

describe('completion/complete end to end', () => {
  const engines: Engine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  const tools = Array.from({ length: 150 }, (_, i) =>
    defineTool({
      name: `tool-${String(149 - i).padStart(3, '0')}`,
      description: 'numbered',
      handler: () => 'ok',
    }),
  );
  const serve = (prepare?: (ctx: RequestContext) => void) => {
    const root = docs();
    const pack = definePack({
      name: 'completions',
      components: [
        ...tools,
        defineResource({ uri: 'mem://b', name: 'b', read: () => 'b' }),
        defineResource({ uri: 'mem://a', name: 'a', read: () => 'a' }),
        defineResourceTemplate({
          uriTemplate: 'files://{+path}',
          name: 'files',
          complete: { path: completeFilePaths(root) },
          list: () => [{ uri: 'files://README.md', name: 'readme' }],
          read: () => 'never',
        }),
        definePrompt({
          name: 'pick',
          description: 'picks things',
          arguments: [{ name: 'tool' }, { name: 'prompt' }, { name: 'uri' }, { name: 'path' }],
          complete: {
            tool: completeToolNames(),
            prompt: completePromptNames(),
            uri: completeResourceUris(),
            path: completeFilePaths(root),
          },
          get: () => 'picked',
        }),
        definePrompt({ name: 'other', description: 'another', get: () => 'x' }),
      ],
    });
    const engine = createEngine({ serverInfo: { name: 'test', version: '0' }, packs: [pack] });
    engines.push(engine);
    return modernClient(engine, { prepare });
  };
  const pick = (name: string, value: string) => ({
    ref: { type: 'ref/prompt', name: 'pick' },
    argument: { name, value },
  });

  it('caps tool names at 100, sorted, with total and hasMore', async () => {
    const rpc = serve();
    const all = completion(await rpc('completion/complete', pick('tool', 'tool-')));
    expect(all.values).toHaveLength(100);
    expect(all.values[0]).toBe('tool-000');
    expect(all.values[99]).toBe('tool-099');
    expect(all).toMatchObject({ total: 150, hasMore: true });
    const some = completion(await rpc('completion/complete', pick('tool', 'tool-14')));
    expect(some.values).toEqual(Array.from({ length: 10 }, (_, i) => `tool-14${i}`));
    expect(some).toMatchObject({ total: 10, hasMore: false });
    expect(completion(await rpc('completion/complete', pick('tool', 'TOOL-')))).toEqual({
      values: [],
      total: 0,
      hasMore: false,
    });
  });

  it('completes prompt names and resource uris (templates listings included)', async () => {
    const rpc = serve();
    expect(completion(await rpc('completion/complete', pick('prompt', '')))).toEqual({
      values: ['other', 'pick'],
      total: 2,
      hasMore: false,
    });
    expect(completion(await rpc('completion/complete', pick('uri', '')))).toEqual({
      values: ['files://README.md', 'mem://a', 'mem://b'],
      total: 3,
      hasMore: false,
    });
    expect(completion(await rpc('completion/complete', pick('uri', 'mem://a'))).values).toEqual([
      'mem://a',
    ]);
  });

  it('completes file paths for a template variable and for a prompt argument', async () => {
    const rpc = serve();
    const ref = { type: 'ref/resource', uri: 'files://{+path}' };
    expect(
      completion(
        await rpc('completion/complete', { ref, argument: { name: 'path', value: 'guides/f' } }),
      ),
    ).toEqual({ values: ['guides/first.md'], total: 1, hasMore: false });
    expect(completion(await rpc('completion/complete', pick('path', 'guides/'))).values).toEqual([
      'guides/deep/',
      'guides/first.md',
      'guides/second.md',
    ]);
  });

  it('refuses traversal: the template rule first (-32602), the completer itself for a prompt', async () => {
    const rpc = serve();
    const ref = { type: 'ref/resource', uri: 'files://{+path}' };
    for (const value of ['../', 'guides/../../', 'link-out/', '%2e%2e/', '/etc/']) {
      const r = await rpc('completion/complete', { ref, argument: { name: 'path', value } });
      const text = JSON.stringify(r);
      expect(text).not.toContain(tmp);
      expect(text).not.toContain('outside-secret-place');
      if ('error' in r) expect(r.error.code).toBe(-32602);
      else expect(completion(r).values).toEqual([]);
      expect(completion(await rpc('completion/complete', pick('path', value))).values).toEqual([]);
    }
  });

  it('shows only what the installed list filter lets through', async () => {
    // The filter an authorization layer installs (see the security guard): only even tools,
    // no prompt but `pick`, no `mem://b`.
    const rpc = serve((ctx) =>
      setListFilter(ctx, (method, result) => {
        const field = Object.keys(result)[0] as string;
        const items = result[field] as JsonObject[];
        const keep = (item: JsonObject): boolean => {
          const name = String(item['name']);
          if (method === 'tools/list') return Number(name.slice(5)) % 2 === 0;
          if (method === 'prompts/list') return name === 'pick';
          if (method === 'resources/list') return item['uri'] !== 'mem://b';
          return false;
        };
        return { ...result, [field]: items.filter(keep) };
      }),
    );
    const tools = completion(await rpc('completion/complete', pick('tool', 'tool-')));
    expect(tools).toMatchObject({ total: 75, hasMore: false });
    expect(tools.values.every((v) => Number(v.slice(5)) % 2 === 0)).toBe(true);
    expect(completion(await rpc('completion/complete', pick('prompt', ''))).values).toEqual([
      'pick',
    ]);
    expect(completion(await rpc('completion/complete', pick('uri', ''))).values).toEqual([
      'files://README.md',
      'mem://a',
    ]);
  });
});

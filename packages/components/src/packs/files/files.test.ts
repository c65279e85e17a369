/**
 * The files pack served by the real engine (modern era, in memory) over real temp trees:
 * reading, listing and paging, confinement (traversal in every spelling, symlinks, deny
 * globs), size limit, MIME types, several mounts, write tools and the built-in reference.
 */
import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { ComponentPack, Engine, ResourceTemplateSpec } from '@mcp-cluster/server';
import { createEngine } from '@mcp-cluster/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentError } from '../../errors.js';
import { loadPacks } from '../../load.js';
import { stubContext } from '../../test-helpers.js';
import { client, errorOf, plant, resultOf, tempDir } from './files.testkit.js';
import { filesPack } from './index.js';
import type { FilesPackOptions } from './options.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function serve(...packs: ComponentPack[]) {
  const engine = createEngine({ serverInfo: { name: 'test', version: '0' }, packs });
  engines.push(engine);
  return client(engine);
}

/** A pack without a watcher (these tests do not look at changes). */
const pack = (options: FilesPackOptions): ComponentPack => filesPack({ watch: false, ...options });

const base = (dir: string): string => `${pathToFileURL(dir).href}/`;

describe('files pack: reading and listing', () => {
  it('reads a file by its file:// uri and lists the tree with MIME types', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.md': '# A', 'sub/b.json': '{"b":1}', 'sub/deeper/c.txt': 'c' });
    const rpc = serve(pack({ dir: tmp.dir }));
    const uri = `${base(tmp.dir)}sub/b.json`;
    expect(resultOf(await rpc('resources/read', { uri }))).toMatchObject({
      contents: [{ uri, mimeType: 'application/json', text: '{"b":1}' }],
    });
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed).toEqual([
      { uri: `${base(tmp.dir)}a.md`, name: 'a.md', mimeType: 'text/markdown' },
      { uri: `${base(tmp.dir)}sub/b.json`, name: 'sub/b.json', mimeType: 'application/json' },
      { uri: `${base(tmp.dir)}sub/deeper/c.txt`, name: 'sub/deeper/c.txt', mimeType: 'text/plain' },
    ]);
    expect(resultOf(await rpc('resources/templates/list'))['resourceTemplates']).toEqual([
      expect.objectContaining({ uriTemplate: `${base(tmp.dir)}{+path}`, name: 'files' }),
    ]);
  });

  it('encodes names in uris and reads them back (spaces, #, ?, unicode)', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'my notes/a#1?.txt': 'odd', 'é.txt': 'accent' });
    const rpc = serve(pack({ dir: tmp.dir, scheme: 'docs' }));
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['uri'])).toEqual([
      'docs:///my%20notes/a%231%3F.txt',
      'docs:///%C3%A9.txt',
    ]);
    for (const r of listed) {
      const contents = resultOf(await rpc('resources/read', { uri: r['uri'] as string }));
      expect(contents['contents']).toEqual([expect.objectContaining({ uri: r['uri'] })]);
    }
  });

  it('answers a missing file or a directory with resource-not-found (-32602 modern, -32002 legacy)', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'sub/a.txt': 'a' });
    const rpc = serve(pack({ dir: tmp.dir, scheme: 'docs' }));
    for (const uri of ['docs:///nope.txt', 'docs:///sub', 'docs:///sub/a.txt/x']) {
      expect(errorOf(await rpc('resources/read', { uri }))).toMatchObject({
        code: -32602,
        message: `Resource not found: ${uri}`,
        data: { uri },
      });
    }
    const template = templateOf(pack({ dir: tmp.dir, scheme: 'docs' }));
    await expect(
      template.read('docs:///nope.txt', { path: 'nope.txt' }, stubContext({ era: 'legacy' })),
    ).rejects.toMatchObject({ code: -32002, data: { uri: 'docs:///nope.txt' } });
  });

  it('pages 2,500 files through resources/list with cursors, each file once', async () => {
    await using tmp = await tempDir();
    const files: Record<string, string> = {};
    for (let d = 0; d < 25; d++) {
      for (let f = 0; f < 100; f++) files[`d${d}/f${f}.txt`] = `${d}/${f}`;
    }
    await plant(tmp.dir, files);
    const rpc = serve(pack({ dir: tmp.dir, scheme: 'docs' }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = resultOf(await rpc('resources/list', cursor === undefined ? {} : { cursor }));
      seen.push(...(page['resources'] as JsonObject[]).map((r) => r['uri'] as string));
      cursor = page['nextCursor'] as string | undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 100);
    expect(pages).toBe(25);
    expect(seen).toHaveLength(2_500);
    expect(new Set(seen).size).toBe(2_500);
    expect(new Set(seen)).toEqual(new Set(Object.keys(files).map((f) => `docs:///${f}`)));
  });

  it('lists at most maxListed files', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    const rpc = serve(pack({ dir: tmp.dir, scheme: 'docs', maxListed: 2 }));
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['name'])).toEqual(['a.txt', 'b.txt']);
  });
});

describe('files pack: confinement', () => {
  it('refuses every spelling of traversal with -32602 and never reads outside', async () => {
    await using tmp = await tempDir();
    const root = path.join(tmp.dir, 'root');
    await plant(tmp.dir, { 'secret.txt': 'TOP SECRET', 'root/sub/a.txt': 'a' });
    for (const scheme of ['file', 'docs']) {
      const rpc = serve(pack({ dir: root, scheme, name: `m${scheme}` }));
      const b = scheme === 'file' ? base(root) : 'docs:///';
      const attempts = [
        `${b}../secret.txt`,
        `${b}sub/../../secret.txt`,
        `${b}%2e%2e/secret.txt`,
        `${b}%2E%2E%2Fsecret.txt`,
        `${b}sub%2F..%2F..%2Fsecret.txt`,
        `${b}sub%2f..%2f..%2fsecret.txt`,
        `${b}%5C..%5Csecret.txt`,
        `${b}..\\secret.txt`,
        `${b}/${path.join(tmp.dir, 'secret.txt')}`,
        `${b}sub/a.txt%00`,
        `${b}%252e%252e/secret.txt`,
      ];
      for (const uri of attempts) {
        const res = await rpc('resources/read', { uri });
        expect(errorOf(res).code, uri).toBe(-32602);
        expect(JSON.stringify(res)).not.toContain('TOP SECRET');
      }
    }
  });

  it('refuses traversal in the variables it is handed, without the engine in front', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'root/a.txt': 'a', 'secret.txt': 'TOP SECRET' });
    const template = templateOf(pack({ dir: path.join(tmp.dir, 'root'), scheme: 'docs' }));
    const ctx = stubContext({ era: 'legacy' });
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['docs:///x', { path: '../secret.txt' }, 'dot segment'],
      ['docs:///x', { path: '/etc/passwd' }, 'absolute path'],
      ['docs:///x', { path: '..\\secret.txt' }, 'backslash'],
      ['docs:///x', { path: 'a.txt\0' }, 'NUL'],
      ['docs:///x', { path: '' }, 'empty path'],
      ['docs:///x', { path: ['a.txt', 'b'] }, 'not a single path'],
      ['docs:///..%2Fsecret.txt', { path: 'a.txt' }, 'encoded separator'],
    ];
    for (const [uri, variables, why] of cases) {
      await expect(template.read(uri, variables, ctx), why).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining(why) as unknown,
      });
    }
  });

  it('refuses a symlink out of the root for read and leaves it out of the list', async () => {
    await using tmp = await tempDir();
    const root = path.join(tmp.dir, 'root');
    await plant(tmp.dir, { 'outside/secret.txt': 'TOP SECRET', 'root/ok.txt': 'ok' });
    await symlink(path.join(tmp.dir, 'outside/secret.txt'), path.join(root, 'link.txt'));
    await symlink(path.join(tmp.dir, 'outside'), path.join(root, 'linkdir'));
    await symlink(path.join(root, 'ok.txt'), path.join(root, 'inside-link.txt'));
    const rpc = serve(pack({ dir: root, scheme: 'docs' }));
    for (const uri of ['docs:///link.txt', 'docs:///linkdir/secret.txt']) {
      const res = await rpc('resources/read', { uri });
      expect(errorOf(res)).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/outside the root/) as unknown,
      });
      expect(JSON.stringify(res)).not.toContain('TOP SECRET');
    }
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['name'])).toEqual(['inside-link.txt', 'ok.txt']);
    expect(resultOf(await rpc('resources/read', { uri: 'docs:///inside-link.txt' }))).toMatchObject(
      {
        contents: [{ text: 'ok' }],
      },
    );
  });

  it('refuses deny-globbed and not-allowed paths for read and list, links to them too', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, {
      'docs/a.md': 'a',
      'docs/private/p.md': 'private',
      'docs/.env': 'KEY=1',
      'docs/b.bin': 'b',
    });
    await symlink(path.join(tmp.dir, 'docs/private/p.md'), path.join(tmp.dir, 'docs/alias.md'));
    const rpc = serve(
      pack({
        dir: path.join(tmp.dir, 'docs'),
        scheme: 'docs',
        allow: ['**/*.md'],
        deny: ['private/**', '**/.*'],
      }),
    );
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['name'])).toEqual(['a.md']);
    for (const [uri, why] of [
      ['docs:///private/p.md', 'denied'],
      ['docs:///.env', 'denied'],
      ['docs:///b.bin', 'not allowed'],
      ['docs:///alias.md', 'link target denied'],
    ] as const) {
      const res = await rpc('resources/read', { uri });
      expect(errorOf(res), uri).toMatchObject({
        code: -32602,
        message: `Path not allowed: ${why}`,
      });
    }
  });
});

describe('files pack: completion', () => {
  it('completes the path variable with admitted entries only', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'guide.md': 'g', 'guts.md': 'g', 'private/p.md': 'p', 'gz.bin': 'b' });
    const rpc = serve(
      pack({ dir: tmp.dir, scheme: 'docs', allow: ['**/*.md'], deny: ['private/**'] }),
    );
    const complete = (value: string) =>
      rpc('completion/complete', {
        ref: { type: 'ref/resource', uri: 'docs:///{+path}' },
        argument: { name: 'path', value },
      });
    const values = async (value: string) =>
      (resultOf(await complete(value))['completion'] as JsonObject)['values'];
    expect(await values('g')).toEqual(['guide.md', 'guts.md']);
    expect(await values('p')).toEqual([]);
    expect(await values('%2e%2e/')).toEqual([]);
    expect(errorOf(await complete('../')).code).toBe(-32602);
  });
});

describe('files pack: size and MIME types', () => {
  it('refuses a file over maxBytes with -32602 naming the size and the limit', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'ten.txt': '0123456789', 'eleven.txt': '0123456789A' });
    const rpc = serve(pack({ dir: tmp.dir, scheme: 'docs', maxBytes: 10 }));
    expect(resultOf(await rpc('resources/read', { uri: 'docs:///ten.txt' }))).toMatchObject({
      contents: [{ text: '0123456789' }],
    });
    expect(errorOf(await rpc('resources/read', { uri: 'docs:///eleven.txt' }))).toEqual({
      code: -32602,
      message: 'Resource too large: 11 bytes (limit 10)',
      data: { uri: 'docs:///eleven.txt', size: 11, maxBytes: 10 },
    });
  });

  it('sends text types as text and everything else as a base64 blob', async () => {
    await using tmp = await tempDir();
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255]);
    const latin1 = Uint8Array.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8
    await plant(tmp.dir, {
      'img.PNG': png,
      'data.yaml': 'a: 1',
      'pic.svg': '<svg/>',
      'blob.unknownext': 'raw',
      'old.txt': latin1,
      'custom.mdx': '# mdx',
    });
    const rpc = serve(
      pack({ dir: tmp.dir, scheme: 'docs', mimeTypes: { '.mdx': 'text/markdown' } }),
    );
    const read = async (name: string) =>
      (
        resultOf(await rpc('resources/read', { uri: `docs:///${name}` }))[
          'contents'
        ] as JsonObject[]
      )[0];
    expect(await read('img.PNG')).toEqual({
      uri: 'docs:///img.PNG',
      mimeType: 'image/png',
      blob: Buffer.from(png).toString('base64'),
    });
    expect(await read('data.yaml')).toMatchObject({ mimeType: 'application/yaml', text: 'a: 1' });
    expect(await read('pic.svg')).toMatchObject({ mimeType: 'image/svg+xml', text: '<svg/>' });
    expect(await read('blob.unknownext')).toMatchObject({
      mimeType: 'application/octet-stream',
      blob: Buffer.from('raw').toString('base64'),
    });
    expect(await read('old.txt')).toMatchObject({
      mimeType: 'text/plain',
      blob: Buffer.from(latin1).toString('base64'),
    });
    expect(await read('custom.mdx')).toMatchObject({ mimeType: 'text/markdown', text: '# mdx' });
  });
});

describe('files pack: several mounts', () => {
  it('serves two directories side by side under their own names and prefixes', async () => {
    await using a = await tempDir();
    await using b = await tempDir();
    await plant(a.dir, { 'same.txt': 'from a' });
    await plant(b.dir, { 'same.txt': 'from b' });
    const rpc = serve(
      pack({ dir: a.dir, name: 'code' }),
      pack({ dir: b.dir, name: 'docs', scheme: 'docs' }),
      pack({ dir: b.dir, name: 'wiki', baseUri: 'docs://wiki/' }),
    );
    const read = async (uri: string) =>
      (resultOf(await rpc('resources/read', { uri }))['contents'] as JsonObject[])[0]?.['text'];
    expect(await read(`${base(a.dir)}same.txt`)).toBe('from a');
    expect(await read('docs:///same.txt')).toBe('from b');
    expect(await read('docs://wiki/same.txt')).toBe('from b');
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['uri'])).toEqual([
      `${base(a.dir)}same.txt`,
      'docs:///same.txt',
      'docs://wiki/same.txt',
    ]);
  });

  it('refuses invalid options when the pack is made', () => {
    expect(() => filesPack({ dir: '' })).toThrow(ComponentError);
    expect(() => filesPack({ dir: '/x', name: 'a b' })).toThrow(/name/);
    expect(() => filesPack({ dir: '/x', scheme: '1x' })).toThrow(/scheme/);
    expect(() => filesPack({ dir: '/x', baseUri: 'docs://x' })).toThrow(/baseUri/);
    expect(() => filesPack({ dir: '/x', maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => filesPack({ dir: '/x', mimeTypes: { md: 'text/markdown' } })).toThrow(/mimeTypes/);
  });
});

describe('files pack: write tools', () => {
  it('has no tools unless writable', async () => {
    await using tmp = await tempDir();
    const rpc = serve(pack({ dir: tmp.dir }));
    expect(resultOf(await rpc('tools/list'))['tools']).toEqual([]);
    expect(errorOf(await rpc('tools/call', { name: 'files_write_file', arguments: {} })).code).toBe(
      -32602,
    );
  });

  it('writes and deletes files inside the root, refusing paths and sizes it must', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'root/keep.txt': 'keep', 'outside.txt': 'untouched' });
    const root = path.join(tmp.dir, 'root');
    const rpc = serve(
      pack({
        dir: root,
        name: 'docs',
        scheme: 'docs',
        writable: true,
        maxBytes: 16,
        deny: ['locked/**'],
      }),
    );
    const tools = resultOf(await rpc('tools/list'))['tools'] as JsonObject[];
    expect(tools.map((t) => t['name'])).toEqual(['docs_write_file', 'docs_delete_file']);
    const call = async (name: string, args: JsonObject) =>
      resultOf(await rpc('tools/call', { name, arguments: args }));

    expect(
      await call('docs_write_file', { path: 'new/dir/n.txt', content: 'hello' }),
    ).toMatchObject({
      structuredContent: { uri: 'docs:///new/dir/n.txt', bytes: 5, created: true },
    });
    expect(await readFile(path.join(root, 'new/dir/n.txt'), 'utf8')).toBe('hello');
    expect(
      await call('docs_write_file', {
        path: 'keep.txt',
        content: Buffer.from([1, 2]).toString('base64'),
        encoding: 'base64',
      }),
    ).toMatchObject({ structuredContent: { bytes: 2, created: false } });
    expect([...(await readFile(path.join(root, 'keep.txt')))]).toEqual([1, 2]);

    for (const [args, message] of [
      [{ path: '../outside.txt', content: 'x' }, 'Path not allowed: dot segment in path'],
      [{ path: '/etc/passwd', content: 'x' }, 'Path not allowed: absolute path'],
      [{ path: 'locked/a.txt', content: 'x' }, 'Path not allowed: denied'],
      [{ path: 'big.txt', content: 'x'.repeat(17) }, 'Content too large: 17 bytes (limit 16)'],
      [{ path: 'new', content: 'x' }, 'Not a file: new'],
    ] as const) {
      expect(await call('docs_write_file', args)).toMatchObject({
        content: [{ type: 'text', text: message }],
        isError: true,
      });
    }
    expect(await readFile(path.join(tmp.dir, 'outside.txt'), 'utf8')).toBe('untouched');

    expect(await call('docs_delete_file', { path: 'new/dir/n.txt' })).toMatchObject({
      structuredContent: { uri: 'docs:///new/dir/n.txt' },
    });
    await expect(readFile(path.join(root, 'new/dir/n.txt'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await call('docs_delete_file', { path: 'new/dir/n.txt' })).toMatchObject({
      isError: true,
      content: [{ text: 'No such file: new/dir/n.txt' }],
    });
    expect(await call('docs_delete_file', { path: '../outside.txt' })).toMatchObject({
      isError: true,
    });
    expect(await readFile(path.join(tmp.dir, 'outside.txt'), 'utf8')).toBe('untouched');
  });

  it('refuses to write through a symlink that leads out of the root', async () => {
    await using tmp = await tempDir();
    await mkdir(path.join(tmp.dir, 'root'));
    await mkdir(path.join(tmp.dir, 'outside'));
    await symlink(path.join(tmp.dir, 'outside'), path.join(tmp.dir, 'root/out'));
    const rpc = serve(pack({ dir: path.join(tmp.dir, 'root'), name: 'w', writable: true }));
    const res = resultOf(
      await rpc('tools/call', {
        name: 'w_write_file',
        arguments: { path: 'out/x.txt', content: 'x' },
      }),
    );
    expect(res).toMatchObject({
      content: [{ type: 'text', text: 'Path not allowed: outside the root' }],
      isError: true,
    });
    await expect(readFile(path.join(tmp.dir, 'outside/x.txt'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('announces its own writes when the mount does not watch', async () => {
    await using tmp = await tempDir();
    const engine = createEngine({
      serverInfo: { name: 'test', version: '0' },
      packs: [pack({ dir: tmp.dir, name: 'w', scheme: 'docs', writable: true })],
    });
    engines.push(engine);
    const seen: unknown[] = [];
    engine.changes.subscribe((e) => seen.push(e));
    const rpc = client(engine);
    await rpc('tools/call', { name: 'w_write_file', arguments: { path: 'a b.txt', content: 'x' } });
    await rpc('tools/call', { name: 'w_write_file', arguments: { path: 'a b.txt', content: 'y' } });
    expect(seen).toEqual([
      { type: 'resources/updated', uri: 'docs:///a%20b.txt' },
      { type: 'resources/list_changed' },
      { type: 'resources/updated', uri: 'docs:///a%20b.txt' },
    ]);
  });
});

describe('builtin:files', () => {
  it('mounts from a reference query, several times', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a/x.md': 'x', 'b/y.md': 'y', 'b/z.txt': 'z' });
    const q = (s: string) => encodeURIComponent(s);
    const packs = await loadPacks([
      `builtin:files?dir=${q(path.join(tmp.dir, 'a'))}&name=a&scheme=aa&watch=false`,
      `builtin:files?dir=${q(path.join(tmp.dir, 'b'))}&name=b&scheme=bb&allow=**/*.md&writable=true&watch=false`,
    ]);
    const rpc = serve(...packs);
    const listed = resultOf(await rpc('resources/list'))['resources'] as JsonObject[];
    expect(listed.map((r) => r['uri'])).toEqual(['aa:///x.md', 'bb:///y.md']);
    const tools = resultOf(await rpc('tools/list'))['tools'] as JsonObject[];
    expect(tools.map((t) => t['name'])).toEqual(['b_write_file', 'b_delete_file']);
  });

  it('refuses a reference without dir, with an unknown option or a bad value', async () => {
    await expect(loadPacks(['builtin:files'])).rejects.toThrow(/dir is required/);
    await expect(loadPacks(['builtin:files?dir=/tmp&colour=red'])).rejects.toThrow(
      /unknown option "colour"/,
    );
    await expect(loadPacks(['builtin:files?dir=/tmp&writable=yes'])).rejects.toThrow(/writable/);
    await expect(loadPacks(['builtin:files?dir=/tmp&maxBytes=-1'])).rejects.toThrow(/maxBytes/);
    await expect(loadPacks(['builtin:conformance?x=1'])).rejects.toThrow(/takes no options/);
  });
});

function templateOf(p: ComponentPack): ResourceTemplateSpec {
  const t = p.components.find((c) => c.kind === 'resourceTemplate');
  if (t?.kind !== 'resourceTemplate') throw new Error('no template');
  return t;
}

/**
 * The write tools behind their own permission: the security guard in front of an engine
 * serving a writable mount refuses `<name>_write_file` to a principal that may read the
 * mount but lacks `tools:call:<name>_write_file` (-32014), and hides the tool from its list.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject } from '@mcp-cluster/protocol';
import { createAuthorizer, guardEngine } from '@mcp-cluster/security';
import type { Principal } from '@mcp-cluster/server';
import { createEngine } from '@mcp-cluster/server';
import { describe, expect, it } from 'vitest';
import { client, errorOf, plant, resultOf, tempDir } from './files.testkit.js';
import { filesPack } from './index.js';

const reader: Principal = { id: 'r', kind: 'user', roles: ['reader'] };
const writer: Principal = { id: 'w', kind: 'user', roles: ['writer'] };

describe('files pack write tools under authorization', () => {
  it('needs tools:call:<name>_write_file; reading rights do not imply it', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.md': 'a' });
    await using engine = createEngine({
      serverInfo: { name: 'test', version: '0' },
      packs: [
        filesPack({ dir: tmp.dir, name: 'docs', scheme: 'docs', writable: true, watch: false }),
      ],
    });
    const guarded = guardEngine(engine, {
      authorizer: createAuthorizer({
        roles: {
          reader: ['resources:read:docs:///**'],
          writer: ['resources:read:docs:///**', 'tools:call:docs_write_file'],
        },
      }),
      audit: () => undefined,
    });
    const asReader = client(guarded, reader);
    const asWriter = client(guarded, writer);
    const write = { name: 'docs_write_file', arguments: { path: 'a.md', content: 'changed' } };

    expect(resultOf(await asReader('resources/read', { uri: 'docs:///a.md' }))).toMatchObject({
      contents: [{ text: 'a' }],
    });
    expect(errorOf(await asReader('tools/call', write))).toMatchObject({
      code: -32014,
      message: expect.stringContaining('tools:call:docs_write_file') as unknown,
    });
    expect(await readFile(path.join(tmp.dir, 'a.md'), 'utf8')).toBe('a');
    expect(resultOf(await asReader('tools/list'))['tools']).toEqual([]);

    const names = (resultOf(await asWriter('tools/list'))['tools'] as JsonObject[]).map(
      (t) => t['name'],
    );
    expect(names).toEqual(['docs_write_file']);
    expect(resultOf(await asWriter('tools/call', write))).toMatchObject({
      structuredContent: { uri: 'docs:///a.md', created: false },
    });
    expect(await readFile(path.join(tmp.dir, 'a.md'), 'utf8')).toBe('changed');
    expect(
      errorOf(
        await asWriter('tools/call', { name: 'docs_delete_file', arguments: { path: 'a.md' } }),
      ).code,
    ).toBe(-32014);
  });
});

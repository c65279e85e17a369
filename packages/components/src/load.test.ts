import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentError } from './errors.js';
import { BUILTIN_PACKS, loadPacks } from './load.js';

const REPO = resolve(import.meta.dirname, '../../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-packs-'));
  const files: Record<string, string> = {
    'one.mjs': `export default { name: 'one', components: [] };`,
    'many.mjs': `export default [{ name: 'a', components: [] }, { name: 'b', components: [] }];`,
    'no-default.mjs': `export const pack = { name: 'x', components: [] };`,
    'wrong-shape.mjs': `export default { name: 'x', components: [{ kind: 'banana' }] };`,
    'empty-array.mjs': `export default [];`,
    'syntax.mjs': `export default {;`,
    'throws.mjs': `throw new Error('boom at import');`,
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(refs: string[]): Promise<ComponentError> {
  try {
    await loadPacks(refs, { cwd: dir });
  } catch (err) {
    expect(err).toBeInstanceOf(ComponentError);
    return err as ComponentError;
  }
  throw new Error('expected loadPacks to fail');
}

describe('loadPacks', () => {
  it('loads the built-in conformance pack', async () => {
    expect(BUILTIN_PACKS).toContain('conformance');
    const [pack] = await loadPacks(['builtin:conformance']);
    expect(pack?.name).toBe('conformance');
    expect(pack?.components.length).toBeGreaterThan(40);
  });

  it('loads the example pack by relative path (TypeScript module)', async () => {
    const [pack] = await loadPacks(['./examples/hello/pack.ts'], { cwd: REPO });
    expect(pack?.name).toBe('hello');
    expect(pack?.components.map((c) => c.kind)).toContain('resourceTemplate');
  });

  it('loads absolute paths, file URLs and arrays, in order', async () => {
    const packs = await loadPacks([
      join(dir, 'one.mjs'),
      pathToFileURL(join(dir, 'many.mjs')).href,
    ]);
    expect(packs.map((p) => p.name)).toEqual(['one', 'a', 'b']);
  });

  it('names the file and the problem for bad modules', async () => {
    const notFound = await loadError(['./missing.mjs']);
    expect(notFound.code).toBe('PACK_NOT_FOUND');
    expect(notFound.message).toContain('./missing.mjs');

    const noDefault = await loadError(['./no-default.mjs']);
    expect(noDefault.code).toBe('PACK_INVALID');
    expect(noDefault.message).toMatch(/no-default\.mjs has no default export/);

    for (const file of ['./wrong-shape.mjs', './empty-array.mjs']) {
      const e = await loadError([file]);
      expect(e.code).toBe('PACK_INVALID');
      expect(e.message).toContain(file);
    }

    for (const file of ['./syntax.mjs', './throws.mjs']) {
      const e = await loadError([file]);
      expect(e.code).toBe('PACK_LOAD_FAILED');
      expect(e.message).toContain(file);
      expect(e.cause).toBeInstanceOf(Error);
    }

    const dirRef = await loadError(['.']);
    expect(dirRef.code).toBe('PACK_NOT_FOUND');
  });

  it('rejects unknown built-ins and duplicate pack names', async () => {
    const unknown = await loadError(['builtin:nope']);
    expect(unknown.code).toBe('PACK_NOT_FOUND');
    expect(unknown.message).toContain('builtin:conformance');
    expect((await loadError(['builtin:constructor'])).code).toBe('PACK_NOT_FOUND');

    const dup = await loadError(['./one.mjs', './one.mjs']);
    expect(dup.code).toBe('PACK_INVALID');
    expect(dup.message).toMatch(/already loaded/);
  });
});

/**
 * The packs served by the real engine (modern era, in memory): guards the contract between
 * the specs defined here and the engine that serves them.
 */
import { resolve } from 'node:path';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { ComponentPack, Engine } from '@mcp-cluster/server';
import { createEngine } from '@mcp-cluster/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPacks } from './load.js';
import { modernClient } from './test-helpers.js';

const CAPS = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

describe('packs served by the engine', () => {
  let hello: ComponentPack;
  let conformance: ComponentPack;
  const engines: Engine[] = [];

  beforeAll(async () => {
    [hello, conformance] = (await loadPacks([
      resolve(import.meta.dirname, '../../../examples/hello/pack.ts'),
      'builtin:conformance',
    ])) as [ComponentPack, ComponentPack];
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  const serve = (pack: ComponentPack) => {
    const engine = createEngine({ serverInfo: { name: 'test', version: '0' }, packs: [pack] });
    engines.push(engine);
    return modernClient(engine, { capabilities: CAPS });
  };

  it('serves the example pack: structured output, completion, not-found, prompt', async () => {
    const rpc = serve(hello);
    expect(
      await rpc('tools/call', { name: 'greet', arguments: { name: 'Ada', excited: true } }),
    ).toMatchObject({
      result: { structuredContent: { greeting: 'Hello, Ada!' }, resultType: 'complete' },
    });
    expect(await rpc('tools/call', { name: 'add', arguments: { a: 'x', b: 1 } })).toMatchObject({
      result: { isError: true },
    });
    expect(
      await rpc('completion/complete', {
        ref: { type: 'ref/resource', uri: 'notes://{id}' },
        argument: { name: 'id', value: 'w' },
      }),
    ).toMatchObject({ result: { completion: { values: ['welcome'] } } });
    expect(await rpc('resources/read', { uri: 'notes://todo' })).toMatchObject({
      result: { contents: [{ uri: 'notes://todo', text: 'Write a tool of your own.' }] },
    });
    expect(await rpc('resources/read', { uri: 'notes://nope' })).toMatchObject({
      error: { code: -32602, data: { uri: 'notes://nope' } },
    });
    expect(
      await rpc('prompts/get', { name: 'summarize', arguments: { text: 'abc' } }),
    ).toMatchObject({
      result: { messages: [{ role: 'user', content: { type: 'text' } }] },
    });
  });

  it('serves files of the example folder and nothing outside it', async () => {
    const rpc = serve(hello);
    expect(await rpc('resources/read', { uri: 'files://guides/first-tool.md' })).toMatchObject({
      result: { contents: [{ uri: 'files://guides/first-tool.md', text: /first tool/ }] },
    });
    // Canonical before the handler: `%66` is `f`, `x/..` resolves below the authority.
    expect(
      await rpc('resources/read', { uri: 'files://guides/x/../%66irst-tool.md' }),
    ).toMatchObject({ result: { contents: [{ uri: 'files://guides/first-tool.md' }] } });
    expect(
      await rpc('completion/complete', {
        ref: { type: 'ref/resource', uri: 'files://{+path}' },
        argument: { name: 'path', value: '' },
      }),
    ).toMatchObject({
      result: { completion: { values: expect.arrayContaining(['readme.txt']) as unknown } },
    });
    for (const uri of [
      'files://../pack.ts',
      'files://guides/../../pack.ts',
      'files://..%2Fpack.ts',
      'files://guides%2F..%2F..%2Fpack.ts',
      'files://.private',
      'files:///etc/passwd',
      'files://readme.txt?/../../pack.ts',
    ]) {
      const r = await rpc('resources/read', { uri });
      expect({ uri, code: 'error' in r ? r.error.code : undefined }).toEqual({ uri, code: -32602 });
      expect(JSON.stringify(r)).not.toContain('definePack');
    }
  });

  it('serves the conformance pack: first tool, MRTR rounds, skills method', async () => {
    const rpc = serve(conformance);
    const list = (await rpc('tools/list')) as unknown as { result: { tools: { name: string }[] } };
    expect(list.result.tools[0]?.name).toBe('test_simple_text');

    const name = 'test_input_required_result_multi_round';
    const r1 = (await rpc('tools/call', { name })) as { result: JsonObject };
    expect(r1.result).toMatchObject({ resultType: 'input_required', inputRequests: { step1: {} } });
    const r2 = (await rpc('tools/call', {
      name,
      inputResponses: { step1: { action: 'accept', content: { name: 'Alice' } } },
      requestState: r1.result['requestState'],
    })) as { result: JsonObject };
    expect(r2.result).toMatchObject({ resultType: 'input_required', inputRequests: { step2: {} } });
    expect(r2.result['requestState']).not.toBe(r1.result['requestState']);
    expect(
      await rpc('tools/call', {
        name,
        inputResponses: { step2: { action: 'accept', content: { color: 'blue' } } },
        requestState: r2.result['requestState'],
      }),
    ).toMatchObject({
      result: {
        content: [{ type: 'text', text: 'Multi-round complete for Alice who likes blue' }],
      },
    });

    expect(await rpc('skills/get', { uri: 'skill://nope/SKILL.md' })).toMatchObject({
      error: { code: -32602 },
    });
    expect(await rpc('skills/list')).toMatchObject({
      result: { skills: [{ uri: 'skill://pdf-processing/SKILL.md' }], resultType: 'complete' },
    });
  });
});

/**
 * Completion values from the registries are what the caller may use: the embedded node with
 * real authentication (static tokens) and authorization (roles) over HTTP, a reader and an
 * admin completing the same prompt arguments.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ARGUMENTS,
  AUTH,
  READER,
  VISIBLE,
  completeParams,
  onePage,
} from './fixtures/completions-pack.js';
import { startEmbedded } from '@mcp-cluster/cli';
import type { EmbeddedNode } from '@mcp-cluster/cli';
import { REPO_ROOT, modernRequest, readMcpResponse } from '@mcp-cluster/testkit';

const PACK = path.join(REPO_ROOT, 'test', 'integration', 'fixtures', 'completions-pack.ts');

let node: EmbeddedNode;

beforeAll(async () => {
  node = await startEmbedded({
    host: '127.0.0.1',
    packs: [PACK],
    auth: AUTH,
  });
});

afterAll(async () => {
  await node.close();
});

async function call(
  method: string,
  params: Record<string, unknown>,
  authorization: string,
): Promise<Record<string, unknown>> {
  const r = modernRequest(method, params);
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { ...r.headers, authorization },
    body: JSON.stringify(r.body),
  });
  const read = await readMcpResponse(res);
  return read.messages.at(-1) as Record<string, unknown>;
}

async function complete(argument: string, who: string): Promise<unknown> {
  const body = await call('completion/complete', completeParams(argument), who);
  return (body['result'] as { completion: unknown } | undefined)?.completion ?? body;
}

describe('completion values follow the caller’s permissions', () => {
  it('gives the admin every tool, prompt and resource', async () => {
    for (const arg of ARGUMENTS)
      expect(await complete(arg, ADMIN)).toEqual(onePage(VISIBLE.admin[arg]));
  });

  it('hides from a reader what its lists hide, with a total that counts only what it sees', async () => {
    for (const arg of ARGUMENTS) {
      expect(await complete(arg, READER)).toEqual(onePage(VISIBLE.reader[arg]));
    }
    // The same filter as tools/list: what completion offers is exactly what the list shows.
    const list = await call('tools/list', {}, READER);
    const names = (list['result'] as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names).toEqual(['greet']);
  });
});

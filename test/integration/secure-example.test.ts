/**
 * examples/secure/config.json, as the README tells a newcomer to run it: credentials
 * required, roles narrow what each caller sees and may call.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';
import { loadConfig } from '@mcp-cluster/config';
import { REPO_ROOT, modernRequest, readMcpResponse } from '@mcp-cluster/testkit';

const CONFIG = path.join(REPO_ROOT, 'examples', 'secure', 'config.json');
const ADMIN = 'Bearer example-admin-token-change-me-0123456789';
const ALICE = `Basic ${Buffer.from('alice:alice-example-password').toString('base64')}`;

let node: RunningNode;

beforeAll(async () => {
  const config = loadConfig({
    file: CONFIG,
    env: {},
    overrides: { host: '127.0.0.1', port: 0, logLevel: 'silent' },
  });
  node = await startNode(config);
});

afterAll(async () => {
  await node.close();
});

async function call(
  method: string,
  params: Record<string, unknown>,
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = modernRequest(method, params);
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { ...r.headers, ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify(r.body),
  });
  const read = await readMcpResponse(res);
  return { status: res.status, body: read.messages.at(-1) as Record<string, unknown> };
}

const toolNames = (body: Record<string, unknown>): string[] =>
  ((body['result'] as { tools: { name: string }[] }).tools ?? []).map((t) => t.name).sort();

describe('examples/secure/config.json', () => {
  it('refuses callers without credentials', async () => {
    const r = await call('tools/list', {});
    expect(r.status).toBe(401);
    expect((r.body['error'] as { code: number }).code).toBe(-32013);
  });

  it('lets the admin token see and call everything', async () => {
    const r = await call('tools/list', {}, ADMIN);
    expect(toolNames(r.body)).toEqual(['add', 'countdown', 'greet']);
    const add = await call('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, ADMIN);
    expect(add.status).toBe(200);
  });

  it('shows alice (reader) only her tools and refuses the others', async () => {
    expect(toolNames((await call('tools/list', {}, ALICE)).body)).toEqual(['add', 'greet']);
    const r = await call('tools/call', { name: 'countdown', arguments: { from: 1 } }, ALICE);
    expect(r.status).toBe(403);
    expect((r.body['error'] as { code: number }).code).toBe(-32014);
  });
});

/**
 * Completion values follow the caller's permissions in a cluster too (real Redis + NATS): the
 * gateway authenticates (static tokens) and authorizes (roles), the worker behind it runs
 * `completion/complete`, and its completers see only what the caller's lists show. Both eras:
 * modern requests and a legacy session. The same pack and roles as the embedded node's test
 * (completion-visibility.test.ts).
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
import {
  InProcessCluster,
  LEGACY_VERSION,
  REPO_ROOT,
  findResponse,
  modernCall,
  postMcp,
} from '@mcp-cluster/testkit';
import type { RunningGateway } from '@mcp-cluster/testkit';

const PACK = path.join(REPO_ROOT, 'test', 'integration', 'fixtures', 'completions-pack.ts');
let cluster: InProcessCluster;
let gateway: RunningGateway;

beforeAll(async () => {
  cluster = new InProcessCluster();
  ({ gateway } = await cluster.gatewayWithWorker({
    gateway: { auth: AUTH },
    worker: { auth: AUTH, packs: [PACK] },
  }));
});

afterAll(async () => {
  await cluster[Symbol.asyncDispose]();
});

/** A modern request through the gateway as `who`; the JSON-RPC response. */
async function call(
  method: string,
  params: Record<string, unknown>,
  who: string,
): Promise<Record<string, unknown>> {
  const { status, response, all } = await modernCall(gateway.url, method, params, {
    headers: { authorization: who },
  });
  expect(response, `${method}: ${status} ${all.text.slice(0, 300)}`).toBeDefined();
  return response ?? {};
}

async function complete(argument: string, who: string): Promise<unknown> {
  const body = await call('completion/complete', completeParams(argument), who);
  return (body['result'] as { completion: unknown } | undefined)?.completion ?? body;
}

function names(list: Record<string, unknown>, field: string, key: string): unknown[] {
  const items = (list['result'] as Record<string, Record<string, unknown>[]> | undefined)?.[field];
  return (items ?? []).map((item) => item[key]);
}

/** A legacy session opened through the gateway as `who`; completes arguments of `pick`. */
async function legacySession(who: string): Promise<(argument: string) => Promise<unknown>> {
  const auth = { authorization: who };
  const init = await postMcp(
    gateway.url,
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_VERSION,
        capabilities: {},
        clientInfo: { name: 'completion-visibility', version: '1.0.0' },
      },
    },
    auth,
  );
  const sessionId = init.headers.get('mcp-session-id');
  expect(init.status, init.text.slice(0, 300)).toBe(200);
  expect(sessionId).not.toBeNull();
  const headers = {
    ...auth,
    'mcp-session-id': sessionId ?? '',
    'mcp-protocol-version': LEGACY_VERSION,
  };
  const ack = await postMcp(
    gateway.url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    headers,
  );
  expect(ack.status).toBe(202);
  let id = 2;
  return async (argument) => {
    const requestId = id++;
    const answer = await postMcp(
      gateway.url,
      {
        jsonrpc: '2.0',
        id: requestId,
        method: 'completion/complete',
        params: completeParams(argument),
      },
      headers,
    );
    const body = findResponse(answer.messages, requestId) ?? { status: answer.status };
    return (body['result'] as { completion: unknown } | undefined)?.completion ?? body;
  };
}

describe('completion values through a gateway follow the caller’s permissions', () => {
  it('gives the admin every tool, prompt and resource', async () => {
    for (const arg of ARGUMENTS)
      expect(await complete(arg, ADMIN)).toEqual(onePage(VISIBLE.admin[arg]));
  });

  it('hides from a reader what its lists hide, with a total that counts only what it sees', async () => {
    for (const arg of ARGUMENTS) {
      expect(await complete(arg, READER)).toEqual(onePage(VISIBLE.reader[arg]));
    }
  });

  it('offers exactly what the gateway’s filtered lists show, for each caller', async () => {
    for (const who of [ADMIN, READER]) {
      const tools = names(await call('tools/list', {}, who), 'tools', 'name');
      const prompts = names(await call('prompts/list', {}, who), 'prompts', 'name');
      const uris = names(await call('resources/list', {}, who), 'resources', 'uri');
      expect(await complete('tool', who)).toMatchObject({ values: [...tools].sort() });
      expect(await complete('prompt', who)).toMatchObject({ values: [...prompts].sort() });
      expect(await complete('uri', who)).toMatchObject({ values: [...uris].sort() });
    }
    expect(names(await call('tools/list', {}, READER), 'tools', 'name')).toEqual(['greet']);
    expect(names(await call('tools/list', {}, ADMIN), 'tools', 'name')).toHaveLength(2);
  });

  it('filters a legacy session’s completions by its principal too', async () => {
    const reader = await legacySession(READER);
    expect(await reader('tool')).toEqual({ values: ['greet'], total: 1, hasMore: false });
    expect(await reader('uri')).toEqual({
      values: ['mem://public/readme'],
      total: 1,
      hasMore: false,
    });
    const admin = await legacySession(ADMIN);
    expect(await admin('prompt')).toEqual({
      values: ['payroll_report', 'pick'],
      total: 2,
      hasMore: false,
    });
  });
});

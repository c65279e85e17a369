/**
 * examples/notes as its README runs it (`serve --pack pack.ts --config config.json`): the
 * config file as written, except `baseUrl`, which points at a local OpenAI-compatible
 * stand-in, so `summarize_note` on a client that cannot sample is answered by the provider.
 * The official SDK client, without the `sampling` capability, over Streamable HTTP.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';
import { loadConfig } from '@mcp-cluster/config';
import type { SamplingConfigInput } from '@mcp-cluster/config';
import { REPO_ROOT, listenLoopback, textOf } from '@mcp-cluster/testkit';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'notes');
const CONFIG = path.join(EXAMPLE, 'config.json');
const KEY = 'sk-example-notes-test';
const SUMMARY = 'Bo owns the release checklist; the service ships on 16 March.';
const PLANNING = 'meetings/2026-03-02-planning.md';

interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: { model?: string; messages?: { role: string; content: unknown }[] };
}

/** A Chat Completions endpoint answering SUMMARY to every request, recording each one. */
async function openAiStandIn(): Promise<{ url: string; received: Received[]; close(): void }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'];
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-notes',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: body.model,
          choices: [
            { index: 0, message: { role: 'assistant', content: SUMMARY }, finish_reason: 'stop' },
          ],
          usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
        }),
      );
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

let provider: Awaited<ReturnType<typeof openAiStandIn>>;
let node: RunningNode;
let client: Client;

beforeAll(async () => {
  provider = await openAiStandIn();
  // The provider key comes from the variable config.json names, read once at startup.
  vi.stubEnv('OPENAI_API_KEY', KEY);
  const file = JSON.parse(readFileSync(CONFIG, 'utf8')) as { sampling: SamplingConfigInput };
  const [openai, ...others] = file.sampling.providers;
  expect(others).toEqual([]);
  const config = loadConfig({
    file: CONFIG,
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      packs: [path.join(EXAMPLE, 'pack.ts')],
      sampling: { ...file.sampling, providers: [{ ...openai!, baseUrl: `${provider.url}/v1` }] },
    },
  });
  node = await startNode(config);
  // No `sampling` capability: ctx.sample cannot go to this client.
  client = new Client({ name: 'example-notes-test', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(node.url)));
});

afterAll(async () => {
  await client?.close();
  await node?.close();
  provider?.close();
  vi.unstubAllEnvs();
});

/** The JSON-RPC error a rejected SDK call carried (the SDK prefixes its message). */
async function errorOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(McpError);
  return { code: (err as McpError).code, message: (err as McpError).message };
}

describe('examples/notes', () => {
  it('has a config.json the schema accepts as written', () => {
    const config = loadConfig({ file: CONFIG, env: {} });
    expect(config.sampling?.mode).toBe('client-first');
    expect(config.sampling?.providers.map((p) => [p.type, p.apiKeyEnv])).toEqual([
      ['openai', 'OPENAI_API_KEY'],
    ]);
    expect(config.sampling?.models.map((m) => m.name)).toEqual(['gpt-4o-mini']);
  });

  it('lists the notes, not private/secret.md', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      'notes:///ideas.md',
      `notes:///${PLANNING}`,
      'notes:///welcome.md',
    ]);
  });

  it('reads a note and refuses the denied one with -32602', async () => {
    const read = await client.readResource({ uri: 'notes:///welcome.md' });
    expect(read.contents[0]).toMatchObject({
      uri: 'notes:///welcome.md',
      mimeType: 'text/markdown',
    });
    expect((read.contents[0] as { text: string }).text).toMatch(/^# Welcome/);
    expect(await errorOf(client.readResource({ uri: 'notes:///private/secret.md' }))).toEqual({
      code: -32602,
      message: 'MCP error -32602: Path not allowed: denied',
    });
  });

  it("completes review_note's path from the mount and its tool from tools/list", async () => {
    const complete = async (name: string, value: string): Promise<string[]> =>
      (
        await client.complete({
          ref: { type: 'ref/prompt', name: 'review_note' },
          argument: { name, value },
        })
      ).completion.values;
    expect(await complete('path', '')).toEqual(['ideas.md', 'meetings/', 'welcome.md']);
    expect(await complete('path', 'meetings/')).toEqual([PLANNING]);
    expect(await complete('path', 'private/')).toEqual([]);
    expect(await complete('path', '../')).toEqual([]);
    expect(await complete('tool', 'sum')).toEqual(['summarize_note']);
  });

  it('summarizes a note through the configured provider when the client cannot sample', async () => {
    const before = provider.received.length;
    const result = await client.callTool({ name: 'summarize_note', arguments: { path: PLANNING } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(SUMMARY);
    const sent = provider.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('/v1/chat/completions');
    expect(sent[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent[0]?.body.model).toBe('gpt-4o-mini');
    const note = readFileSync(path.join(EXAMPLE, 'files', PLANNING), 'utf8');
    expect(JSON.stringify(sent[0]?.body.messages)).toContain(JSON.stringify(note).slice(1, -1));
  });

  it('refuses to summarize a denied path or one outside the folder, without sampling', async () => {
    const before = provider.received.length;
    for (const p of ['private/secret.md', '../pack.ts', '/etc/passwd', 'missing.md']) {
      const result = await client.callTool({ name: 'summarize_note', arguments: { path: p } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(`No note you may read at ${p}`);
    }
    expect(provider.received.length).toBe(before);
  });

  it('embeds the note in review_note and refuses a denied path with -32602', async () => {
    const prompt = await client.getPrompt({
      name: 'review_note',
      arguments: { path: 'welcome.md', tool: 'summarize_note' },
    });
    expect(prompt.messages.map((m) => m.content.type)).toEqual(['text', 'resource']);
    expect(prompt.messages[1]?.content).toMatchObject({
      resource: { uri: 'notes:///welcome.md', mimeType: 'text/markdown' },
    });
    const denied = client.getPrompt({
      name: 'review_note',
      arguments: { path: 'private/secret.md' },
    });
    expect(await errorOf(denied)).toMatchObject({ code: -32602 });
    expect((await errorOf(denied)).message).toContain('not a note you may read');
    // Admitted but absent: "resource not found" (-32002 on the revision the SDK speaks).
    const missing = client.getPrompt({ name: 'review_note', arguments: { path: 'missing.md' } });
    expect(await errorOf(missing)).toMatchObject({ code: -32002 });
  });
});

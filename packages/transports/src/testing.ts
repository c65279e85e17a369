/**
 * Test support (not exported from the package): a small hand-made pack, an app factory and
 * SSE parsing. Shared by this package's *.test.ts files.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Tool } from '@mcp-cluster/protocol';
import { createEngine } from '@mcp-cluster/server';
import type { ComponentPack, Engine, HandlerContext, ToolSpec } from '@mcp-cluster/server';
import { mcpTransports } from './plugin.js';
import type { TransportSettings } from './settings.js';

type Run = (args: Record<string, unknown>, ctx: HandlerContext) => Promise<string> | string;

function tool(name: string, run: Run, extra: Partial<Tool> = {}): ToolSpec {
  return {
    kind: 'tool',
    descriptor: {
      name,
      description: `test tool ${name}`,
      inputSchema: { type: 'object', properties: {} },
      ...extra,
    },
    validateInput: (args) => ({ ok: true, value: args ?? {} }),
    taskSupport: 'forbidden',
    run: (args, ctx) => run((args ?? {}) as Record<string, unknown>, ctx),
  };
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Observations tools make, for tests to await. */
export const observed = {
  aborts: [] as string[],
  abortWaiters: [] as (() => void)[],
};

export const testPack: ComponentPack = {
  name: 'transport-test',
  components: [
    tool('echo', (args) => (typeof args.text === 'string' ? args.text : '')),
    tool('progress', async (_args, ctx) => {
      for (const p of [0, 50, 100]) {
        ctx.progress(p, 100);
        await Promise.resolve();
      }
      return 'progressed';
    }),
    tool('ask', async (_args, ctx) => {
      const r = await ctx.sample({
        messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
        maxTokens: 10,
      });
      const content = r.content as { text?: string } | undefined;
      return `sampled: ${content?.text ?? '?'}`;
    }),
    tool('wait', async (args, ctx) => {
      await aborted(ctx.signal);
      observed.aborts.push(typeof args.tag === 'string' ? args.tag : '');
      for (const w of observed.abortWaiters.splice(0)) w();
      return 'aborted';
    }),
    tool('reconnect', async (_args, ctx) => {
      ctx.progress(1, 3);
      ctx.closeStream();
      await new Promise((r) => setTimeout(r, 20));
      ctx.progress(2, 3);
      return 'resumed';
    }),
    tool('change', (_args, ctx) => {
      ctx.emitChange({ type: 'tools/list_changed' });
      return 'changed';
    }),
    tool('region', (args) => `region=${String(args.region)}`, {
      inputSchema: {
        type: 'object',
        properties: { region: { type: 'string', 'x-mcp-header': 'Region' } },
      },
    }),
  ],
};

export function testEngine(): Engine {
  return createEngine({ serverInfo: { name: 'test', version: '1.0.0' }, packs: [testPack] });
}

export async function testApp(
  settings: Partial<TransportSettings> = {},
  engine: Engine = testEngine(),
): Promise<{ app: FastifyInstance; engine: Engine }> {
  const app = Fastify({ logger: false });
  await app.register(mcpTransports, { engine, settings });
  app.addHook('onClose', () => engine.close());
  return { app, engine };
}

export const LEGACY_INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: { sampling: {} },
    clientInfo: { name: 't', version: '1' },
  },
} as const;

export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
} as const;

export const BASE_HEADERS = {
  host: 'localhost:3000',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

export function modernHeaders(method: string, name?: string): Record<string, string> {
  const h: Record<string, string> = {
    ...BASE_HEADERS,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  if (name !== undefined) h['mcp-name'] = name;
  return h;
}

export interface SseEvent {
  id?: string;
  event?: string;
  retry?: number;
  data: string;
}

/** Parses complete SSE events out of a text (comments skipped). */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const ev: SseEvent = { data: '' };
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      hasField = true;
      if (field === 'id') ev.id = value;
      else if (field === 'event') ev.event = value;
      else if (field === 'retry') ev.retry = Number(value);
      else if (field === 'data') ev.data = ev.data === '' ? value : `${ev.data}\n${value}`;
    }
    if (hasField) out.push(ev);
  }
  return out;
}

/** Reads an SSE response body incrementally. */
export class SseReader {
  private buf = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next complete event; undefined at end of stream. */
  async next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buf.slice(0, end + 2);
        this.buf = this.buf.slice(end + 2);
        const [ev] = parseSse(block);
        if (ev !== undefined) return ev;
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.buf += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next event whose data parses as JSON, parsed. */
  async nextMessage(): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      const ev = await this.next();
      if (ev === undefined) return undefined;
      if (ev.data !== '') return JSON.parse(ev.data) as Record<string, unknown>;
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

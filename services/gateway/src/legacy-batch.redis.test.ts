/**
 * Batches on the connection-bound transports through a gateway: a WebSocket or HTTP+SSE
 * connection holds its session object from before initialize, so that object must know the
 * negotiated revision as soon as initialize is answered. 2025-03-26 is the one legacy revision
 * that allows JSON-RPC batches; the first frame after initialize may already be one.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STEP_TIMEOUT_MS, SseReader, within } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

const BATCH_VERSION = '2025-03-26';
const NO_BATCH_VERSION = '2025-06-18';

type Message = Record<string, unknown> & {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
};

const initialize = (protocolVersion: string): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'batch-test', version: '1' } },
});
const ping = (id: string): Record<string, unknown> => ({ jsonrpc: '2.0', id, method: 'ping' });
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const byId = (a: Message, b: Message): number => String(a.id).localeCompare(String(b.id));

/** One client connection: send a value, read the next answer (a message or a batch). */
interface Connection {
  send(value: unknown): Promise<void>;
  next(): Promise<Message | Message[]>;
  close(): Promise<void>;
}

async function openWs(gatewayUrl: string): Promise<Connection> {
  const url = gatewayUrl.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws');
  const socket = new WebSocket(url, ['mcp']);
  const queue: (Message | Message[])[] = [];
  const waiters: ((m: Message | Message[]) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as Message | Message[];
    const w = waiters.shift();
    if (w !== undefined) w(m);
    else queue.push(m);
  });
  await within(
    STEP_TIMEOUT_MS,
    'WebSocket open',
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    }),
  );
  return {
    send: (value) => {
      socket.send(JSON.stringify(value));
      return Promise.resolve();
    },
    next: () => {
      const m = queue.shift();
      if (m !== undefined) return Promise.resolve(m);
      return within(
        STEP_TIMEOUT_MS,
        'WebSocket message',
        new Promise<Message | Message[]>((resolve) => waiters.push(resolve)),
      );
    },
    close: () => {
      socket.close();
      return Promise.resolve();
    },
  };
}

async function openSse(gatewayUrl: string): Promise<Connection> {
  const base = new URL(gatewayUrl).origin;
  const ac = new AbortController();
  const stream = await fetch(`${base}/sse`, {
    headers: { accept: 'text/event-stream' },
    signal: ac.signal,
  });
  expect(stream.status).toBe(200);
  const events = new SseReader(stream);
  const endpoint = (await events.next())?.data ?? '';
  expect(endpoint).toMatch(/^\/messages\?sessionId=/);
  return {
    send: async (value) => {
      const res = await fetch(`${base}${endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(value),
      });
      expect(res.status).toBe(202);
    },
    next: async () => {
      const m = await events.nextMessage<Message | Message[]>(STEP_TIMEOUT_MS);
      if (m === undefined) throw new Error('the SSE stream ended');
      return m;
    },
    close: async () => {
      ac.abort();
      await events.cancel().catch(() => undefined);
    },
  };
}

const TRANSPORTS: readonly [string, (gatewayUrl: string) => Promise<Connection>][] = [
  ['WebSocket', openWs],
  ['HTTP+SSE (2024-11-05)', openSse],
];

describe.each(TRANSPORTS)('legacy batches over %s through a gateway', (_name, open) => {
  it('the first frame after initialize at 2025-03-26 may be a batch (and later ones too)', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();
    const conn = await open(gateway.url);
    try {
      await conn.send(initialize(BATCH_VERSION));
      expect(await conn.next()).toMatchObject({
        id: 'init',
        result: { protocolVersion: BATCH_VERSION },
      });
      // No message in between: the gateway knows the revision from initialize's answer.
      await conn.send([ping('a'), ping('b')]);
      // Both answered in one batch (in either order), not refused as a whole.
      const batch = await conn.next();
      expect(Array.isArray(batch) ? [...batch].sort(byId) : batch).toEqual([
        { jsonrpc: '2.0', id: 'a', result: {} },
        { jsonrpc: '2.0', id: 'b', result: {} },
      ]);
      // A batch with the initialized notification in it, then a single message: still fine.
      await conn.send([INITIALIZED, ping('c'), ping('d')]);
      const second = (await conn.next()) as Message[];
      expect(second.map((m) => m.id).sort()).toEqual(['c', 'd']);
      await conn.send(ping('e'));
      expect(await conn.next()).toEqual({ jsonrpc: '2.0', id: 'e', result: {} });
      await conn.send([ping('f'), ping('g')]);
      const third = (await conn.next()) as Message[];
      expect(third.map((m) => m.id).sort()).toEqual(['f', 'g']);
    } finally {
      await conn.close();
    }
  });

  it('a ping before initialize (which creates the stored record) changes nothing', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();
    const conn = await open(gateway.url);
    try {
      await conn.send(ping('early'));
      expect(await conn.next()).toEqual({ jsonrpc: '2.0', id: 'early', result: {} });
      await conn.send(initialize(BATCH_VERSION));
      expect(await conn.next()).toMatchObject({
        id: 'init',
        result: { protocolVersion: BATCH_VERSION },
      });
      await conn.send([ping('a'), ping('b')]);
      const batch = await conn.next();
      expect(Array.isArray(batch) ? [...batch].sort(byId) : batch).toEqual([
        { jsonrpc: '2.0', id: 'a', result: {} },
        { jsonrpc: '2.0', id: 'b', result: {} },
      ]);
    } finally {
      await conn.close();
    }
  });

  it('a revision without batches still refuses one right after initialize (-32600)', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();
    const conn = await open(gateway.url);
    try {
      await conn.send(initialize(NO_BATCH_VERSION));
      expect(await conn.next()).toMatchObject({
        id: 'init',
        result: { protocolVersion: NO_BATCH_VERSION },
      });
      await conn.send([ping('a'), ping('b')]);
      expect(await conn.next()).toMatchObject({
        id: null,
        error: { code: -32600, message: 'batches are not supported in this revision' },
      });
      await conn.send(ping('c'));
      expect(await conn.next()).toEqual({ jsonrpc: '2.0', id: 'c', result: {} });
    } finally {
      await conn.close();
    }
  });

  it('an unsupported requested revision negotiates the latest one, which refuses batches', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker();
    const conn = await open(gateway.url);
    try {
      // Before initialize there is no revision yet: a batch is refused.
      await conn.send([ping('early-a'), ping('early-b')]);
      expect(await conn.next()).toMatchObject({ id: null, error: { code: -32600 } });
      await conn.send(initialize('2099-01-01'));
      const init = (await conn.next()) as Message;
      const negotiated = (init.result as { protocolVersion?: unknown } | undefined)
        ?.protocolVersion;
      expect(negotiated).not.toBe(BATCH_VERSION);
      await conn.send([ping('a'), ping('b')]);
      expect(await conn.next()).toMatchObject({ id: null, error: { code: -32600 } });
    } finally {
      await conn.close();
    }
  });
});

/**
 * Hostile input on the message-stream transports (stdio: the real CLI process; WebSocket):
 * each bad message gets its precise JSON-RPC error, and the connection keeps working.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliStdioParams,
  expectValidMessage,
  startTestServer,
  type TestServer,
} from '@mcp-cluster/testkit';

type Message = { id?: unknown; result?: unknown; error?: { code: number }; method?: string };

/** A line/frame-based peer: send raw text, await the next message that matches. */
interface Peer {
  send: (text: string) => void;
  next: (match?: (m: Message) => boolean) => Promise<Message>;
  close: () => Promise<void>;
}

function queue(): {
  push: (m: Message) => void;
  next: (match?: (m: Message) => boolean) => Promise<Message>;
} {
  const seen: Message[] = [];
  const waiting: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  return {
    push(m) {
      const i = waiting.findIndex((w) => w.match(m));
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
      else seen.push(m);
    },
    next(match = () => true) {
      const i = seen.findIndex(match);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      return new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

function stdioPeer(): Peer {
  const p = cliStdioParams();
  const child: ChildProcessWithoutNullStreams = spawn(p.command, p.args, {
    cwd: p.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  const q = queue();
  createInterface({ input: child.stdout }).on('line', (line) => {
    // stdout must carry only protocol messages: anything else fails the parse here.
    q.push(JSON.parse(line) as Message);
  });
  return {
    send: (text) => child.stdin.write(`${text}\n`),
    next: q.next,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
        child.kill('SIGTERM');
      }),
  };
}

async function wsPeer(url: string): Promise<Peer> {
  const socket = new WebSocket(url, 'mcp');
  const q = queue();
  socket.on('message', (data: Buffer) => q.push(JSON.parse(data.toString('utf8')) as Message));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    send: (text) => socket.send(text),
    next: q.next,
    close: () =>
      new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'hostile-streams', version: '1.0.0' },
  },
});

/** The error for a message we could not read carries id null; the schema types id as string|int. */
function expectValidError(m: Message): void {
  const { id, ...rest } = m;
  expectValidMessage('2025-11-25', id === null ? rest : m);
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

describe.each([
  { name: 'stdio', open: () => Promise.resolve(stdioPeer()) },
  { name: 'WebSocket', open: () => wsPeer(server.wsUrl) },
])('hostile input over $name', ({ open }) => {
  let peer: Peer;

  beforeAll(async () => {
    peer = await open();
    peer.send(initialize);
    const init = await peer.next((m) => m.id === 'init');
    expectValidMessage('2025-11-25', init, { method: 'initialize' });
    peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  });

  afterAll(async () => {
    await peer?.close();
  });

  it('malformed JSON -> -32700 with id null', async () => {
    peer.send('{"jsonrpc":"2.0","id":1,"method":');
    const m = await peer.next((x) => x.error !== undefined);
    expect(m).toMatchObject({ id: null, error: { code: -32700 } });
    expectValidError(m);
  });

  it('wrong member types -> -32600', async () => {
    peer.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 42 }));
    const m = await peer.next((x) => x.error !== undefined);
    expect(m.error?.code).toBe(-32600);
    expectValidError(m);
  });

  it('deep nesting -> -32600', async () => {
    peer.send(
      `{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":${'['.repeat(1000)}${']'.repeat(1000)}}}`,
    );
    const m = await peer.next((x) => x.error !== undefined);
    expect(m.error?.code).toBe(-32600);
    expectValidError(m);
  });

  it('unknown method -> -32601 with the request id', async () => {
    peer.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'no/such/method', params: {} }));
    const m = await peer.next((x) => x.id === 4);
    expect(m.error?.code).toBe(-32601);
    expectValidError(m);
  });

  it('wrong param types -> -32602 with the request id', async () => {
    peer.send(
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'resources/read', params: { uri: 42 } }),
    );
    const m = await peer.next((x) => x.id === 5);
    expect(m.error?.code).toBe(-32602);
    expectValidError(m);
  });

  it('keeps answering normal requests', async () => {
    peer.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list', params: {} }));
    const m = await peer.next((x) => x.id === 6);
    expectValidMessage('2025-11-25', m, { method: 'tools/list' });
    expect((m.result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
  });
});

/**
 * Test-only: local HTTP servers speaking each provider's documented API shape, recording
 * what they receive. Not exported from the package.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { listenLoopback } from '@mcp-cluster/test-support';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export interface StandIn extends AsyncDisposable {
  readonly url: string;
  readonly received: Received[];
  /** What the next requests get; the documented success shape by default. */
  reply: (req: Received) => Reply;
}

/** Chat Completions: `POST /v1/chat/completions` (base URL `${url}/v1`), Bearer key. */
export function openAiReply(text: string, model = 'gpt-test', finish = 'stop'): Reply {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    },
  };
}

/** Messages: `POST /v1/messages`, `x-api-key`, `anthropic-version`. */
export function anthropicReply(text: string, model = 'claude-test', stop = 'end_turn'): Reply {
  return {
    status: 200,
    body: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text }],
      stop_reason: stop,
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 6 },
    },
  };
}

export async function standIn(reply: (req: Received) => Reply): Promise<StandIn> {
  const received: Received[] = [];
  const self: { reply: (req: Received) => Reply } = { reply };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // Recorded as {}: the assertions on the body then fail.
      }
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      };
      received.push(r);
      const out = self.reply(r);
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.body));
    });
  });
  const url = await listenLoopback(server);
  return Object.assign(self, {
    url,
    received,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

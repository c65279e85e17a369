/**
 * Server-sent events for tests that read a stream one event at a time and need event ids
 * (Last-Event-ID resumption, priming events). `parseSseEvent` is the one SSE event parser:
 * `readMcpResponse` (http.ts) reads whole bodies with it.
 */
import { within } from './wait.js';

/** Bound on one read of the next event unless the caller gives one. */
export const DEFAULT_SSE_READ_TIMEOUT_MS = 15_000;
/** Bound on events read past a comment-only block or a priming event in one call. */
const MAX_EVENTS_PER_READ = 100_000;

export interface SseEvent {
  readonly id?: string;
  readonly retry?: number;
  /** The `data:` lines joined with newlines; '' for an event without data (priming). */
  readonly data: string;
}

/**
 * One event block (the text between blank lines, `\n` line ends); undefined for a block
 * of comments only (keep-alive), which is no event.
 */
export function parseSseEvent(block: string): SseEvent | undefined {
  let id: string | undefined;
  let retry: number | undefined;
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields++;
    if (field === 'id') id = value;
    else if (field === 'retry') retry = Number(value);
    else if (field === 'data') data.push(value);
  }
  if (fields === 0) return undefined;
  return {
    ...(id === undefined ? {} : { id }),
    ...(retry === undefined ? {} : { retry }),
    data: data.join('\n'),
  };
}

/**
 * Reads SSE events one at a time, keeping ids; every read is bounded. Messages are parsed
 * JSON typed as the caller's `T` (unchecked: tests assert on what they read).
 */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private done = false;

  constructor(response: Response) {
    if (!response.body) throw new Error(`no body (status ${response.status})`);
    this.reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  /** The next event, or undefined once the stream ended. */
  async next(timeoutMs = DEFAULT_SSE_READ_TIMEOUT_MS): Promise<SseEvent | undefined> {
    for (let i = 0; i < MAX_EVENTS_PER_READ; i++) {
      const event = this.take();
      if (event !== undefined) return event;
      if (this.done) return undefined;
      const { done, value } = await within(timeoutMs, 'next SSE event', this.reader.read());
      if (done) this.done = true;
      else this.buffer += this.decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    }
    throw new Error(`no SSE event in ${MAX_EVENTS_PER_READ} reads`);
  }

  /** The next JSON-RPC message (skips priming events); undefined at the end of the stream. */
  async nextMessage<T = unknown>(timeoutMs = DEFAULT_SSE_READ_TIMEOUT_MS): Promise<T | undefined> {
    for (let i = 0; i < MAX_EVENTS_PER_READ; i++) {
      const event = await this.next(timeoutMs);
      if (event === undefined) return undefined;
      if (event.data !== '') return JSON.parse(event.data) as T;
    }
    throw new Error(`no SSE message in ${MAX_EVENTS_PER_READ} events`);
  }

  /** Reads messages until one satisfies `match`, within `timeoutMs` in all; it and its id. */
  async until<T = unknown>(
    match: (message: T) => boolean,
    timeoutMs = DEFAULT_SSE_READ_TIMEOUT_MS,
  ): Promise<{ message: T; id: string | undefined }> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < MAX_EVENTS_PER_READ; i++) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === undefined) throw new Error('stream ended before the expected message');
      if (event.data === '') continue;
      const message = JSON.parse(event.data) as T;
      if (match(message)) return { message, id: event.id };
    }
    throw new Error(`no matching SSE message in ${MAX_EVENTS_PER_READ} events`);
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  /** Splits the next complete event off the buffer, passing over comment-only blocks. */
  private take(): SseEvent | undefined {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return undefined;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = parseSseEvent(block);
      if (event !== undefined) return event;
    }
  }
}

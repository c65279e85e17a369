/**
 * stdio: newline-delimited JSON in and out. Input framed with `Content-Length:` headers (the
 * seed's framing) is accepted too, detected per message. Output is always one JSON message
 * per line and carries nothing but protocol messages. One implicit session; EOF ends it once
 * the requests already read are answered.
 */
import type { Readable, Writable } from 'node:stream';
import { ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { MessageEngine } from '@mcp-cluster/server';
import { MessageConnection } from './connection.js';
import { errorResponse } from './wire.js';

export interface StdioOptions {
  readonly input: Readable;
  readonly output: Writable;
  readonly maxJsonDepth?: number;
  /** Most messages in one batch (default DEFAULT_TRANSPORT_SETTINGS.maxBatchLength). */
  readonly maxBatchLength?: number;
  /** Largest message accepted (bytes); longer lines are answered with an error and dropped. */
  readonly maxMessageBytes?: number;
  /**
   * When the input ends, requests already read are answered before the transport closes;
   * this long at most (default DEFAULT_STDIO_DRAIN_MS). `close()` does not wait.
   */
  readonly drainMs?: number;
}

export const DEFAULT_STDIO_DRAIN_MS = 30_000;

export interface StdioTransport extends AsyncDisposable {
  /** Resolves when the input ended (or `close` was called) and the session is gone. */
  readonly closed: Promise<void>;
  close(): void;
}

const NL = 0x0a;
const CONTENT_LENGTH = /^content-length:\s*(\d+)\s*$/i;
const HEADER_END = Buffer.from('\r\n\r\n');

/** Splits a byte stream into message texts, whichever framing each message uses. */
export class StdioFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Dropping the rest of an oversized line. */
  private skipping = false;

  constructor(
    private readonly onMessage: (text: string) => void,
    private readonly onOversize: () => void,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.skipping) {
        const nl = this.buf.indexOf(NL);
        if (nl < 0) {
          this.buf = Buffer.alloc(0);
          return;
        }
        this.buf = this.buf.subarray(nl + 1);
        this.skipping = false;
      }
      let start = 0;
      while (start < this.buf.length && isSpace(this.buf[start] as number)) start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) return;
      if (!this.next()) return;
    }
  }

  /** Consumes one message if complete; false when more input is needed. */
  private next(): boolean {
    const b = this.buf;
    // 'C' or 'c': a Content-Length header block (JSON never starts with a letter).
    if (b[0] === 0x43 || b[0] === 0x63) {
      const end = b.indexOf(HEADER_END);
      if (end < 0) return this.tooLong(b.length);
      let length: number | undefined;
      for (const line of b.subarray(0, end).toString('latin1').split('\r\n')) {
        const m = CONTENT_LENGTH.exec(line);
        if (m) length = Number(m[1]);
      }
      if (length === undefined || length > this.maxBytes) {
        this.buf = b.subarray(end + HEADER_END.length);
        this.onOversize();
        return true;
      }
      const bodyStart = end + HEADER_END.length;
      if (b.length < bodyStart + length) return false;
      this.onMessage(b.subarray(bodyStart, bodyStart + length).toString('utf8'));
      this.buf = b.subarray(bodyStart + length);
      return true;
    }
    const nl = b.indexOf(NL);
    if (nl < 0) return this.tooLong(b.length);
    this.buf = b.subarray(nl + 1);
    if (nl > this.maxBytes) {
      this.onOversize();
      return true;
    }
    const line = b.subarray(0, nl).toString('utf8');
    if (line.trim() !== '') this.onMessage(line);
    return true;
  }

  private tooLong(pending: number): boolean {
    if (pending > this.maxBytes) {
      this.buf = Buffer.alloc(0);
      this.skipping = true;
      this.onOversize();
    }
    return false;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Serves one implicit session over a pair of streams (process.stdin/stdout in the CLI). */
export function serveStdio(engine: MessageEngine, options: StdioOptions): StdioTransport {
  const { input, output } = options;
  const send = (m: JsonRpcMessage | readonly JsonRpcMessage[]): void => {
    if (output.writable) output.write(`${JSON.stringify(m)}\n`);
  };
  const conn = new MessageConnection(engine, send, {
    maxJsonDepth: options.maxJsonDepth ?? 64,
    ...(options.maxBatchLength === undefined ? {} : { maxBatchLength: options.maxBatchLength }),
  });
  const framer = new StdioFramer(
    (text) => conn.receiveText(text),
    () =>
      send(
        errorResponse(
          null,
          new ProtocolError(RpcError.PayloadTooLarge.code, RpcError.PayloadTooLarge.message),
        ),
      ),
    options.maxMessageBytes ?? 4 * 1024 * 1024,
  );
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const onData = (chunk: Buffer | string): void =>
    framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  let ended = false;
  const close = (): void => {
    ended = true;
    input.off('data', onData);
    input.off('end', finish);
    input.off('close', finish);
    conn.close();
    resolveClosed();
  };
  // The input ended: the requests already read still get their answers (up to drainMs).
  const finish = (): void => {
    if (ended) return;
    ended = true;
    input.off('data', onData);
    input.off('end', finish);
    input.off('close', finish);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, options.drainMs ?? DEFAULT_STDIO_DRAIN_MS);
      timer.unref();
    });
    void Promise.race([conn.settled(), deadline]).then(() => {
      clearTimeout(timer);
      conn.close();
      resolveClosed();
    });
  };
  input.on('data', onData);
  input.once('end', finish);
  input.once('close', finish);
  return {
    closed,
    close,
    [Symbol.asyncDispose]: () => {
      close();
      return closed;
    },
  };
}

/**
 * Server-Sent Events plumbing: a writer over one HTTP response, and the per-stream replay
 * log behind Last-Event-ID resumability (event ids are `<streamId>:<seq>`, so an id names
 * its stream).
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { LegacySession } from '@mcp-cluster/server';
import { messageText } from '@mcp-cluster/server';

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Reverse proxies (nginx) must not buffer: frames are read as they come.
  'x-accel-buffering': 'no',
});

/**
 * What a draining server does with an open SSE response (see StreamRegistry.drain):
 * `reconnect` ends it at once with `retry:` so the client resumes elsewhere (nothing is in
 * flight on it); `finish` leaves it open until its request answers (the reply is produced
 * here), ended at the drain deadline; a function takes over (legacy `/sse`: ends the stream
 * once its in-flight answers are delivered).
 */
export type SseDrain = 'reconnect' | 'finish' | (() => void);

/** One SSE response. Writes go straight to the socket (no buffering on our side). */
export class SseWriter {
  /** See SseDrain; a POST's response stream by default. */
  drain: SseDrain = 'finish';
  /**
   * The id of the stream's last event, once the stream was primed (sessions >= 2025-11-25):
   * the farewell repeats it, so a client resumes from it even if it read no event here.
   */
  lastEventId: (() => string) | undefined;
  private closed = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private closeListeners: (() => void)[] | undefined;

  /**
   * @param open every writer still open, so a shutdown can end them (see `mcpTransports`).
   */
  constructor(
    private readonly res: ServerResponse,
    private readonly open: Set<SseWriter>,
    headers?: Readonly<Record<string, string>>,
  ) {
    res.writeHead(200, headers ? { ...SSE_HEADERS, ...headers } : SSE_HEADERS);
    res.flushHeaders();
    open.add(this);
    res.once('close', () => this.dispose());
  }

  get isOpen(): boolean {
    return !this.closed && !this.res.destroyed;
  }

  /** Writes a raw frame; false when the response is gone. */
  write(frame: string): boolean {
    if (!this.isOpen) return false;
    this.res.write(frame);
    return true;
  }

  /** Writes an id-less `data:` event (modern streams). */
  send(message: JsonRpcMessage): boolean {
    return this.write(`data: ${messageText(message)}\n\n`);
  }

  /** Keep-alive comments every `ms`; `alive()` returning false ends the stream instead. */
  startKeepAlive(ms: number, alive?: () => boolean): void {
    if (this.keepAlive !== undefined) return;
    this.keepAlive = setInterval(() => {
      if (alive !== undefined && !alive()) this.end();
      else this.write(': keep-alive\n\n');
    }, ms);
    this.keepAlive.unref();
  }

  /** Runs `fn` once when the stream ends, by either side (synchronously on `end()`). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else (this.closeListeners ??= []).push(fn);
  }

  /**
   * SEP-1699 ending: `retry:` (with the last event id on primed streams, as a data-less
   * priming event) then close; the client reconnects after `retryMs` with Last-Event-ID, to
   * whichever node the load balancer picks.
   */
  farewell(retryMs: number): void {
    const id = this.lastEventId?.();
    this.write(
      id === undefined ? `retry: ${retryMs}\n\n` : `id: ${id}\nretry: ${retryMs}\ndata: \n\n`,
    );
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.dispose();
    if (!this.res.writableEnded) this.res.end();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.open.delete(this);
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (listeners !== undefined) for (const fn of listeners) fn();
  }
}

interface LoggedEvent {
  readonly seq: number;
  readonly frame: string;
}

/**
 * One resumable stream of a legacy session: the standalone GET stream ("0") or one POST's
 * response stream. Events are logged (bounded) and written to the live connection, if any.
 */
/**
 * Where a cluster gateway mirrors its resumable streams so another gateway can resume them
 * (implemented by @mcp-cluster/cluster's RedisStreamMirror). `message` undefined = stream ended.
 */
export interface StreamMirror {
  record(
    sessionId: string,
    streamId: string,
    seq: number,
    message: JsonRpcMessage | undefined,
  ): void;
  resume(
    sessionId: string,
    streamId: string,
    afterSeq: number,
    write: (seq: number, message: JsonRpcMessage) => boolean,
    signal: AbortSignal,
    maxMs: number,
  ): Promise<ResumeOutcome>;
  /** When the stream's last event (or end) was recorded, on its recorder's clock (ms). */
  lastAt(sessionId: string, streamId: string): Promise<number | undefined>;
  /**
   * Marks a POST stream, opened before its request ran, as carrying the answer to `requestId`
   * from this process: a node resuming it learns if this process dies before answering.
   */
  pending(sessionId: string, streamId: string, seq: number, requestId: string | number): void;
  /** True when the stream ended and holds nothing after event `afterSeq`. */
  finished(sessionId: string, streamId: string, afterSeq: number): Promise<boolean>;
}

/**
 * How following a mirrored stream ended: nothing known of it, its end reached, still open when
 * following stopped, or orphaned: the process that was to answer `orphaned` is gone.
 */
export type ResumeOutcome = 'unknown' | 'ended' | 'open' | { readonly orphaned: string | number };

/**
 * What a node delivered nowhere while a session's standalone stream was attached nowhere: the
 * messages for `session` among those raised after `since` (ms, the clock of the node that
 * recorded the stream's last event; undefined: that stream recorded nothing) and before
 * `until` (this node's clock, the moment it attached the session). See StreamableHttp.get.
 */
export type StreamGap = (
  session: LegacySession,
  since: number | undefined,
  until: number,
) => Promise<readonly JsonRpcMessage[]>;

/**
 * Stream ids unique across gateways (`<idPrefix><n>`, idPrefix ending in STREAM_ID_SEPARATOR),
 * mirrored for resumption anywhere.
 */
export interface SharedStreams {
  readonly idPrefix: string;
  readonly mirror: StreamMirror;
  /** Fills the gap when a node takes over another node's standalone stream. */
  readonly gap?: StreamGap;
}

/** The SSE frame of one logged event. */
export function eventFrame(streamId: string, seq: number, message: JsonRpcMessage): string {
  return `id: ${streamId}:${seq}\ndata: ${messageText(message)}\n\n`;
}

export class EventStream {
  private seq = 0;
  private readonly log: LoggedEvent[] = [];
  /** The connection currently carrying this stream; undefined while disconnected. */
  live: SseWriter | undefined;
  /** True once the stream's last message (the POST's response) was pushed. */
  done = false;

  constructor(
    readonly id: string,
    private readonly maxLog: number,
    private readonly mirror?: { readonly sessionId: string; readonly to: StreamMirror },
  ) {}

  /**
   * Logs and writes one message. True when it reached a live connection or was logged for a
   * resume (a client that dropped the stream can still answer a server->client request).
   */
  push(message: JsonRpcMessage): boolean {
    const seq = ++this.seq;
    const frame = eventFrame(this.id, seq, message);
    this.mirror?.to.record(this.mirror.sessionId, this.id, seq, message);
    if (this.maxLog > 0) {
      this.log.push({ seq, frame });
      if (this.log.length > this.maxLog) this.log.shift();
    }
    const written = this.live?.write(frame) ?? false;
    return written || this.maxLog > 0 || this.mirror !== undefined;
  }

  /** The stream got its last message (its POST's response). */
  end(): void {
    this.done = true;
    this.mirror?.to.record(this.mirror.sessionId, this.id, this.seq, undefined);
  }

  /** True when the stream got its response and holds nothing after event `seq`. */
  finishedBy(seq: number): boolean {
    return this.done && this.seq <= seq;
  }

  /** This stream will carry the answer to `requestId` (see StreamMirror.pending). */
  pending(requestId: string | number): void {
    this.mirror?.to.pending(this.mirror.sessionId, this.id, this.seq, requestId);
  }

  /** The priming event (an id and empty data) plus `retry:`, so a client can resume at once. */
  prime(writer: SseWriter, retryMs: number): void {
    writer.write(`id: ${this.id}:${this.seq}\nretry: ${retryMs}\ndata: \n\n`);
    writer.lastEventId = () => `${this.id}:${this.seq}`;
  }

  /** Writes every logged event after `seq` to `writer`. */
  replayAfter(seq: number, writer: SseWriter): void {
    for (const e of this.log) if (e.seq > seq) writer.write(e.frame);
  }

  /** Moves the stream onto a new connection (ending the previous one). */
  attach(writer: SseWriter): void {
    if (this.live !== undefined && this.live !== writer) this.live.end();
    this.live = writer;
    writer.onClose(() => {
      if (this.live === writer) this.live = undefined;
    });
  }
}

/** Standalone GET stream id; POST streams count up from 1. */
export const STANDALONE_STREAM = '0';
/** Ends a SharedStreams idPrefix, so a stream id says whether it is a standalone stream. */
export const STREAM_ID_SEPARATOR = '~';

export function isStandaloneStreamId(id: string): boolean {
  return id === STANDALONE_STREAM || id.endsWith(`${STREAM_ID_SEPARATOR}${STANDALONE_STREAM}`);
}

/** Completed POST streams kept for replay per session (oldest dropped first). */
const MAX_DONE_STREAMS = 32;

/** The resumable streams of one legacy session. */
export class SessionStreams {
  private nextId = 1;
  private readonly streams = new Map<string, EventStream>();
  private readonly mirror: { readonly sessionId: string; readonly to: StreamMirror } | undefined;
  readonly standaloneId: string;

  constructor(
    private readonly maxLog: number,
    sessionId = '',
    private readonly shared?: SharedStreams,
  ) {
    this.mirror = shared === undefined ? undefined : { sessionId, to: shared.mirror };
    this.standaloneId = `${shared?.idPrefix ?? ''}${STANDALONE_STREAM}`;
  }

  standalone(): EventStream {
    let s = this.streams.get(this.standaloneId);
    if (s === undefined) {
      s = new EventStream(this.standaloneId, this.maxLog, this.mirror);
      this.streams.set(this.standaloneId, s);
    }
    return s;
  }

  /** The standalone stream if it exists. */
  peekStandalone(): EventStream | undefined {
    return this.streams.get(this.standaloneId);
  }

  /** A new POST response stream. */
  open(): EventStream {
    const s = new EventStream(
      `${this.shared?.idPrefix ?? ''}${this.nextId++}`,
      this.maxLog,
      this.mirror,
    );
    this.streams.set(s.id, s);
    return s;
  }

  get(id: string): EventStream | undefined {
    return this.streams.get(id);
  }

  /** Called when a POST stream got its response: bounds how many finished logs are kept. */
  finished(stream: EventStream): void {
    stream.end();
    let done = 0;
    for (const s of this.streams.values()) if (s.done) done++;
    if (done <= MAX_DONE_STREAMS) return;
    for (const [id, s] of this.streams) {
      if (s.done && s.live === undefined) {
        this.streams.delete(id);
        if (--done <= MAX_DONE_STREAMS) return;
      }
    }
  }

  /** Ends every live connection (session deleted). */
  endAll(): void {
    for (const s of this.streams.values()) s.live?.end();
    this.streams.clear();
  }
}

/**
 * Replay state lives beside the engine's session, keyed weakly: it goes away with the
 * session object, so no sweep is needed.
 */
export class StreamRegistry {
  private readonly bySession = new WeakMap<LegacySession, SessionStreams>();
  /** Every SSE response currently open (any transport), ended on shutdown. */
  readonly open = new Set<SseWriter>();

  constructor(
    private readonly maxLog: number,
    /** Set on cluster gateways: ids unique across gateways, streams mirrored. */
    readonly shared?: SharedStreams,
  ) {}

  of(session: LegacySession): SessionStreams {
    let s = this.bySession.get(session);
    if (s === undefined) {
      s = new SessionStreams(this.maxLog, session.id, this.shared);
      this.bySession.set(session, s);
    }
    return s;
  }

  peek(session: LegacySession): SessionStreams | undefined {
    return this.bySession.get(session);
  }

  /** True the first time it is asked about `session` (one end-listener per session). */
  firstWatch(session: LegacySession): boolean {
    if (this.watched.has(session)) return false;
    this.watched.add(session);
    return true;
  }

  private readonly watched = new WeakSet<LegacySession>();
  /**
   * Standalone streams whose connection a drain ended: the session stays attached here and
   * what it is sent is still logged (and mirrored), so the client's resume on another node
   * replays what came in between; ended (end marker mirrored) when the node closes.
   */
  private readonly lingering = new Set<EventStream>();

  linger(stream: EventStream): void {
    this.lingering.add(stream);
  }

  get lingeringCount(): number {
    return this.lingering.size;
  }

  /**
   * Drain: ends every `reconnect` stream with its farewell and hands each stream with its own
   * drain to it; POST response streams stay open until their request answers.
   */
  drain(retryMs: number): void {
    for (const w of [...this.open]) {
      if (w.drain === 'reconnect') w.farewell(retryMs);
      else if (w.drain !== 'finish') w.drain();
    }
  }

  /**
   * Ends every open SSE response (server shutdown); with `retryMs`, each gets its farewell
   * first, so a client whose request had not answered yet resumes it on another node.
   */
  endAll(retryMs?: number): void {
    for (const w of [...this.open]) {
      if (retryMs === undefined) w.end();
      else w.farewell(retryMs);
    }
    // The mirror's end marker ends the brief follow of a node taking one of them over.
    for (const stream of this.lingering) stream.end();
    this.lingering.clear();
  }
}

/** Parses `<streamId>:<seq>`; undefined when malformed. */
export function parseEventId(raw: string | undefined): { stream: string; seq: number } | undefined {
  if (raw === undefined) return undefined;
  const colon = raw.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seq = Number(raw.slice(colon + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { stream: raw.slice(0, colon), seq };
}

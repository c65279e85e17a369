/**
 * A transport wrapper for the official SDK client that records every message in both
 * directions, remembers which method each response answers, and validates everything the
 * server sent against the schema of the negotiated revision.
 */
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { validateAgainstSchema, type SchemaCheck } from '@mcp-cluster/test-support';

export interface RecordedMessage {
  readonly message: JSONRPCMessage;
  /** For responses: the method of the client request it answers. */
  readonly method?: string;
}

export interface RecordedViolation extends RecordedMessage {
  readonly check: SchemaCheck;
}

type Id = string | number;
type Matcher = (message: JSONRPCMessage) => boolean;

function idOf(m: JSONRPCMessage): Id | undefined {
  return 'id' in m && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : undefined;
}

export class RecordingTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?:
    (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  /** Messages the server sent, in arrival order. */
  readonly received: RecordedMessage[] = [];
  /** Messages the client sent. */
  readonly sent: JSONRPCMessage[] = [];
  /** The negotiated revision (from the initialize result), when known. */
  protocolVersion: string | undefined;

  private readonly pending = new Map<Id, string>();
  private waiters: { sent: boolean; match: Matcher; resolve: (m: JSONRPCMessage) => void }[] = [];

  constructor(readonly inner: Transport) {
    inner.onmessage = (message, extra) => {
      this.record(message);
      this.onmessage?.(message, extra);
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.sent.push(message);
    this.wake(true, message);
    const id = idOf(message);
    if (id !== undefined && 'method' in message) this.pending.set(id, message.method);
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
    this.inner.setProtocolVersion?.(version);
  }

  /** Resolves with the first message the server sent (so far or later) that matches. */
  waitForReceived(match: Matcher): Promise<JSONRPCMessage> {
    return this.waitFor(false, match);
  }

  /** Resolves with the first message the client sent (so far or later) that matches. */
  waitForSent(match: Matcher): Promise<JSONRPCMessage> {
    return this.waitFor(true, match);
  }

  private waitFor(sent: boolean, match: Matcher): Promise<JSONRPCMessage> {
    const seen = sent ? this.sent : this.received.map((r) => r.message);
    const found = seen.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ sent, match, resolve }));
  }

  private wake(sent: boolean, message: JSONRPCMessage): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (w.sent !== sent || !w.match(message)) return true;
      w.resolve(message);
      return false;
    });
  }

  private record(message: JSONRPCMessage): void {
    this.doRecord(message);
    this.wake(false, message);
  }

  private doRecord(message: JSONRPCMessage): void {
    const id = idOf(message);
    if (id !== undefined && !('method' in message)) {
      const method = this.pending.get(id);
      this.pending.delete(id);
      if (method === 'initialize' && 'result' in message) {
        const v = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof v === 'string') this.protocolVersion = v;
      }
      this.received.push(method === undefined ? { message } : { message, method });
      return;
    }
    this.received.push({ message });
  }

  /** Methods of the server's messages (notifications and requests), in order. */
  methods(): string[] {
    return this.received.flatMap((r) => ('method' in r.message ? [r.message.method] : []));
  }

  /** Every received message that fails its schema definition (revision: negotiated one). */
  violations(revision = this.protocolVersion): RecordedViolation[] {
    if (revision === undefined) throw new Error('no negotiated protocol version recorded');
    const out: RecordedViolation[] = [];
    for (const r of this.received) {
      const check = validateAgainstSchema(
        revision,
        r.message,
        r.method === undefined ? {} : { method: r.method },
      );
      if (!check.valid) out.push({ ...r, check });
    }
    return out;
  }

  /** Throws with the details of every invalid message the server sent. */
  expectAllValid(revision = this.protocolVersion): void {
    const bad = this.violations(revision);
    if (bad.length > 0) {
      const lines = bad.map(
        (b) =>
          `${b.method ?? ('method' in b.message ? b.message.method : '?')}: ${b.check.errors.join('; ')}` +
          ` — ${JSON.stringify(b.message).slice(0, 500)}`,
      );
      throw new Error(`${bad.length} server message(s) violate the schema:\n${lines.join('\n')}`);
    }
  }
}

/** Wraps an SDK client transport so that every message is recorded. */
export function recordTransport(inner: Transport): RecordingTransport {
  return new RecordingTransport(inner);
}

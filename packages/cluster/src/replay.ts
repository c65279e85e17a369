/**
 * SSE replay log: every event written to a resumable stream is appended here, so a client
 * reconnecting with Last-Event-ID to ANY gateway gets what it missed.
 * Event ids are `<streamId>:<seq>`; the stream is recoverable from the id alone.
 */
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import { z } from 'zod';

import { ClusterStateError, parseStored } from './errors.js';

export interface ReplayEvent {
  readonly id: string;
  readonly message: JsonRpcMessage;
}

export interface ReplayLog {
  /** Appends and returns the SSE event id to send with the message. */
  append(streamId: string, message: JsonRpcMessage): Promise<string>;
  /**
   * Events after `lastEventId`, oldest first. undefined when the id is not from this
   * stream or fell out of the bounded log (the caller cannot resume losslessly).
   */
  readAfter(streamId: string, lastEventId: string): Promise<ReplayEvent[] | undefined>;
}

const SEP = ':';

export function eventId(streamId: string, seq: string): string {
  return `${streamId}${SEP}${seq}`;
}

/** Splits an event id; undefined when it is not one of ours. */
export function parseEventId(id: string): { streamId: string; seq: string } | undefined {
  const i = id.lastIndexOf(SEP);
  if (i <= 0 || i === id.length - 1) return undefined;
  return { streamId: id.slice(0, i), seq: id.slice(i + 1) };
}

const messageSchema = z.looseObject({ jsonrpc: z.literal('2.0') });

export function decodeMessage(text: string, id: string): JsonRpcMessage {
  const parsed = messageSchema.safeParse(parseStored(text, `replay event ${id}`));
  if (!parsed.success) {
    throw new ClusterStateError('corrupt', `replay event ${id}: not a JSON-RPC message`, {
      cause: parsed.error,
    });
  }
  // Shape beyond the envelope was validated when the message was first sent.
  return parsed.data as unknown as JsonRpcMessage;
}

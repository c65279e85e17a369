/**
 * The task record as stored in Redis (one hash) and its validated decoding. A snapshot is a
 * `StoredTaskView`, so the in-memory host's wire views (@mcp-cluster/server) serve it as is.
 */
import { z } from 'zod';
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { Era, StoredTaskView, TaskError, TaskJob, TaskStatus } from '@mcp-cluster/server';

/** Local error: a stored value failed validation. Never crosses the wire as such. */
export class TaskStoreError extends Error {
  override readonly name = 'TaskStoreError';
}

/** How a task runs: a BullMQ job any node may take, or a closure on the creating node. */
export type TaskKind = 'job' | 'local';

/** What a node needs to rebuild a RequestContext for a durable job. */
export interface StoredContext {
  readonly era: Era;
  readonly protocolVersion: string;
  readonly principal: { id: string; kind: 'anonymous' | 'user' | 'service'; roles: string[] };
  readonly principalClaims?: JsonObject;
  readonly sessionId?: string;
  readonly clientCapabilities: JsonObject;
  readonly clientInfo?: JsonObject;
  /**
   * The W3C trace context (`traceparent`, `tracestate`) of the call that created the task:
   * each run of it links there. Absent while tracing is off.
   */
  readonly trace?: Readonly<Record<string, string>>;
}

const jsonObject = z.record(z.string(), z.unknown());

const storedContextSchema = z.object({
  era: z.enum(['legacy', 'modern']),
  protocolVersion: z.string(),
  principal: z.object({
    id: z.string(),
    kind: z.enum(['anonymous', 'user', 'service']),
    roles: z.array(z.string()),
  }),
  principalClaims: jsonObject.optional(),
  sessionId: z.string().optional(),
  clientCapabilities: jsonObject,
  trace: z.record(z.string(), z.string()).optional(),
  clientInfo: jsonObject.optional(),
});

const jobSchema = z.object({
  tool: z.string(),
  arguments: jsonObject,
  resumable: z.boolean(),
});

const statusSchema = z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']);

const errorSchema = z.object({
  code: z.number(),
  message: z.string(),
  data: z.unknown().optional(),
});

const inputEntrySchema = z.object({
  n: z.number(),
  r: z.object({ method: z.string(), params: jsonObject.optional() }),
});

/** A stored answer: the client's result, or its error (2025-11-25 refusals). */
const answerSchema = z.union([z.object({ ok: jsonObject }), z.object({ err: errorSchema })]);
export type StoredAnswer = { ok: JsonObject } | { err: TaskError };

/** Published on the events channel by every script that changes a task. */
const eventSchema = z.object({
  id: z.string(),
  s: statusSchema,
  u: z.string(),
  m: z.string().optional(),
  x: z.number(),
  b: z.number().optional(),
});
export interface TaskEvent {
  readonly id: string;
  readonly status: TaskStatus;
  readonly lastUpdatedAt: string;
  readonly statusMessage: string | undefined;
  /** A status transition (reported to legacy clients), not only an input change. */
  readonly transition: boolean;
  /** A run of the task began (BEGIN) with this generation: earlier runs lost the task. */
  readonly runBegan: number | undefined;
}

/** A decoded record: the fields the wire views read (StoredTaskView) plus the host's own. */
export interface TaskSnapshot extends StoredTaskView {
  /** Who may see the task (`ownerOf`). */
  readonly owner: string;
  readonly era: Era;
  /** Epoch ms after which the task is gone, by the host's clock. */
  readonly expiresAt: number;
  readonly kind: TaskKind;
  readonly context: StoredContext;
  readonly job: TaskJob | undefined;
  /** Pending input requests in the order the tool asked. */
  readonly inputs: readonly (readonly [string, InputRequest])[];
  /** The node whose run of the durable job began last; undefined while none has begun. */
  readonly runner: string | undefined;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new TaskStoreError(`${what}: stored value is not JSON`, { cause });
  }
}

function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(parseJson(text, what));
  if (!parsed.success) throw new TaskStoreError(`${what}: ${parsed.error.message}`);
  return parsed.data;
}

function field(hash: Record<string, string>, name: string, what: string): string {
  const v = hash[name];
  if (v === undefined) throw new TaskStoreError(`${what}: field ${name} missing`);
  return v;
}

/** Decodes HGETALL of a record and its inputs hash; undefined when the record is gone. */
export function decodeSnapshot(
  id: string,
  hash: Record<string, string>,
  inputs: Record<string, string>,
): TaskSnapshot | undefined {
  if (Object.keys(hash).length === 0 || hash.s === undefined) return undefined;
  const what = `task ${id}`;
  const status = statusSchema.safeParse(hash.s);
  if (!status.success) throw new TaskStoreError(`${what}: bad status`);
  const kind = field(hash, 'k', what);
  if (kind !== 'job' && kind !== 'local') throw new TaskStoreError(`${what}: bad kind`);
  const era = field(hash, 'e', what);
  if (era !== 'legacy' && era !== 'modern') throw new TaskStoreError(`${what}: bad era`);
  const entries = Object.entries(inputs).map(([key, text]) => {
    const e = parseWith(inputEntrySchema, text, `${what} input`);
    return { key, n: e.n, request: e.r as InputRequest };
  });
  entries.sort((a, b) => a.n - b.n);
  const storedError =
    hash.er === undefined ? undefined : parseWith(errorSchema, hash.er, `${what} error`);
  return {
    id,
    owner: field(hash, 'o', what),
    era,
    seq: Number(field(hash, 'q', what)),
    createdAt: field(hash, 'c', what),
    ttlMs: Number(field(hash, 't', what)),
    status: status.data,
    statusMessage: hash.m,
    lastUpdatedAt: field(hash, 'u', what),
    expiresAt: Number(field(hash, 'x', what)),
    result:
      hash.r === undefined
        ? undefined
        : // Written by this module from a CallToolResult; only its JSON-ness is checked here.
          (parseWith(jsonObject, hash.r, `${what} result`) as unknown as CallToolResult),
    error: storedError === undefined ? undefined : wireError(storedError),
    kind,
    context: parseWith(storedContextSchema, field(hash, 'ctx', what), `${what} context`),
    job: hash.j === undefined ? undefined : parseWith(jobSchema, hash.j, `${what} job`),
    inputs: entries.map((e) => [e.key, e.request] as const),
    // `n` is the creating node until a run begins (BEGIN sets the token `tok` with it).
    runner: hash.tok === undefined ? undefined : hash.n,
  };
}

/** `data` only when present, as the in-memory host stores it. */
function wireError(e: { code: number; message: string; data?: unknown }): TaskError {
  return e.data === undefined
    ? { code: e.code, message: e.message }
    : { code: e.code, message: e.message, data: e.data };
}

export function decodeAnswer(text: string, what: string): StoredAnswer {
  const a = parseWith(answerSchema, text, what);
  return 'ok' in a ? { ok: a.ok } : { err: wireError(a.err) };
}

/** A message from the events channel; undefined (dropped) when it is not one of ours. */
export function decodeEvent(text: string): TaskEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  const e = eventSchema.safeParse(raw);
  if (!e.success) return undefined;
  return {
    id: e.data.id,
    status: e.data.s,
    lastUpdatedAt: e.data.u,
    statusMessage: e.data.m,
    transition: e.data.x === 1,
    runBegan: e.data.b,
  };
}

/**
 * JSON-RPC 2.0 codec: text -> value with a depth limit, value -> typed message with precise
 * -32600 errors. Runs on every incoming message, so it validates in place and returns the
 * parsed object itself instead of copying it.
 */
import { ProtocolError, RpcError } from './errors.js';
import type { JsonRpcMessage, RequestId } from './jsonrpc.js';

/** Limits applied before JSON.parse. */
export interface ParseLimits {
  /** Deepest allowed nesting of arrays/objects; the top-level value is depth 1. */
  readonly maxDepth: number;
  /** Longest string (key or value) allowed, in characters of JSON text; unbounded if absent. */
  readonly maxStringLength?: number;
}

/**
 * An invalid JSON-RPC message (-32600). `requestId` is the message's id when it could be read
 * and the message was not a response, so the transport can echo it; otherwise null (the
 * JSON-RPC rule for unreadable ids). Invalid responses carry null: answering them with their
 * own id would look like a failure of the peer's request of the same id.
 */
export class InvalidMessageError extends ProtocolError {
  override readonly name: string = 'InvalidMessageError';
  readonly requestId: RequestId | null;

  constructor(message: string, requestId: RequestId | null) {
    super(RpcError.InvalidRequest.code, message);
    this.requestId = requestId;
  }
}

const CH_QUOTE = 0x22;
const CH_BACKSLASH = 0x5c;
const CH_LBRACKET = 0x5b;
const CH_RBRACKET = 0x5d;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;

/**
 * True when the text holds at most `max` opening brackets in all (strings included), which
 * bounds the depth. Native indexOf makes this far cheaper than a char loop for the typical
 * small message; bigger ones fall through to the exact scan.
 */
function fewOpeners(text: string, max: number): boolean {
  let count = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
    if (++count > max) return false;
  }
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) {
    if (++count > max) return false;
  }
  return true;
}

/**
 * Nesting depth check by a linear scan of the text (brackets outside strings), so a hostile
 * 1e6-deep payload is rejected before anything recurses over it. Returns true when the text
 * stays within `maxDepth`. Malformed text is left for JSON.parse to reject.
 */
function withinDepth(text: string, maxDepth: number): boolean {
  // A text shorter than the limit cannot nest deeper than it.
  if (text.length <= maxDepth) return true;
  if (fewOpeners(text, maxDepth)) return true;
  let depth = 0;
  let inString = false;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === CH_BACKSLASH) i++;
      else if (c === CH_QUOTE) inString = false;
    } else if (c === CH_QUOTE) {
      inString = true;
    } else if (c === CH_LBRACE || c === CH_LBRACKET) {
      if (++depth > maxDepth) return false;
    } else if (c === CH_RBRACE || c === CH_RBRACKET) {
      depth--;
    }
  }
  return true;
}

/**
 * True when no string literal of the text is longer than `max` characters (escapes counted
 * as written). Texts no longer than `max` pass without a scan. An unterminated string is left
 * for JSON.parse to reject.
 */
function stringsWithin(text: string, max: number): boolean {
  if (text.length <= max) return true;
  let start = -1;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (start >= 0) {
      if (c === CH_BACKSLASH) i++;
      else if (c === CH_QUOTE) {
        if (i - start - 1 > max) return false;
        start = -1;
      }
    } else if (c === CH_QUOTE) {
      start = i;
    }
  }
  return true;
}

/**
 * Parses one HTTP body / stdio line / WebSocket frame. Throws ProtocolError -32700 for
 * malformed JSON and -32600 when nesting exceeds `limits.maxDepth` or a string exceeds
 * `limits.maxStringLength` (both checked first, without recursion). A leading UTF-8 BOM is
 * ignored (RFC 8259 section 8.1).
 */
export function parseJsonText(text: string, limits: ParseLimits): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!withinDepth(text, limits.maxDepth)) {
    throw new ProtocolError(
      RpcError.InvalidRequest.code,
      `JSON nesting exceeds the depth limit of ${limits.maxDepth}`,
    );
  }
  const maxString = limits.maxStringLength;
  if (maxString !== undefined && !stringsWithin(text, maxString)) {
    throw new ProtocolError(
      RpcError.InvalidRequest.code,
      `A JSON string exceeds the length limit of ${maxString} characters`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // The engine's text (e.g. "Unexpected token } in JSON at position 3") stays local.
    throw new ProtocolError(RpcError.ParseError.code, RpcError.ParseError.message, undefined, {
      cause: err,
    });
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isValidId(v: unknown): v is RequestId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * Checks one parsed value against JSON-RPC 2.0 as MCP uses it and returns it typed (the same
 * object, not a copy). Throws InvalidMessageError (-32600) with a precise message:
 * not an object, `jsonrpc` not "2.0", id not a string or finite number, method not a
 * string, params not an object (MCP params are always objects; arrays are rejected),
 * a response with both or neither of result/error, a malformed error object.
 * A failure response may have `id: null` (JSON-RPC: the peer could not read our id).
 */
export function decodeMessage(value: unknown): JsonRpcMessage {
  if (!isPlainObject(value)) {
    throw new InvalidMessageError('message must be a JSON object', null);
  }
  const hasMethod = 'method' in value;
  const hasId = 'id' in value;
  const id = value.id;
  const idOk = hasId && isValidId(id);
  const isResponseShape = !hasMethod && ('result' in value || 'error' in value);
  // Echo the id only when this is (an attempt at) a request.
  const echoId: RequestId | null = idOk && !isResponseShape ? id : null;

  if (value.jsonrpc !== '2.0') {
    throw new InvalidMessageError('jsonrpc must be "2.0"', echoId);
  }

  if (hasMethod) {
    if (hasId && !idOk) {
      throw new InvalidMessageError('id must be a string or a finite number', null);
    }
    if (typeof value.method !== 'string') {
      throw new InvalidMessageError('method must be a string', echoId);
    }
    const params = value.params;
    if (params !== undefined && !isPlainObject(params)) {
      throw new InvalidMessageError('params must be an object', echoId);
    }
    return value as unknown as JsonRpcMessage;
  }

  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (!hasResult && !hasError) {
    throw new InvalidMessageError('message must have a method, a result or an error', echoId);
  }
  if (hasResult && hasError) {
    throw new InvalidMessageError('response must not have both result and error', null);
  }
  if (hasResult) {
    if (!idOk) throw new InvalidMessageError('id must be a string or a finite number', null);
    if (!isPlainObject(value.result)) {
      throw new InvalidMessageError('result must be an object', null);
    }
    return value as unknown as JsonRpcMessage;
  }
  if (!idOk && !(hasId && id === null)) {
    throw new InvalidMessageError('id must be a string, a finite number or null', null);
  }
  const error = value.error;
  if (!isPlainObject(error)) {
    throw new InvalidMessageError('error must be an object', null);
  }
  if (typeof error.code !== 'number' || !Number.isInteger(error.code)) {
    throw new InvalidMessageError('error.code must be an integer', null);
  }
  if (typeof error.message !== 'string') {
    throw new InvalidMessageError('error.message must be a string', null);
  }
  return value as unknown as JsonRpcMessage;
}

/** One entry of a decoded batch: a message, or the error to answer for that entry. */
export type BatchEntry = JsonRpcMessage | InvalidMessageError;

/**
 * A decoded body. A single message is returned as is (its own invalidity was thrown). In a
 * batch each entry is decoded on its own, as JSON-RPC requires: the transport answers
 * invalid entries with their error and dispatches the rest.
 */
export type DecodedBody =
  | { readonly batch: false; readonly message: JsonRpcMessage }
  | { readonly batch: true; readonly entries: readonly BatchEntry[] };

export interface DecodeOptions {
  /** True only where the revision allows batches (2025-03-26; see `allowsBatch`). */
  readonly allowBatch: boolean;
  /** Most entries a batch may have; a longer one is refused whole. Unbounded when absent. */
  readonly maxBatchLength?: number;
}

/** The -32600 of a batch over `max` entries (id null: no entry is answered on its own). */
function batchTooLongError(length: number, max: number): InvalidMessageError {
  return new InvalidMessageError(
    `batch of ${length} messages exceeds the limit of ${max} messages per batch`,
    null,
  );
}

/**
 * Decodes a parsed body. Throws InvalidMessageError for an invalid single message, for an
 * array when batches are not allowed, for an empty array and for one longer than
 * `maxBatchLength` (before any entry is looked at). `initialize` inside a batch is an
 * invalid entry (it must be sent alone).
 */
export function decodeBody(value: unknown, opts: DecodeOptions): DecodedBody {
  if (!Array.isArray(value)) {
    return { batch: false, message: decodeMessage(value) };
  }
  if (!opts.allowBatch) {
    throw new InvalidMessageError('batches are not supported in this revision', null);
  }
  if (value.length === 0) {
    throw new InvalidMessageError('batch must not be empty', null);
  }
  if (opts.maxBatchLength !== undefined && value.length > opts.maxBatchLength) {
    throw batchTooLongError(value.length, opts.maxBatchLength);
  }
  const entries: BatchEntry[] = new Array<BatchEntry>(value.length);
  for (let i = 0; i < value.length; i++) {
    entries[i] = decodeEntry(value[i]);
  }
  return { batch: true, entries };
}

function decodeEntry(value: unknown): BatchEntry {
  try {
    const message = decodeMessage(value);
    if ('method' in message && message.method === 'initialize') {
      return new InvalidMessageError(
        'initialize must not be part of a batch',
        'id' in message ? message.id : null,
      );
    }
    return message;
  } catch (err) {
    if (err instanceof InvalidMessageError) return err;
    throw err;
  }
}

/** True for a batch entry that failed to decode. */
export function isInvalidEntry(entry: BatchEntry): entry is InvalidMessageError {
  return entry instanceof InvalidMessageError;
}

/** Serializes one message or a batch of responses. */
export function encode(message: JsonRpcMessage | readonly JsonRpcMessage[]): string {
  return JSON.stringify(message);
}

/**
 * The gateway <-> worker dispatch wire, besides the envelope (envelope.ts): paths, extra
 * headers, the streamed response format and how ids name the worker that minted them.
 *
 * One POST per client message. The worker answers:
 * - 202, empty: the message was a notification or a client response;
 * - 200 `application/json`: the JSON-RPC response alone (the common, cheap case);
 * - 200 `application/x-ndjson`: a stream, one JSON value per line — notifications and
 *   server->client requests as they happen, control lines, then the response last. A worker
 *   also starts one (headers only, at once) for a request whose answer is not ready within
 *   its ack delay (`firstByteTimeout` below): such a stream may hold the response alone;
 * - 4xx/5xx `application/json` `{ "error": { "code", "message" } }`: the dispatch itself
 *   failed (bad envelope 400, unknown session 404, draining 503); nothing ran. A refused
 *   authentication (401, or 503 when the replay check cannot be made) also names its
 *   `reason` (dispatch-auth.ts).
 */

export const DISPATCH_PATH = '/dispatch';
export const HEALTH_PATH = '/healthz';
/** A node's readiness: 200 when it takes work, 503 with the reasons otherwise. */
export const READY_PATH = '/readyz';

export const DISPATCH_HEADERS = Object.freeze({
  /** Legacy: the session's stored version, so a worker refreshes a stale cached copy. */
  sessionVersion: 'x-mcp-cluster-session-version',
  /** Legacy `initialize`: the session does not exist yet; the worker creates it on success. */
  sessionNew: 'x-mcp-cluster-session-new',
  /**
   * Modern tools/call: the gateway could not check Mcp-Param-* (it has no tool schemas); the
   * worker checks the forwarded Mcp-Method / Mcp-Name / Mcp-Param-* headers against the body.
   */
  checkParams: 'x-mcp-cluster-check-params',
  /**
   * Requests: the sender's first-byte timeout in ms (signed with the rest). A worker whose
   * answer is not ready after {@link ackDelayMs} of it sends 200 NDJSON headers at once and
   * the response later as the stream's last line, so only a hung worker hits the timeout.
   * Absent: the worker answers when it has the answer (a sender without a first-byte bound).
   */
  firstByteTimeout: 'x-mcp-cluster-first-byte-timeout',
});

/** Shortest ack delay: below it, acknowledging costs more than the timeout it guards. */
export const MIN_ACK_DELAY_MS = 50;

/**
 * How long a worker holds a request's answer back before it acknowledges (sends the stream's
 * headers): a quarter of the sender's first-byte timeout, at least {@link MIN_ACK_DELAY_MS}.
 * A quarter leaves the worker three quarters for timer slack and a busy event loop; most
 * answers are ready well before it and stay one plain JSON write. Undefined: no valid
 * timeout named (absent or malformed), no early ack.
 */
export function ackDelayMs(firstByteTimeout: string | undefined): number | undefined {
  if (firstByteTimeout === undefined) return undefined;
  const ms = Number(firstByteTimeout);
  if (!Number.isSafeInteger(ms) || ms <= 0) return undefined;
  return Math.max(MIN_ACK_DELAY_MS, Math.floor(ms / 4));
}

export const NDJSON_TYPE = 'application/x-ndjson';

/** Control line: the worker asks the gateway to end the client's response stream (SEP-1699). */
export const CLOSE_STREAM_LINE = '{"mcpCluster":"close-stream"}';

/** Separator between a worker id and its own counter in ids the worker mints. */
const CLIENT_REQUEST_SEP = '/';
const TASK_SEP = '~';

/** Prefix of a worker's server->client request ids: the client's answer names the worker. */
export function clientRequestIdPrefix(workerId: string): string {
  return `${workerId}${CLIENT_REQUEST_SEP}`;
}

/** The worker that sent a server->client request, from the id the client answers with. */
export function workerOfClientRequest(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const i = id.lastIndexOf(CLIENT_REQUEST_SEP);
  return i > 0 ? id.slice(0, i) : undefined;
}

/** A task id that names the worker that started it (routing hint; the store is the truth). */
export function taskIdFor(workerId: string, random: string): string {
  return `${workerId}${TASK_SEP}${random}`;
}

export function workerOfTask(taskId: unknown): string | undefined {
  if (typeof taskId !== 'string') return undefined;
  const i = taskId.indexOf(TASK_SEP);
  return i > 0 ? taskId.slice(0, i) : undefined;
}

/** Why a worker refused a dispatch's authentication (dispatch-auth.ts). */
export type DispatchRefusal =
  /** 401: unsigned, or not signed by a secret this worker knows. */
  | 'signature'
  /** 401: signed, but without a well-formed nonce or issue time. */
  | 'nonce'
  /** 401: the issue time is outside the signature validity (+/- the clock skew). */
  | 'expired'
  /** 401: the nonce was used before, on this or another worker (a replay). */
  | 'replayed'
  /** 503: the shared nonce store did not answer; nothing ran (retryable). */
  | 'replay-check-unavailable'
  /**
   * 503: the worker runs its `maxConcurrency` requests already (a gateway that counts only its
   * own sent one more); nothing ran. Another worker may take it; this one stays in.
   */
  | 'saturated'
  /**
   * 421: addressed to another worker process (one that was at this address before, or
   * another worker); nothing ran. The sender's view of the registry is stale.
   */
  | 'audience';

/** Body of a failed dispatch (4xx/5xx). */
export interface DispatchFailure {
  readonly error: { readonly code: number; readonly message: string };
  /** Set when the worker refused the dispatch's authentication. */
  readonly reason?: DispatchRefusal;
}

import { z } from 'zod';

/**
 * The one module naming every NATS subject the cluster uses and the schema of each payload.
 * Subjects are `<prefix>.<area>.<...>`; the prefix is `mcp` in production and unique per test.
 */

/** Default subject prefix (see {@link resolvePrefix}). */
export const DEFAULT_SUBJECT_PREFIX = 'mcp';

/** Every event type on the bus; fixed set, tagged union discriminant. */
export const BusEventType = {
  WorkerUp: 'worker.up',
  WorkerDown: 'worker.down',
  RegistryChanged: 'registry.changed',
  ToolsListChanged: 'tools.list_changed',
  PromptsListChanged: 'prompts.list_changed',
  ResourcesListChanged: 'resources.list_changed',
  ResourceUpdated: 'resources.updated',
  SessionDeliver: 'session.deliver',
  SessionCancel: 'session.cancel',
  /** A session was ended (DELETE) through some gateway: the others end its streams. */
  SessionEnded: 'session.ended',
  /**
   * A session's stored record or pin was written (create, update, re-pin): gateways holding a
   * cached copy re-read it. `version` is the record's new version (absent for a re-pin, which
   * does not bump it).
   */
  SessionChanged: 'session.changed',
  /**
   * A credential was revoked (token service, API key): every gateway re-checks the open
   * connections it holds with it. Carries non-secret identifiers only (`token:<jti>`, …).
   */
  CredentialRevoked: 'credential.revoked',
  /**
   * A gateway's circuit breaker for a worker changed state (its record in Redis was written
   * with this generation): every gateway holds the worker back (open, half-open) or releases
   * it (closed). `at`: when the writing gateway made the transition (epoch ms).
   */
  BreakerChanged: 'breaker.changed',
} as const;
export type BusEventType = (typeof BusEventType)[keyof typeof BusEventType];

export const BUS_EVENT_TYPES: readonly BusEventType[] = Object.values(BusEventType);

/** Event types addressed to one session (subject carries the session id). */
export const SESSION_EVENT_TYPES: ReadonlySet<BusEventType> = new Set([
  BusEventType.SessionDeliver,
  BusEventType.SessionCancel,
  BusEventType.SessionEnded,
  BusEventType.SessionChanged,
]);

const id = z.string().min(1).max(512);
/** Identifiers one credential.revoked event may carry. */
export const MAX_REVOKED_IDS = 16;
const workerId = id;
const sessionId = id;
const requestId = z.union([z.string(), z.number().int()]);
/** A JSON-RPC message as it crosses the bus; the gateway writes it to the client as-is. */
const jsonRpcMessage = z.looseObject({ jsonrpc: z.literal('2.0') });

export const busEventSchemas = {
  [BusEventType.WorkerUp]: z.object({
    type: z.literal(BusEventType.WorkerUp),
    workerId,
    url: z.string().optional(),
  }),
  [BusEventType.WorkerDown]: z.object({
    type: z.literal(BusEventType.WorkerDown),
    workerId,
    reason: z.string().optional(),
  }),
  [BusEventType.RegistryChanged]: z.object({
    type: z.literal(BusEventType.RegistryChanged),
    workerId,
  }),
  [BusEventType.ToolsListChanged]: z.object({
    type: z.literal(BusEventType.ToolsListChanged),
    workerId: workerId.optional(),
  }),
  [BusEventType.PromptsListChanged]: z.object({
    type: z.literal(BusEventType.PromptsListChanged),
    workerId: workerId.optional(),
  }),
  [BusEventType.ResourcesListChanged]: z.object({
    type: z.literal(BusEventType.ResourcesListChanged),
    workerId: workerId.optional(),
  }),
  [BusEventType.ResourceUpdated]: z.object({
    type: z.literal(BusEventType.ResourceUpdated),
    uri: z.string().min(1),
  }),
  [BusEventType.SessionDeliver]: z.object({
    type: z.literal(BusEventType.SessionDeliver),
    sessionId,
    message: jsonRpcMessage,
  }),
  [BusEventType.SessionEnded]: z.object({
    type: z.literal(BusEventType.SessionEnded),
    sessionId,
  }),
  [BusEventType.SessionChanged]: z.object({
    type: z.literal(BusEventType.SessionChanged),
    sessionId,
    version: z.number().int().positive().optional(),
  }),
  [BusEventType.CredentialRevoked]: z.object({
    type: z.literal(BusEventType.CredentialRevoked),
    ids: z.array(id).min(1).max(MAX_REVOKED_IDS),
  }),
  [BusEventType.BreakerChanged]: z.object({
    type: z.literal(BusEventType.BreakerChanged),
    workerId,
    state: z.enum(['closed', 'open', 'half-open']),
    generation: z.number().int().nonnegative(),
    openedAt: z.number().int().nonnegative(),
    until: z.number().int().nonnegative(),
    updatedBy: id,
    updatedAt: z.number().int().nonnegative(),
    at: z.number().int().nonnegative(),
    /**
     * An open announced before its record was written: `generation` is the one it opened
     * over; the written record follows in its own event.
     */
    provisional: z.boolean().optional(),
  }),
  [BusEventType.SessionCancel]: z.object({
    type: z.literal(BusEventType.SessionCancel),
    sessionId,
    requestId,
    reason: z.string().optional(),
  }),
} as const satisfies Record<BusEventType, z.ZodType>;

type Schemas = typeof busEventSchemas;
/** One event on the bus; exhaustive switches on `type`. */
export type BusEvent = { [K in BusEventType]: z.infer<Schemas[K]> }[BusEventType];
export type BusEventOf<T extends BusEventType> = Extract<BusEvent, { type: T }>;

const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Validates a prefix: dot-separated tokens without wildcards or spaces. */
export function resolvePrefix(prefix: string | undefined): string {
  const p = prefix ?? DEFAULT_SUBJECT_PREFIX;
  if (!PREFIX_RE.test(p)) throw new TypeError(`invalid NATS subject prefix: ${JSON.stringify(p)}`);
  return p;
}

const SAFE_TOKEN_RE = /^[A-Za-z0-9_-]+$/;

/**
 * Encodes an id as one NATS subject token. Safe ids pass unchanged; anything else
 * (dots, wildcards, spaces) becomes `~` + base64url, which cannot collide with a safe id.
 */
export function subjectToken(value: string): string {
  return SAFE_TOKEN_RE.test(value) ? value : `~${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** Subject for an event type; session events need the session id (or `*` for all sessions). */
export function subjectFor(prefix: string, type: BusEventType, sessionId?: string): string {
  if (!SESSION_EVENT_TYPES.has(type)) return `${prefix}.${type}`;
  return `${prefix}.${type}.${sessionId === undefined ? '*' : subjectToken(sessionId)}`;
}

/** Subject an event is published on. */
export function subjectOf(prefix: string, event: BusEvent): string {
  return subjectFor(prefix, event.type, 'sessionId' in event ? event.sessionId : undefined);
}

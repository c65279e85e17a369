/** Options of `createMemoryTaskHost`: defaults written once, resolved and frozen at creation. */
import { randomBytes } from 'node:crypto';

export interface MemoryTaskHostOptions {
  /** TTL when the request names none. */
  readonly defaultTtlMs?: number;
  /** Upper bound on a requested TTL. */
  readonly maxTtlMs?: number;
  /** Lower bound on a requested TTL, so a result is never gone before a poll can see it. */
  readonly minTtlMs?: number;
  /** Suggested polling interval sent with every task view. */
  readonly pollIntervalMs?: number;
  /** Page size of legacy `tasks/list`. */
  readonly pageSize?: number;
  /** How often expired tasks are swept (lookups also check expiry, so this bounds memory only). */
  readonly sweepIntervalMs?: number;
  /** Report legacy status changes as `notifications/tasks/status` on the creating request's outbound. */
  readonly statusNotifications?: boolean;
  /** Clock (epoch ms); injected by tests. */
  readonly now?: () => number;
  /** Task ids; must be unique, unguessable and URL-safe. */
  readonly idFactory?: () => string;
}

export type ResolvedTaskHostOptions = Required<MemoryTaskHostOptions>;

export const DEFAULT_TASK_HOST_OPTIONS = Object.freeze({
  defaultTtlMs: 3_600_000,
  maxTtlMs: 86_400_000,
  minTtlMs: 1_000,
  pollIntervalMs: 500,
  pageSize: 50,
  sweepIntervalMs: 60_000,
  statusNotifications: true,
  now: Date.now,
  idFactory: randomTaskId,
} satisfies ResolvedTaskHostOptions);

/** 128 random bits, base64url: URL-safe and header-safe (it travels in `Mcp-Name`). */
export function randomTaskId(): string {
  return randomBytes(16).toString('base64url');
}

export function resolveTaskHostOptions(
  input: MemoryTaskHostOptions = {},
): Readonly<ResolvedTaskHostOptions> {
  const d = DEFAULT_TASK_HOST_OPTIONS;
  const o: { -readonly [K in keyof ResolvedTaskHostOptions]: ResolvedTaskHostOptions[K] } = {
    defaultTtlMs: input.defaultTtlMs ?? d.defaultTtlMs,
    maxTtlMs: input.maxTtlMs ?? d.maxTtlMs,
    minTtlMs: input.minTtlMs ?? d.minTtlMs,
    pollIntervalMs: input.pollIntervalMs ?? d.pollIntervalMs,
    pageSize: input.pageSize ?? d.pageSize,
    sweepIntervalMs: input.sweepIntervalMs ?? d.sweepIntervalMs,
    statusNotifications: input.statusNotifications ?? d.statusNotifications,
    now: input.now ?? d.now,
    idFactory: input.idFactory ?? d.idFactory,
  };
  requirePositiveIntegers('task host', o, [
    'defaultTtlMs',
    'maxTtlMs',
    'minTtlMs',
    'pollIntervalMs',
    'pageSize',
    'sweepIntervalMs',
  ]);
  if (o.minTtlMs > o.maxTtlMs) throw new RangeError('task host minTtlMs exceeds maxTtlMs');
  o.defaultTtlMs = Math.min(Math.max(o.defaultTtlMs, o.minTtlMs), o.maxTtlMs);
  return Object.freeze(o);
}

/** RangeError `${owner} option ${key} must be a positive integer` for the first key that is not. */
export function requirePositiveIntegers<K extends string>(
  owner: string,
  options: Readonly<Record<K, number>>,
  keys: readonly K[],
): void {
  for (const key of keys) {
    const v = options[key];
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new RangeError(`${owner} option ${key} must be a positive integer`);
    }
  }
}

/** The TTL a task gets: the request's, clamped to [minTtlMs, maxTtlMs]; the default when absent. */
export function effectiveTtl(
  requested: number | undefined,
  o: Readonly<ResolvedTaskHostOptions>,
): number {
  if (requested === undefined || !Number.isFinite(requested)) return o.defaultTtlMs;
  return Math.min(Math.max(Math.round(requested), o.minTtlMs), o.maxTtlMs);
}

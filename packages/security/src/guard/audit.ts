/**
 * The audit trail of refusals: one structured line per denied request (who, what, why,
 * from where). Never a credential, a token or a request's parameter values.
 */
import { METRICS } from '@mcp-cluster/observability';
import type { Metrics } from '@mcp-cluster/observability';
export type AuditEventType =
  | 'unauthenticated'
  | 'locked_out'
  | 'rate_limited'
  | 'forbidden'
  | 'bad_signature'
  /** Open connections were closed: their credential expired or was revoked. */
  | 'credential_ended';

export interface AuditEvent {
  readonly event: AuditEventType;
  readonly principal?: string | undefined;
  readonly method?: string | undefined;
  /** The permission a denied action needed (e.g. `tools:call:delete_db`). */
  readonly permission?: string | undefined;
  readonly reason?: string | undefined;
  readonly remoteAddress?: string | undefined;
}

export type AuditSink = (event: AuditEvent) => void;

/** Writes each event as one JSON line: `{"audit":true,"time":…,"event":…,…}`. */
export function jsonAuditSink(
  write: (line: string) => void,
  now = (): number => Date.now(),
): AuditSink {
  return (event) => {
    const line: Record<string, unknown> = { audit: true, time: new Date(now()).toISOString() };
    for (const [k, v] of Object.entries(event)) if (v !== undefined) line[k] = v;
    write(`${JSON.stringify(line)}\n`);
  };
}

/**
 * Counts audit events as metrics: refusals by authentication or authorization in
 * `mcp_auth_denials_total{reason=<event>}`, rate-limit refusals in
 * `mcp_rate_limit_denials_total{limit=principal|policy|tool}`. Label values come from this
 * fixed set, never from the event's free text.
 */
export function auditMetrics(metrics: Metrics): AuditSink | undefined {
  if (!metrics.enabled) return undefined;
  const denials = metrics.counter(METRICS.authDenials);
  const limited = metrics.counter(METRICS.rateLimitDenials);
  return (event) => {
    if (event.event !== 'rate_limited') {
      denials.inc({ reason: event.event });
      return;
    }
    const kind = event.reason?.split(' ', 1)[0];
    limited.inc({ limit: kind === 'policy' || kind === 'tool' ? kind : 'principal' });
  };
}

/**
 * Per-message security in front of any MessageEngine (the embedded engine, a gateway's
 * dispatching engine): request signatures, permissions, per-tool rate limits, and lists filtered to
 * what the caller may use. It runs where the client's message arrives, before anything is
 * dispatched, so a refused request has no side effect anywhere.
 */
import { ProtocolError, RpcError, securityUnavailable, toWireError } from '@mcp-cluster/protocol';
import type {
  JsonObject,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '@mcp-cluster/protocol';
import type { MessageEngine, Principal, RequestContext } from '@mcp-cluster/server';
import { canonicalRequest } from '@mcp-cluster/server';
import { quoteParam } from '../authn/types.js';
import type { RateLimiter } from '../stores/types.js';
import type { AuditSink } from './audit.js';
import { installListFilter } from './list-filter.js';

/** What the guard needs of an authorizer (see createAuthorizer). */
export interface GuardAuthorizer {
  check(input: {
    readonly principal: Principal;
    readonly method: string;
    readonly params: Readonly<Record<string, unknown>> | undefined;
    readonly remoteAddress?: string | undefined;
  }):
    | {
        readonly allowed: true;
        readonly charges?: readonly { readonly policy: string; readonly key: string }[];
      }
    | { readonly allowed: false; readonly reason: string; readonly permission: string };
  filterList(principal: Principal, method: string, result: JsonObject): JsonObject;
}

/** What the guard needs of a request-signature verifier (see createRequestVerifier). */
export interface GuardVerifier {
  verify(input: {
    readonly principal: { readonly id: string };
    readonly method: string;
    readonly params: Readonly<Record<string, unknown>> | undefined;
  }): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }>;
}

export interface EngineGuardOptions {
  readonly authorizer?: GuardAuthorizer | undefined;
  readonly verifier?: GuardVerifier | undefined;
  /** Bucket per principal and tool for `tools/call` (`t:<principal>:<tool>`). */
  readonly toolLimiter?: RateLimiter | undefined;
  /** The buckets of the authorizer's rate policies, by policy label. */
  readonly policyLimiters?: ReadonlyMap<string, RateLimiter> | undefined;
  /** RFC 9728 metadata URL for the step-up challenge of bearer-token callers. */
  readonly resourceMetadataUrl?: string | undefined;
  readonly audit?: AuditSink | undefined;
  /** Store faults (Redis down) that refused a request, for the operator's log. */
  readonly onError?: ((err: unknown, what: string) => void) | undefined;
}

const LIST_METHODS: ReadonlySet<string> = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

/** A header-safe rendering of client-influenced text (visible ASCII, the rest %-encoded). */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c));
}

/** Principals from bearer tokens (JWT claims) get an RFC 6750 step-up challenge. */
function isTokenPrincipal(p: Principal): boolean {
  const claims = p.claims;
  return claims !== undefined && (typeof claims['iss'] === 'string' || 'scope' in claims);
}

function failure(id: JsonRpcRequest['id'], err: ProtocolError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toWireError(err) };
}

export class GuardedEngine implements MessageEngine {
  readonly sessions: MessageEngine['sessions'];

  constructor(
    private readonly inner: MessageEngine,
    private readonly o: EngineGuardOptions,
  ) {
    this.sessions = inner.sessions;
  }

  async handleRequest(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonRpcResponse> {
    // Permissions are checked on the canonical form of every resource uri, and the inner
    // engine (and through it routing and the handler) gets exactly that form.
    try {
      request = canonicalRequest(request, ctx.era);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.o.audit?.({
        event: 'forbidden',
        principal: ctx.principal.id,
        method: request.method,
        reason: err.message,
        remoteAddress: ctx.remoteAddress,
      });
      return failure(request.id, err);
    }
    let refusal: ProtocolError | undefined;
    try {
      refusal = await this.refusal(request, ctx);
    } catch (err) {
      // A store fault (Redis down) must not open the door: the request is refused, retryably.
      this.o.onError?.(err, 'security checks failed');
      return failure(request.id, securityUnavailable());
    }
    if (refusal !== undefined) return failure(request.id, refusal);
    // What the engine derives from its lists (completion values) hides the same items.
    if (this.o.authorizer !== undefined) installListFilter(ctx, this.o.authorizer);
    const response = await this.inner.handleRequest(request, ctx);
    if (
      this.o.authorizer !== undefined &&
      LIST_METHODS.has(request.method) &&
      'result' in response
    ) {
      const result = this.o.authorizer.filterList(ctx.principal, request.method, response.result);
      return { ...response, result };
    }
    return response;
  }

  handleNotification(notification: JsonRpcNotification, ctx: RequestContext): Promise<void> {
    return this.inner.handleNotification(notification, ctx);
  }

  toolDescriptor(name: string): ReturnType<MessageEngine['toolDescriptor']> {
    return this.inner.toolDescriptor(name);
  }

  /** The authorizer's decision for the request, and for each uri a listen stream asks about. */
  private authorize(
    request: JsonRpcRequest,
    ctx: RequestContext,
  ): ReturnType<GuardAuthorizer['check']> {
    const authorizer = this.o.authorizer;
    if (authorizer === undefined) return { allowed: true };
    const input = { principal: ctx.principal, remoteAddress: ctx.remoteAddress };
    const decision = authorizer.check({ ...input, method: request.method, params: request.params });
    if (!decision.allowed) return decision;
    for (const uri of listenedUris(request)) {
      const d = authorizer.check({ ...input, method: 'resources/read', params: { uri } });
      if (!d.allowed) return d;
    }
    return decision;
  }

  /** Why the request must not run, or undefined. Order: signature, permission, rate limit. */
  private async refusal(
    request: JsonRpcRequest,
    ctx: RequestContext,
  ): Promise<ProtocolError | undefined> {
    const { principal } = ctx;
    const audit = (
      event: 'forbidden' | 'bad_signature' | 'rate_limited',
      reason: string,
      permission?: string,
    ): void =>
      this.o.audit?.({
        event,
        principal: principal.id,
        method: request.method,
        permission,
        reason,
        remoteAddress: ctx.remoteAddress,
      });
    if (this.o.verifier !== undefined) {
      const verdict = await this.o.verifier.verify({
        principal,
        method: request.method,
        params: request.params,
      });
      if (!verdict.ok) {
        audit('bad_signature', verdict.reason);
        return new ProtocolError(RpcError.Unauthorized.code, `Unauthorized: ${verdict.reason}`);
      }
    }
    if (this.o.authorizer !== undefined) {
      const decision = this.authorize(request, ctx);
      if (!decision.allowed) {
        audit('forbidden', decision.reason, decision.permission);
        const data: Record<string, string> = { permission: decision.permission };
        if (isTokenPrincipal(principal)) {
          const metadata =
            this.o.resourceMetadataUrl === undefined
              ? ''
              : `, resource_metadata=${quoteParam(this.o.resourceMetadataUrl)}`;
          data['wwwAuthenticate'] =
            `Bearer error="insufficient_scope", scope=${quoteParam(headerSafe(decision.permission))}${metadata}`;
        }
        return new ProtocolError(RpcError.Forbidden.code, `Forbidden: ${decision.reason}`, data);
      }
      for (const charge of decision.charges ?? []) {
        const limiter = this.o.policyLimiters?.get(charge.policy);
        // A policy without a bucket is a wiring fault: refuse rather than not limit.
        if (limiter === undefined) throw new Error(`no bucket for rate policy ${charge.policy}`);
        const taken = await limiter.take(charge.key);
        if (!taken.allowed) {
          audit('rate_limited', `policy ${charge.policy}`);
          return new ProtocolError(RpcError.RateLimited.code, 'Rate limit exceeded', {
            retryAfterMs: taken.retryAfterMs,
          });
        }
      }
    }
    if (this.o.toolLimiter !== undefined && request.method === 'tools/call') {
      const name = request.params?.['name'];
      if (typeof name === 'string') {
        const decision = await this.o.toolLimiter.take(`t:${principal.id}:${name}`);
        if (!decision.allowed) {
          audit('rate_limited', `tool ${name}`);
          return new ProtocolError(RpcError.RateLimited.code, 'Rate limit exceeded', {
            retryAfterMs: decision.retryAfterMs,
          });
        }
      }
    }
    return undefined;
  }
}

/** `resources/updated` carries a uri: listening to one needs the right to read it. */
function listenedUris(request: JsonRpcRequest): string[] {
  if (request.method !== 'subscriptions/listen') return [];
  const n = request.params?.['notifications'];
  const uris =
    typeof n === 'object' && n !== null
      ? (n as Record<string, unknown>)['resourceSubscriptions']
      : undefined;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/** Wraps `engine` with the configured checks; returns it unchanged when there are none. */
export function guardEngine(engine: MessageEngine, options: EngineGuardOptions): MessageEngine {
  const active =
    options.authorizer !== undefined ||
    options.verifier !== undefined ||
    options.toolLimiter !== undefined;
  return active ? new GuardedEngine(engine, options) : engine;
}

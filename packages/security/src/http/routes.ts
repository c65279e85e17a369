/**
 * The security routes beside the MCP endpoint, outside the guarded MCP routes (a client
 * must reach them before it has a token): RFC 9728 metadata and, when the token service is
 * on, `POST /oauth/token` and `POST /oauth/revoke`.
 */
import { retryAfterSeconds } from '@mcp-cluster/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from '@mcp-cluster/transports';
import { addressLockoutId, userLockoutId } from '../guard/admission.js';
import type { AuditSink } from '../guard/audit.js';
import type { Principal } from '../principal.js';
import {
  handleRevokeRequest,
  handleTokenRequest,
  MAX_TOKEN_REQUEST_BYTES,
} from '../tokens/endpoint.js';
import type { AttemptGate, TokenHttpRequest, TokenHttpResponse } from '../tokens/endpoint.js';
import type { TokenService } from '../tokens/service.js';
import type { LockoutStore } from '../stores/types.js';
import {
  AS_METADATA_PATH,
  METADATA_PATH,
  authorizationServerMetadata,
  issuerUrl,
  resourceMetadata,
} from './metadata.js';

export const TOKEN_PATH = '/oauth/token';
export const REVOKE_PATH = '/oauth/revoke';

export interface SecurityRoutesOptions {
  /** The MCP endpoint path (`/mcp`): the metadata is also served path-suffixed. */
  readonly path: string;
  /** Configured resource identifier; derived from each request's Host when absent. */
  readonly resource?: string | undefined;
  readonly authorizationServers: readonly string[];
  readonly scopesSupported?: readonly string[] | undefined;
  readonly tokens?: TokenService | undefined;
  /**
   * Failed token requests count towards the client address's lockout; a client secret or
   * password is checked inside the attempt budget of the address and the client/user name.
   */
  readonly lockout?: LockoutStore | undefined;
  /** Refused token requests (failed credentials, lockouts) are audited like `/mcp`'s. */
  readonly audit?: AuditSink | undefined;
}

/** A credential check refused by the attempt budget (no hash ran). */
class AttemptRefused extends Error {
  override readonly name = 'AttemptRefused';

  constructor(
    readonly locked: boolean,
    readonly retryAfterMs: number,
  ) {
    super(locked ? 'too many failed attempts' : 'too many concurrent attempts');
  }
}

/**
 * The attempt budget around one token request's credential checks: each is reserved on the
 * address and the name before it runs, a failure is counted (and audited) after it, a success
 * gives the reservation back and clears the name's count. `failures` counts what it audited.
 */
function attemptGate(
  lockout: LockoutStore,
  address: string,
  remoteAddress: string,
  audit: AuditSink | undefined,
  failures: { count: number },
): AttemptGate {
  return async (name, check) => {
    const ids = [address, userLockoutId(name)];
    const attempt = await lockout.begin(ids);
    if (!attempt.granted) throw new AttemptRefused(attempt.locked, attempt.retryAfterMs);
    let principal: Principal | undefined;
    try {
      principal = await check();
    } catch (err) {
      // Not the caller's fault: the reservation goes back (or lapses with the store).
      await lockout.finish(ids, attempt.ticket, false).catch(() => undefined);
      throw err;
    }
    if (principal === undefined) {
      failures.count++;
      audit?.({ event: 'unauthenticated', reason: 'invalid credentials', remoteAddress });
      await lockout.finish(ids, attempt.ticket, true);
    } else {
      await Promise.all([lockout.finish(ids, attempt.ticket, false), lockout.reset(ids.slice(1))]);
    }
    return principal;
  };
}

function plainHeaders(req: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function send(reply: FastifyReply, r: TokenHttpResponse): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body);
}

export async function registerSecurityRoutes(
  app: FastifyInstance,
  options: SecurityRoutesOptions,
): Promise<void> {
  const tokens = options.tokens;
  // The token service is discoverable when its issuer is a URL: the resource metadata names
  // it and RFC 8414 metadata is served on its origin (this server).
  const issuer = tokens === undefined ? undefined : issuerUrl(tokens.issuer);
  const origin = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;
  const metadata = (req: FastifyRequest): Record<string, unknown> =>
    resourceMetadata({
      // Without a configured identifier: this very endpoint, as the client reached it.
      resource: options.resource ?? `${origin(req)}${options.path}`,
      authorizationServers:
        options.authorizationServers.length > 0 || tokens === undefined
          ? options.authorizationServers
          : [issuer === undefined ? origin(req) : tokens.issuer],
      scopesSupported: options.scopesSupported,
    });
  app.get(METADATA_PATH, (req, reply) => reply.send(metadata(req)));
  app.get(`${METADATA_PATH}${options.path}`, (req, reply) => reply.send(metadata(req)));

  if (tokens === undefined) return;
  const asMetadata = (req: FastifyRequest): Record<string, unknown> => {
    const base = issuer?.origin ?? origin(req);
    return authorizationServerMetadata({
      issuer: tokens.issuer,
      tokenEndpoint: `${base}${TOKEN_PATH}`,
      revocationEndpoint: `${base}${REVOKE_PATH}`,
      grantTypes: [...tokens.grantTypes],
    });
  };
  // RFC 8414 §3.1: an issuer with a path has its metadata at the path-suffixed location.
  const issuerPath = issuer === undefined || issuer.pathname === '/' ? '' : issuer.pathname;
  app.get(`${AS_METADATA_PATH}${issuerPath}`, (req, reply) => reply.send(asMetadata(req)));
  await app.register((scope, _opts, done) => {
    // Forms and JSON arrive as text, bounded; the endpoint parses and answers RFC 6749 errors.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: MAX_TOKEN_REQUEST_BYTES },
      (_req, body, next) => next(null, body),
    );
    const request = (req: FastifyRequest): TokenHttpRequest => ({
      contentType: req.headers['content-type'],
      body: typeof req.body === 'string' ? req.body : '',
      headers: plainHeaders(req),
    });
    const unavailable = (req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply => {
      // A store fault: nothing of it reaches the client (RFC 6749 has no 5xx error code).
      req.log.error({ err }, 'token endpoint failed');
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .send({ error: 'temporarily_unavailable' });
    };
    const lockedOut = (
      req: FastifyRequest,
      reply: FastifyReply,
      locked: boolean,
      retryAfterMs: number,
    ): FastifyReply => {
      options.audit?.({
        event: 'locked_out',
        ...(locked ? {} : { reason: 'too many attempts in flight' }),
        remoteAddress: req.ip,
      });
      return reply
        .code(429)
        .header('retry-after', retryAfterSeconds(retryAfterMs))
        .header('cache-control', 'no-store')
        .send({
          error: 'slow_down',
          error_description: locked ? 'too many failed attempts' : 'too many concurrent attempts',
        });
    };
    const guarded =
      (handle: typeof handleTokenRequest) =>
      async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        const lockout = options.lockout;
        const ids = [addressLockoutId(req.ip)];
        const failures = { count: 0 };
        try {
          const lock = await lockout?.isLocked(ids);
          if (lock?.locked === true) return lockedOut(req, reply, true, lock.retryAfterMs);
          const r = await handle(
            tokens,
            request(req),
            lockout === undefined
              ? {}
              : { attempt: attemptGate(lockout, ids[0] ?? '', req.ip, options.audit, failures) },
          );
          // A wrong client secret or a bad refresh token is a failed attempt (brute force);
          // a credential check counted its own failure already.
          if (failures.count === 0 && (r.status === 401 || r.body['error'] === 'invalid_grant')) {
            const reason = r.body['error_description'] ?? r.body['error'];
            options.audit?.({
              event: 'unauthenticated',
              reason: typeof reason === 'string' ? reason : 'invalid request',
              remoteAddress: req.ip,
            });
            await lockout?.fail(ids);
          }
          return send(reply, r);
        } catch (err) {
          if (err instanceof AttemptRefused) {
            return lockedOut(req, reply, err.locked, err.retryAfterMs);
          }
          return unavailable(req, reply, err);
        }
      };
    scope.post(TOKEN_PATH, guarded(handleTokenRequest));
    scope.post(REVOKE_PATH, guarded(handleRevokeRequest));
    done();
  });
}

/**
 * The one wiring point of the security layer: the `auth` configuration section -> stores
 * (memory, or Redis shared by every gateway) -> providers -> the transports' guard, the
 * engine guard and the HTTP routes (RFC 9728 metadata, token endpoints). The embedded node
 * and the cluster gateway both call `createSecurity`; only the store backend differs.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { apiKeyProvider } from './apikeys/provider.js';
import { openApiKeyStore } from './apikeys/create.js';
import type { OpenedApiKeyStore } from './apikeys/create.js';
import { basicProvider } from './authn/basic.js';
import { chainProviders } from './authn/chain.js';
import { AuthnError } from './authn/errors.js';
import { jwtProvider } from './authn/jwt.js';
import { mtlsProvider } from './authn/mtls.js';
import { staticTokenProvider } from './authn/static-token.js';
import type { AuthProvider } from './authn/types.js';
import type { Principal } from './principal.js';
import { createAuthorizer } from './authz/authorizer.js';
import type { RatePolicy } from './authz/authorizer.js';
import { AuthConfigSchema } from './config.js';
import type { AuthConfig } from './config.js';
import { createAdmission } from './guard/admission.js';
import { jsonAuditSink } from './guard/audit.js';
import type { AuditSink } from './guard/audit.js';
import { guardEngine } from './guard/engine.js';
import type { EngineGuardOptions } from './guard/engine.js';
import { Revalidator } from './guard/revalidation.js';
import type { RevocationChannel } from './guard/revalidation.js';
import { resourceMetadataUrl } from './http/metadata.js';
import { registerSecurityRoutes } from './http/routes.js';
import { createRequestVerifier } from './signing/verify.js';
import { createSecurityStores } from './stores/create.js';
import type { SecurityStores } from './stores/create.js';
import type { LockoutOptions, RateLimiter } from './stores/types.js';
import { tokenServiceOptions } from './tokens/config.js';
import { createTokenService } from './tokens/service.js';
import type { TokenCredential, TokenService } from './tokens/service.js';
import { MemoryTokenStore, RedisTokenStore } from './tokens/store.js';
import type { TokenStore } from './tokens/store.js';
import { connectStoreRedis } from './stores/connect.js';
import { securityKeys } from './stores/keys.js';
import type { MessageEngine } from '@mcp-cluster/server';
import type { FastifyInstance, TransportGuard } from '@mcp-cluster/transports';

export interface SecurityContext {
  /** `embedded` (serve): anonymous allowed by default; `cluster` (gateway): refused by default. */
  readonly mode: 'embedded' | 'cluster';
  /** Shared stores when set (every gateway of the cluster); memory otherwise. */
  readonly redisUrl?: string | undefined;
  readonly prefix: string;
  /** The MCP endpoint path (for the path-suffixed RFC 9728 route). */
  readonly path: string;
  /**
   * Hears every audit event (refusals, rate limits, ended credentials) whether or not audit
   * lines are written: the process's metrics count them.
   */
  readonly onAudit?: AuditSink | undefined;
  /** Where audit lines go (default stderr). */
  readonly writeAudit?: ((line: string) => void) | undefined;
  readonly onError?: ((err: unknown, what: string) => void) | undefined;
  /**
   * Cluster: how revocations made at one gateway reach the connections the others hold (the
   * event bus). Without it only this process hears of its own revocations at once; the others
   * find them at their next periodic re-check (`revalidateStreamsMs`).
   */
  readonly revocations?: RevocationChannel | undefined;
}

export interface Security extends AsyncDisposable {
  /** Admission of every MCP HTTP request (undefined: anonymous, no checks). */
  readonly guard: TransportGuard | undefined;
  /** Wraps the engine with permissions, signatures and per-tool limits (or returns it). */
  wrap(engine: MessageEngine): MessageEngine;
  /** Unauthenticated routes beside the MCP ones: RFC 9728 metadata, token endpoints. */
  registerRoutes(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
}

/** Bearer challenge for deployments without a JWT provider (static tokens, API keys). */
function bearerChallenge(metadataUrl: string | undefined): string {
  return metadataUrl === undefined ? 'Bearer' : `Bearer resource_metadata="${metadataUrl}"`;
}

/**
 * The 401 challenge: the providers' own, once each. Static tokens, API keys and the token
 * service say a bare `Bearer`; it gets the RFC 9728 metadata URL unless a JWT provider's
 * challenge already carries it.
 */
function admissionChallenge(
  providers: readonly AuthProvider[],
  metadataUrl: string | undefined,
): string {
  const own = [
    ...new Set(providers.flatMap((p) => (p.challenge === undefined ? [] : [p.challenge]))),
  ];
  const others = own.filter((c) => c !== 'Bearer');
  const bearer =
    own.length === others.length || others.some((c) => /^bearer\s/i.test(c))
      ? []
      : [bearerChallenge(metadataUrl)];
  const all = [...bearer, ...others];
  return all.length === 0 ? bearerChallenge(metadataUrl) : all.join(', ');
}

/** Each event to both sinks (either may be absent). */
function bothSinks(a: AuditSink | undefined, b: AuditSink | undefined): AuditSink | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (event) => {
    a(event);
    b(event);
  };
}

/**
 * The audit sink the configuration asks for. A file is opened for appending once and written
 * synchronously, one line per write (O_APPEND: lines of several processes never interleave),
 * like stderr is; it is closed with the security wiring.
 */
function openAudit(
  config: AuthConfig['audit'],
  writeAudit: ((line: string) => void) | undefined,
  closers: (() => Promise<void>)[],
): AuditSink | undefined {
  if (config === false) return undefined;
  if (config === true) {
    return jsonAuditSink(writeAudit ?? ((line) => void process.stderr.write(line)));
  }
  let fd: number;
  try {
    fd = openSync(config.file, 'a', 0o600);
  } catch (cause) {
    throw new AuthnError('config', `audit file ${JSON.stringify(config.file)} cannot be opened`, {
      cause,
    });
  }
  closers.push(() => {
    closeSync(fd);
    return Promise.resolve();
  });
  return jsonAuditSink((line) => void writeSync(fd, line));
}

/**
 * The buckets of principals with limits of their own (`rateLimit.principals`): one limiter
 * each, under the name `principal` (bucket keys `p:<id>` keep them apart on Redis).
 */
function principalLimiters(
  limits: Readonly<Record<string, { capacity: number; refillPerSecond: number }>>,
  stores: SecurityStores,
): ReadonlyMap<string, RateLimiter> {
  return new Map(Object.entries(limits).map(([id, l]) => [id, stores.limiter('principal', l)]));
}

/** One bucket store per rate policy, named after it (Redis keys `…:policy:<label>:…`). */
function policyLimiters(
  policies: readonly RatePolicy[],
  stores: SecurityStores,
): ReadonlyMap<string, RateLimiter> {
  const limiters = new Map<string, RateLimiter>();
  for (const p of policies) {
    if (limiters.has(p.label)) {
      throw new AuthnError('config', `authz: two rate policies are named ${p.label}`);
    }
    limiters.set(p.label, stores.limiter(`policy:${p.label}`, p));
  }
  return limiters;
}

export async function createSecurity(
  auth: AuthConfig | undefined,
  context: SecurityContext,
): Promise<Security> {
  const allowAnonymous = auth?.allowAnonymous ?? context.mode === 'embedded';
  if (auth === undefined && allowAnonymous) {
    // The laptop default: no credentials, no checks, nothing on the hot path.
    const close = (): Promise<void> => Promise.resolve();
    return {
      guard: undefined,
      wrap: (engine) => engine,
      registerRoutes: () => Promise.resolve(),
      close,
      [Symbol.asyncDispose]: close,
    };
  }
  // No section: every default, nobody admitted without credentials (mode decides below).
  const cfg = auth ?? AuthConfigSchema.parse({});
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const audit = bothSinks(openAudit(cfg.audit, context.writeAudit, closers), context.onAudit);
    const onRedisError = (err: Error): void => context.onError?.(err, 'security store error');
    const stores: SecurityStores = await createSecurityStores({
      redisUrl: context.redisUrl,
      prefix: context.prefix,
      // The default limiter is only used when perPrincipal is configured (see below).
      rateLimit: cfg.rateLimit?.perPrincipal ?? { capacity: 1, refillPerSecond: 1 },
      ...(cfg.lockout === undefined ? {} : { lockout: lockoutOptions(cfg.lockout) }),
      onError: onRedisError,
    });
    closers.push(() => stores.close());
    // Long-lived connections follow their credential: expiry, revocation events, re-checks.
    const revalidator = new Revalidator({
      intervalMs: cfg.revalidateStreamsMs,
      audit,
      onError: context.onError,
    });
    closers.push(() => Promise.resolve(revalidator.close()));
    const channel = context.revocations;
    if (channel !== undefined) {
      const subscription = await channel.subscribe((ids) => revalidator.revoked(ids));
      closers.push(() => subscription.unsubscribe());
    }
    /** A revocation stored here: this process's connections now, the other nodes' by event. */
    const announce = (ids: readonly string[]): void => {
      revalidator.revoked(ids);
      channel?.publish(ids);
    };

    const metadataUrl = cfg.resource === undefined ? undefined : resourceMetadataUrl(cfg.resource);
    const providers: AuthProvider[] = [];
    let tokens: TokenService | undefined;
    let apiKeys: OpenedApiKeyStore | undefined;
    if (cfg.apiKeys !== undefined && cfg.apiKeys.enabled) {
      apiKeys = await openApiKeyStore({
        redisUrl: context.redisUrl,
        prefix: context.prefix,
        ...(cfg.apiKeys.file === undefined ? {} : { file: cfg.apiKeys.file }),
        onError: onRedisError,
      });
      closers.push(() => apiKeys?.close() ?? Promise.resolve());
    }
    const apiKeyAuth = apiKeys === undefined ? undefined : apiKeyProvider({ store: apiKeys.store });
    const basicAuth = cfg.basic === undefined ? undefined : basicProvider(cfg.basic);
    if (cfg.mtls !== undefined) providers.push(mtlsProvider(cfg.mtls));
    if (cfg.tokenService !== undefined) {
      let store: TokenStore;
      if (context.redisUrl === undefined) {
        store = new MemoryTokenStore();
      } else {
        const redis = await connectStoreRedis(context.redisUrl, onRedisError);
        closers.push(redis.close);
        store = new RedisTokenStore(redis.redis, securityKeys(context.prefix));
      }
      tokens = createTokenService(
        await tokenServiceOptions(cfg.tokenService, {
          store,
          authenticate: (credential) => checkCredential(credential, basicAuth, apiKeyAuth),
          onRevoked: announce,
        }),
      );
      providers.push(tokens.verifier());
    }
    if (cfg.jwt !== undefined) {
      const audience = cfg.jwt.audience ?? cfg.resource;
      if (audience === undefined || metadataUrl === undefined) {
        throw new AuthnError('config', 'auth.jwt needs auth.resource (the token audience)');
      }
      providers.push(
        jwtProvider({
          issuer: cfg.jwt.issuer,
          audience,
          algorithms: cfg.jwt.algorithms,
          resourceMetadataUrl: metadataUrl,
          ...(cfg.jwt.jwksUrl === undefined ? {} : { jwksUrl: cfg.jwt.jwksUrl }),
          ...(cfg.jwt.keys === undefined ? {} : { keys: cfg.jwt.keys }),
          ...(cfg.jwt.clockToleranceSec === undefined
            ? {}
            : { clockToleranceSec: cfg.jwt.clockToleranceSec }),
          ...(cfg.jwt.rolesClaim === undefined ? {} : { rolesClaim: cfg.jwt.rolesClaim }),
          ...(cfg.jwt.scopeClaim === undefined ? {} : { scopeClaim: cfg.jwt.scopeClaim }),
          ...(cfg.jwt.challengeScopes === undefined
            ? {}
            : { challengeScopes: cfg.jwt.challengeScopes }),
        }),
      );
    }
    // API keys before static tokens: both read Bearer, only API keys have the mcpk_ shape.
    if (apiKeyAuth !== undefined) providers.push(apiKeyAuth);
    if (cfg.staticTokens !== undefined) {
      providers.push(staticTokenProvider({ tokens: cfg.staticTokens }));
    }
    if (basicAuth !== undefined) providers.push(basicAuth);

    const lockoutOn = cfg.lockout?.enabled ?? providers.length > 0;
    const guard = createAdmission({
      provider: providers.length === 0 ? undefined : chainProviders(providers),
      allowAnonymous,
      // Their roles come from authz.anonymousRoles, applied by the authorizer.
      anonymousRoles: [],
      lockout: lockoutOn ? stores.lockout : undefined,
      rateLimiter: cfg.rateLimit?.perPrincipal === undefined ? undefined : stores.rateLimiter,
      principalLimiters: principalLimiters(cfg.rateLimit?.principals ?? {}, stores),
      maxStreamsPerPrincipal: cfg.maxStreamsPerPrincipal,
      streams: stores.streams,
      revalidator,
      challenge: admissionChallenge(providers, metadataUrl),
      audit,
      onError: context.onError,
    });

    const authorizer =
      cfg.authz === undefined
        ? undefined
        : createAuthorizer({
            ...cfg.authz,
            onError: (err) => context.onError?.(err, 'authorization policy failed'),
          });
    const engineGuard: EngineGuardOptions = {
      authorizer,
      policyLimiters: policyLimiters(authorizer?.ratePolicies ?? [], stores),
      verifier:
        cfg.signing === undefined || cfg.signing.clients.length === 0
          ? undefined
          : createRequestVerifier({
              clients: cfg.signing.clients,
              toleranceMs: cfg.signing.toleranceMs,
              nonces: stores.nonces,
            }),
      toolLimiter:
        cfg.rateLimit?.perTool === undefined
          ? undefined
          : stores.limiter('tool', cfg.rateLimit.perTool),
      resourceMetadataUrl: metadataUrl,
      audit,
      onError: context.onError,
    };
    return {
      guard,
      wrap: (engine) => guardEngine(engine, engineGuard),
      registerRoutes: (app) =>
        registerSecurityRoutes(app, {
          path: context.path,
          resource: cfg.resource,
          authorizationServers: cfg.authorizationServers ?? [],
          scopesSupported: cfg.jwt?.challengeScopes,
          tokens,
          lockout: lockoutOn ? stores.lockout : undefined,
          audit,
        }),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function lockoutOptions(l: NonNullable<AuthConfig['lockout']>): LockoutOptions {
  return {
    ...(l.maxFailures === undefined ? {} : { maxFailures: l.maxFailures }),
    ...(l.windowMs === undefined ? {} : { windowMs: l.windowMs }),
    ...(l.lockMs === undefined ? {} : { lockMs: l.lockMs }),
    ...(l.maxConcurrent === undefined ? {} : { maxConcurrent: l.maxConcurrent }),
    ...(l.reservationMs === undefined ? {} : { reservationMs: l.reservationMs }),
  };
}

/**
 * The token endpoint's credential check: a client id/secret or user name/password is a
 * configured Basic user; a client secret that is an API key stands for the key's principal.
 * Both go through the providers, so decoy hashing and constant-time checks apply.
 */
async function checkCredential(
  credential: TokenCredential,
  basic: AuthProvider | undefined,
  apiKeys: AuthProvider | undefined,
): Promise<Principal | undefined> {
  const [user, secret] =
    credential.type === 'client'
      ? [credential.clientId, credential.clientSecret]
      : [credential.username, credential.password];
  if (apiKeys !== undefined && credential.type === 'client') {
    const r = await apiKeys.authenticate({ headers: { authorization: `Bearer ${secret}` } });
    if (r.type === 'authenticated') return r.principal;
    if (r.type === 'rejected') return undefined;
  }
  if (basic === undefined) return undefined;
  const header = `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
  const r = await basic.authenticate({ headers: { authorization: header } });
  return r.type === 'authenticated' ? r.principal : undefined;
}

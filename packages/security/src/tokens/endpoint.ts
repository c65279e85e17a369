/**
 * `POST /oauth/token` (RFC 6749 §4.4, §4.3, §6) and `POST /oauth/revoke` (RFC 7009) as plain
 * functions from a parsed request to a response, so the gateway mounts them on fastify and
 * tests call them directly. Errors follow RFC 6749 §5.2; every response carries
 * `Cache-Control: no-store`; no error echoes a parameter value, secret or token. The caller
 * should rate-limit these routes (they check credentials); faults that are not the caller's
 * (store unreachable) are thrown for the transport to answer 5xx.
 */
import type { JsonObject } from '@mcp-cluster/protocol';

import { authorizationCredentials, quoteParam } from '../authn/types.js';
import type { Principal } from '../principal.js';
import { TokenError } from './errors.js';
import type { GrantType, IssueOptions, TokenCredential, TokenService } from './service.js';

export interface TokenHttpRequest {
  /** The Content-Type header (parameters such as charset are ignored). */
  readonly contentType: string | undefined;
  /** The raw body, decoded as UTF-8. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export interface TokenHttpResponse {
  readonly status: 200 | 400 | 401;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonObject;
}

/**
 * Runs one credential check (`check`: a client secret or a password, hashed) of the user or
 * client `name`. The routes pass the lockout's attempt budget here: it reserves the attempt
 * before the hash and counts a failure (undefined) after it; when the budget is spent it throws
 * instead of calling `check`, and that error propagates out of the handler.
 */
export type AttemptGate = (
  name: string,
  check: () => Promise<Principal | undefined>,
) => Promise<Principal | undefined>;

export interface TokenRequestOptions {
  /** Wraps every credential check; without it they run unguarded. */
  readonly attempt?: AttemptGate | undefined;
}

/** Largest body accepted (bytes); a token request is a few hundred. */
export const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;
/** Longest decoded `Authorization: Basic` value looked at. */
const MAX_BASIC_LENGTH = 4 * 1024;

type ErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type';

/** A refusal while handling a request; becomes the RFC 6749 §5.2 error response. */
class Refusal extends Error {
  override readonly name = 'TokenRequestRefusal';

  constructor(
    readonly code: ErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

const BASE_HEADERS = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const GRANT_TYPES: ReadonlySet<string> = new Set([
  'client_credentials',
  'password',
  'refresh_token',
]);
const isGrantType = (s: string): s is GrantType => GRANT_TYPES.has(s);

function respond(service: TokenService, refusal: Refusal): TokenHttpResponse {
  const body = { error: refusal.code, error_description: refusal.description };
  if (refusal.code !== 'invalid_client') return { status: 400, headers: BASE_HEADERS, body };
  return {
    status: 401,
    headers: { ...BASE_HEADERS, 'www-authenticate': `Basic realm=${quoteParam(service.issuer)}` },
    body,
  };
}

/**
 * Parameters of a form or JSON body. Empty values count as absent (RFC 6749 §3.1); a repeated
 * parameter is an error (§3.2).
 */
function parseParams(req: TokenHttpRequest): Map<string, string> {
  if (Buffer.byteLength(req.body, 'utf8') > MAX_TOKEN_REQUEST_BYTES) {
    throw new Refusal('invalid_request', 'request body too large');
  }
  const mediaType = (req.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  let entries: [string, unknown][];
  if (mediaType === FORM) {
    entries = [...new URLSearchParams(req.body)];
  } else if (mediaType === JSON_TYPE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body);
    } catch {
      throw new Refusal('invalid_request', 'body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Refusal('invalid_request', 'body must be a JSON object');
    }
    entries = Object.entries(parsed);
  } else {
    throw new Refusal('invalid_request', `content type must be ${FORM} or ${JSON_TYPE}`);
  }
  const params = new Map<string, string>();
  for (const [name, value] of entries) {
    if (typeof value !== 'string') throw new Refusal('invalid_request', 'parameters are strings');
    if (params.has(name)) throw new Refusal('invalid_request', 'a parameter is repeated');
    if (value !== '') params.set(name, value);
  }
  return params;
}

/** `application/x-www-form-urlencoded` decoding of one Basic part (RFC 6749 §2.3.1). */
function formDecode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw new Refusal('invalid_client', 'malformed client credentials');
  }
}

type ClientCredential = Extract<TokenCredential, { type: 'client' }>;

/**
 * The client's credentials from HTTP Basic or the body (never both, RFC 6749 §2.3); undefined
 * when none were given (a public client).
 */
function clientCredential(
  req: TokenHttpRequest,
  params: Map<string, string>,
): ClientCredential | undefined {
  const basic = authorizationCredentials({ headers: req.headers }, 'basic');
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (basic !== undefined) {
    if (bodySecret !== undefined) {
      throw new Refusal('invalid_request', 'use one client authentication method');
    }
    if (basic.length > MAX_BASIC_LENGTH || !BASE64.test(basic)) {
      throw new Refusal('invalid_client', 'malformed client credentials');
    }
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new Refusal('invalid_client', 'malformed client credentials');
    const clientId = formDecode(decoded.slice(0, colon));
    const clientSecret = formDecode(decoded.slice(colon + 1));
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new Refusal('invalid_request', 'client_id does not match the authenticated client');
    }
    return { type: 'client', clientId, clientSecret };
  }
  if (bodySecret === undefined) return undefined;
  if (bodyId === undefined) throw new Refusal('invalid_request', 'client_secret without client_id');
  return { type: 'client', clientId: bodyId, clientSecret: bodySecret };
}

/** The service's credential check, through the attempt gate when there is one. */
function authenticate(
  service: TokenService,
  credential: TokenCredential,
  options: TokenRequestOptions,
): Promise<Principal | undefined> {
  const check = (): Promise<Principal | undefined> => service.authenticate(credential);
  if (options.attempt === undefined) return check();
  const name = credential.type === 'client' ? credential.clientId : credential.username;
  return options.attempt(name, check);
}

/** Authenticates the client when it presented credentials; a wrong one is always 401. */
async function checkClient(
  service: TokenService,
  credential: ClientCredential | undefined,
  options: TokenRequestOptions,
): Promise<void> {
  if (credential === undefined) return;
  if ((await authenticate(service, credential, options)) === undefined) {
    throw new Refusal('invalid_client', 'client authentication failed');
  }
}

function scopeOf(params: Map<string, string>): IssueOptions {
  const scope = params.get('scope');
  if (scope === undefined) return {};
  const tokens = scope.split(' ').filter((s) => s !== '');
  if (tokens.length === 0 || !tokens.every((t) => SCOPE_TOKEN.test(t))) {
    throw new Refusal('invalid_scope', 'scope is malformed');
  }
  return { scope: tokens };
}

function required(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new Refusal('invalid_request', `${name} is required`);
  return value;
}

async function grant(
  service: TokenService,
  req: TokenHttpRequest,
  gate: TokenRequestOptions,
): Promise<JsonObject> {
  const params = parseParams(req);
  const grantType = required(params, 'grant_type');
  if (!isGrantType(grantType) || !service.grantTypes.has(grantType)) {
    throw new Refusal('unsupported_grant_type', 'grant type not supported');
  }
  const client = clientCredential(req, params);
  const options = scopeOf(params);
  switch (grantType) {
    case 'client_credentials': {
      if (client === undefined) {
        throw new Refusal('invalid_client', 'client authentication required');
      }
      const principal = await authenticate(service, client, gate);
      if (principal === undefined) {
        throw new Refusal('invalid_client', 'client authentication failed');
      }
      return { ...(await service.issue(principal, options)) };
    }
    case 'password': {
      await checkClient(service, client, gate);
      const username = required(params, 'username');
      const password = required(params, 'password');
      const principal = await authenticate(service, { type: 'password', username, password }, gate);
      if (principal === undefined) {
        throw new Refusal('invalid_grant', 'invalid resource owner credentials');
      }
      return { ...(await service.issue(principal, options)) };
    }
    default: {
      await checkClient(service, client, gate);
      const refreshToken = required(params, 'refresh_token');
      return { ...(await service.refresh(refreshToken, options)) };
    }
  }
}

/** `POST /oauth/token`. */
export async function handleTokenRequest(
  service: TokenService,
  req: TokenHttpRequest,
  options: TokenRequestOptions = {},
): Promise<TokenHttpResponse> {
  try {
    return { status: 200, headers: BASE_HEADERS, body: await grant(service, req, options) };
  } catch (err) {
    if (err instanceof Refusal) return respond(service, err);
    if (err instanceof TokenError) return respond(service, new Refusal(err.code, err.message));
    throw err;
  }
}

/**
 * `POST /oauth/revoke` (RFC 7009): 200 for every well-formed request, whether the token was
 * valid, unknown or already revoked, so the answer reveals nothing about the token. Client
 * credentials, when presented, must be right; possession of the token is enough otherwise
 * (whoever holds a bearer token can already use it).
 */
export async function handleRevokeRequest(
  service: TokenService,
  req: TokenHttpRequest,
  options: TokenRequestOptions = {},
): Promise<TokenHttpResponse> {
  try {
    const params = parseParams(req);
    await checkClient(service, clientCredential(req, params), options);
    await service.revoke(required(params, 'token'));
    return { status: 200, headers: BASE_HEADERS, body: {} };
  } catch (err) {
    if (err instanceof Refusal) return respond(service, err);
    throw err;
  }
}

/**
 * The attack suite's fixtures: one auth configuration for both deployments, credentials of
 * every kind (JWTs minted here, a static token, Basic users, API keys), and a raw HTTP client
 * that can pick its source address in 127.0.0.0/8 — lockout counts per client address, so
 * each scenario attacks from an address of its own and cannot lock the others out.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { WebSocket } from 'ws';
import type { JWK } from 'jose';
import { hashPassword, signRequest } from '@mcp-cluster/security';
import { modernRequest, readMcpResponse } from '@mcp-cluster/testkit';

export const ISSUER = 'https://issuer.security.test';
/** The resource identifier (RFC 9728) and JWT audience of the suite's server. */
export const RESOURCE = 'https://mcp.security.test/mcp';
export const TOKEN_SECRET = 'token-service-secret-for-the-attack-suite-0123';
export const SIGNER_SECRET = 'signing-secret-for-the-attack-suite-0123456789';
export const STATIC_TOKENS = {
  admin: 'static-admin-token-0123456789abcdef',
  signer: 'static-signer-token-0123456789abcdef',
  burst: 'static-burst-token-0123456789abcdef',
  mallory: 'static-mallory-token-0123456789abcdef',
  floodBatch: 'static-flood-batch-token-0123456789abcdef',
  floodWs: 'static-flood-ws-token-0123456789abcdef',
  floodSse: 'static-flood-sse-token-0123456789abcdef',
  floodShared: 'static-flood-shared-token-0123456789abcdef',
} as const;
export const PASSWORDS = { alice: 'correct horse battery staple', bob: 'hunter2-but-longer' };
/** Per principal and tool: the burst scenario must see exactly this many calls admitted. */
export const TOOL_BURST = 10;
/** The `public-docs` rate policy: reads of a public doc by `burst`, per principal and uri. */
export const READ_BURST = 4;
/** Long-lived streams one principal may hold open, across the whole deployment. */
export const MAX_STREAMS = 4;
/**
 * Connection and session limits (top-level settings, beside `auth`; `suiteLimitsConfig`):
 * legacy sessions one principal may hold (cases that need many use a principal of their own,
 * a JWT with a fresh `sub`), concurrent connections from one address (above the lockout
 * storms' 80 concurrent requests from one address), and headers / whole-request timeouts
 * short enough that a trickled request is answered 408 within seconds.
 */
export const SESSION_CAP = 16;
export const CONNECTION_CAP = 100;
export const HEADERS_TIMEOUT_MS = 2_000;
export const REQUEST_TIMEOUT_MS = 4_000;

/** The connection and session limits both deployments run with (config file / overrides). */
export function suiteLimitsConfig(): Record<string, number> {
  return {
    maxSessionsPerPrincipal: SESSION_CAP,
    maxConnectionsPerAddress: CONNECTION_CAP,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  };
}
export const LOCKOUT_FAILURES = 5;
/**
 * The per-principal bucket (`rateLimit.perPrincipal`, one token per JSON-RPC message): generous
 * for everyone, except the `flood-*` principals, which get FLOOD_BUDGET tokens that do not refill
 * within a run (`rateLimit.principals`), one principal per scenario.
 */
export const PRINCIPAL_BUDGET = { capacity: 2000, refillPerSecond: 1000 };
export const FLOOD_BUDGET = 30;
export const FLOOD_PRINCIPALS = ['flood-batch', 'flood-ws', 'flood-sse', 'flood-shared'] as const;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SuiteKeys {
  readonly privateKey: PrivateKey;
  readonly publicJwk: JWK;
  /** Another key pair with the same kid: a re-signed token must not verify. */
  readonly attackerKey: PrivateKey;
}

export async function suiteKeys(): Promise<SuiteKeys> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const attacker = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  return { privateKey: pair.privateKey, publicJwk, attackerKey: attacker.privateKey };
}

/** The `auth` section both deployments run with. */
export async function suiteAuthConfig(
  keys: SuiteKeys,
  files: { apiKeys?: string; audit: string },
): Promise<Record<string, unknown>> {
  const apiKeysFile = files.apiKeys;
  // Cheap scrypt parameters: hashing cost is not under test here.
  const params = { N: 1024, r: 8, p: 1 };
  return {
    allowAnonymous: false,
    resource: RESOURCE,
    authorizationServers: [ISSUER],
    jwt: { issuer: ISSUER, keys: [{ type: 'jwk', jwk: keys.publicJwk }], algorithms: ['ES256'] },
    apiKeys: apiKeysFile === undefined ? { enabled: true } : { enabled: true, file: apiKeysFile },
    staticTokens: [
      { token: STATIC_TOKENS.admin, principal: { id: 'admin', roles: ['admin'] } },
      { token: STATIC_TOKENS.signer, principal: { id: 'signer', roles: ['reader'] } },
      { token: STATIC_TOKENS.burst, principal: { id: 'burst', roles: ['reader'] } },
      { token: STATIC_TOKENS.mallory, principal: { id: 'mallory', roles: ['reader'] } },
      { token: STATIC_TOKENS.floodBatch, principal: { id: 'flood-batch', roles: ['reader'] } },
      { token: STATIC_TOKENS.floodWs, principal: { id: 'flood-ws', roles: ['reader'] } },
      { token: STATIC_TOKENS.floodSse, principal: { id: 'flood-sse', roles: ['reader'] } },
      { token: STATIC_TOKENS.floodShared, principal: { id: 'flood-shared', roles: ['reader'] } },
    ],
    basic: {
      users: [
        { username: 'alice', hash: await hashPassword(PASSWORDS.alice, params), roles: ['reader'] },
        { username: 'bob', hash: await hashPassword(PASSWORDS.bob, params), roles: ['reader'] },
      ],
    },
    authz: {
      roles: {
        admin: ['*'],
        reader: [
          'tools:call:echo',
          'tools:call:confirm_action',
          'resources:read:docs://public/**',
          'resources:read:files://public/**',
          'resources:read:repo://**',
          // Completion of the files template's path (reading still needs files://public/**).
          'resources:read:files://{+path}',
          'prompts:get:*',
          'tasks:*',
        ],
      },
      policies: [
        {
          type: 'rate',
          name: 'public-docs',
          capacity: READ_BURST,
          refillPerSecond: 0.001,
          principals: ['static:burst'],
          permissions: ['resources:read:docs://public/**'],
        },
      ],
    },
    tokenService: {
      issuer: 'https://tokens.security.test',
      audience: RESOURCE,
      signingKey: { alg: 'HS256', secret: TOKEN_SECRET, kid: 't1' },
    },
    signing: {
      clients: [{ principal: 'static:signer', keys: [{ id: 'sk1', secret: SIGNER_SECRET }] }],
    },
    rateLimit: {
      perTool: { capacity: TOOL_BURST, refillPerSecond: 0.001 },
      perPrincipal: PRINCIPAL_BUDGET,
      principals: Object.fromEntries(
        FLOOD_PRINCIPALS.map((id) => [
          `static:${id}`,
          { capacity: FLOOD_BUDGET, refillPerSecond: 0.001 },
        ]),
      ),
    },
    lockout: { maxFailures: LOCKOUT_FAILURES, windowMs: 60_000, lockMs: 60_000 },
    // Every refusal, of every process, in one file the suite reads.
    audit: { file: files.audit },
    maxStreamsPerPrincipal: MAX_STREAMS,
  };
}

/** The audit file's entries, parsed (empty before the first refusal). */
export function readAudit(file: string): Record<string, unknown>[] {
  return readLines(file).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The non-empty lines of a file the deployment appends to (none before it exists). */
export function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((line) => line !== '');
}

export interface JwtOverrides {
  readonly sub?: string;
  readonly iss?: string;
  readonly aud?: string;
  readonly expSec?: number;
  readonly nbfSec?: number;
  readonly roles?: readonly string[];
  readonly key?: PrivateKey;
}

/** An ES256 token of the suite's issuer for `sub` (valid unless overridden). */
export async function mintJwt(keys: SuiteKeys, o: JwtOverrides = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ roles: [...(o.roles ?? ['reader'])] })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? RESOURCE)
    .setSubject(o.sub ?? 'jwt-user')
    .setIssuedAt(now)
    .setExpirationTime(o.expSec ?? now + 300);
  if (o.nbfSec !== undefined) jwt.setNotBefore(o.nbfSec);
  return jwt.sign(o.key ?? keys.privateKey);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`, unsigned, with otherwise valid claims. */
export function unsignedJwt(sub = 'jwt-user'): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'none', typ: 'JWT' });
  const payload = b64url({ iss: ISSUER, aud: RESOURCE, sub, exp: now + 300, roles: ['admin'] });
  return `${header}.${payload}.`;
}

/** A valid token whose payload was edited (roles escalated) without re-signing. */
export function tamperedJwt(valid: string): string {
  const [header, payload, signature] = valid.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  return `${header}.${b64url({ ...claims, roles: ['admin'] })}.${signature}`;
}

export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});
export const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

let nextAddress = 2 + (process.pid % 200);
/** A loopback source address no other scenario of this run uses (127.0.x.y). */
export function freshAddress(): string {
  const n = nextAddress++;
  return `127.0.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** JSON-RPC messages of the body (JSON or SSE). */
  readonly messages: unknown[];
  readonly text: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Source address in 127.0.0.0/8 (default 127.0.0.1). */
  readonly from?: string;
  readonly timeoutMs?: number;
}

/** One HTTP exchange over node:http (so the source address can be chosen). */
export function send(url: string, o: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: o.method ?? 'POST',
        headers: o.headers,
        localAddress: o.from ?? '127.0.0.1',
        timeout: o.timeoutMs ?? 15_000,
      },
      (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (typeof v === 'string') headers.set(k, v);
          else if (Array.isArray(v)) headers.set(k, v.join(', '));
        }
        const web = new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, {
          status: res.statusCode ?? 0,
          headers,
        });
        readMcpResponse(web).then(
          (r) =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              messages: r.messages,
              text: r.text,
            }),
          reject,
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

export interface ModernOptions extends Omit<SendOptions, 'body' | 'headers'> {
  /** Sign the final params (request signing) with this key, at `signedAt` (default now). */
  readonly sign?: { readonly id: string; readonly secret: string };
  readonly signedAt?: number;
  /** Edits the params after signing (a man in the middle). */
  readonly tamper?: (params: Record<string, unknown>) => Record<string, unknown>;
  /** Client capabilities in `_meta` (e.g. the tasks extension). */
  readonly capabilities?: Record<string, unknown>;
}

/** A modern (2026-07-28) request with credentials `auth`. */
export function modern(
  url: string,
  method: string,
  params: Record<string, unknown>,
  auth: Record<string, string>,
  o: ModernOptions = {},
): Promise<RawResponse> {
  const r = modernRequest(
    method,
    params,
    o.capabilities === undefined ? {} : { capabilities: o.capabilities },
  );
  let body = r.body as { params: Record<string, unknown> };
  if (o.sign !== undefined) {
    const signed = signRequest({ method, params: body.params }, o.sign, {
      ...(o.signedAt === undefined ? {} : { now: o.signedAt }),
    });
    body = { ...body, params: signed };
  }
  if (o.tamper !== undefined) body = { ...body, params: o.tamper(body.params) };
  return send(url, { ...o, headers: { ...r.headers, ...auth }, body: JSON.stringify(body) });
}

/** The same signed request sent again (a replay): the exact bytes of `modern` with `sign`. */
export function signedBody(
  method: string,
  params: Record<string, unknown>,
  key: { id: string; secret: string },
): {
  headers: Record<string, string>;
  body: string;
} {
  const r = modernRequest(method, params);
  const body = r.body as { params: Record<string, unknown> };
  const signed = signRequest({ method, params: body.params }, key);
  return { headers: r.headers, body: JSON.stringify({ ...body, params: signed }) };
}

/** A legacy initialize; resolves with the new session id (or the refusal). */
export async function initialize(
  url: string,
  auth: Record<string, string>,
  from?: string,
): Promise<{ response: RawResponse; sessionId: string | undefined }> {
  const response = await send(url, {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...auth,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'attack-suite', version: '1' },
      },
    }),
    ...(from === undefined ? {} : { from }),
  });
  const sid = response.headers['mcp-session-id'];
  return { response, sessionId: typeof sid === 'string' ? sid : undefined };
}

/** A request on a legacy session. */
export function legacy(
  url: string,
  sessionId: string,
  method: string,
  params: Record<string, unknown>,
  auth: Record<string, string>,
  from?: string,
): Promise<RawResponse> {
  const body = { jsonrpc: '2.0', id: randomBytes(4).toString('hex'), method, params };
  return postOnSession(url, sessionId, body, auth, { from });
}

/** One POST of `body` (a message, a batch, or any JSON text) on a legacy session. */
export function postOnSession(
  url: string,
  sessionId: string,
  body: unknown,
  auth: Record<string, string>,
  o: { from?: string | undefined; version?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return send(url, {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': o.version ?? '2025-06-18',
      ...auth,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(o.from === undefined ? {} : { from: o.from }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  });
}

/** A form POST to the token service (`/oauth/token` or `/oauth/revoke`) of `url`'s origin. */
export async function tokenRequest(
  url: string,
  path: '/oauth/token' | '/oauth/revoke',
  form: Record<string, string>,
  auth: Record<string, string>,
  from?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await send(`${new URL(url).origin}${path}`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams(form).toString(),
    ...(from === undefined ? {} : { from }),
  });
  return {
    status: r.status,
    body: JSON.parse(r.text === '' ? '{}' : r.text) as Record<string, unknown>,
  };
}

/** The JSON-RPC error of a response's last message, if it has one. */
export function rpcError(
  r: RawResponse,
): { code: number; message: string; data?: unknown } | undefined {
  const last = r.messages.at(-1) as { error?: { code: number; message: string } } | undefined;
  return last?.error;
}

/** The JSON-RPC result of a response's last message, if it has one. */
export function rpcResult(r: RawResponse): Record<string, unknown> | undefined {
  const last = r.messages.at(-1) as { result?: Record<string, unknown> } | undefined;
  return last?.result;
}

export type WsOutcome =
  | { readonly open: true; readonly socket: WebSocket; readonly protocol: string }
  | { readonly open: false; readonly status: number };

/**
 * Opens the deployment's WebSocket (`/ws` beside `mcpUrl`) offering `protocols`, as a
 * browser would (no Authorization header), from `from`. Refused upgrades give their status.
 */
export function openWebSocket(
  mcpUrl: string,
  protocols: readonly string[],
  from: string,
): Promise<WsOutcome> {
  const url = new URL('/ws', mcpUrl);
  url.protocol = 'ws:';
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [...protocols], {
      localAddress: from,
      handshakeTimeout: 10_000,
    });
    socket.once('open', () => resolve({ open: true, socket, protocol: socket.protocol }));
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ open: false, status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/** Sends one JSON-RPC request on an open socket and waits for the response with its id. */
export function wsRequest(
  socket: WebSocket,
  message: { id: string | number } & Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${message.id}`)), 10_000);
    const onMessage = (data: Buffer): void => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (m['id'] !== message.id) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(m);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
  });
}

/** The subprotocol entry that carries a bearer token for a browser WebSocket. */
export const bearerSubprotocol = (token: string): string =>
  `mcp.bearer.${Buffer.from(token).toString('base64url')}`;

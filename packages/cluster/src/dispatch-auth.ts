/**
 * Authenticates the dispatch wire: a worker runs a message only when the gateway that sent
 * it knows the cluster's dispatch secret. The envelope names the principal a worker acts
 * for, so without this anything that can reach a worker's port could call any tool as
 * anyone, past every check the gateway makes.
 *
 * The gateway signs with HMAC-SHA256 over a canonical form of every dispatch header (the
 * `x-mcp-cluster-*` envelope and the forwarded `mcp-*` headers) and the body; the worker
 * recomputes it over what it received. A changed, added or dropped header or body byte
 * breaks the signature, and the signed deadline bounds how long a captured dispatch could
 * be replayed. Confidentiality on the wire is the network's job (a private network or a
 * mesh with mTLS): the secret itself never travels.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ENVELOPE_HEADER_PREFIX } from './envelope.js';

/** The signature header: `v1=<base64url HMAC-SHA256>`. */
export const DISPATCH_SIGNATURE_HEADER = `${ENVELOPE_HEADER_PREFIX}signature`;

const VERSION = 'v1';
const MCP_HEADER_PREFIX = 'mcp-';

type HeaderValue = string | readonly string[] | undefined;

function signedEntries(headers: Readonly<Record<string, HeaderValue>>): string[] {
  const entries: string[] = [];
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name === DISPATCH_SIGNATURE_HEADER) continue;
    if (!name.startsWith(ENVELOPE_HEADER_PREFIX) && !name.startsWith(MCP_HEADER_PREFIX)) continue;
    if (rawValue === undefined) continue;
    // HTTP trims values, and a repeated header arrives joined: sign what the worker sees.
    const value = typeof rawValue === 'string' ? rawValue : rawValue.join(', ');
    entries.push(`${name}:${value.trim()}`);
  }
  return entries.sort();
}

function mac(secret: string, headers: Readonly<Record<string, HeaderValue>>, body: string): Buffer {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${VERSION}\n`);
  for (const entry of signedEntries(headers)) hmac.update(`${entry}\n`);
  hmac.update('\n');
  hmac.update(body);
  return hmac.digest();
}

/** The signature header value for a dispatch with these headers and body. */
export function signDispatch(
  secret: string,
  headers: Readonly<Record<string, HeaderValue>>,
  body: string,
): string {
  return `${VERSION}=${mac(secret, headers, body).toString('base64url')}`;
}

/**
 * True when `headers` (as received) carry a valid signature over themselves and `body` by
 * one of `secrets` (several while a secret is being rotated).
 */
export function verifyDispatch(
  secrets: readonly string[],
  headers: Readonly<Record<string, HeaderValue>>,
  body: string,
): boolean {
  const presented = headers[DISPATCH_SIGNATURE_HEADER];
  if (typeof presented !== 'string' || !presented.startsWith(`${VERSION}=`)) return false;
  const given = Buffer.from(presented.slice(VERSION.length + 1), 'base64url');
  return secrets.some((secret) => {
    const expected = mac(secret, headers, body);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

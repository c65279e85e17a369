/**
 * Gateway side: verifies request signatures. Clients listed in `clients` must sign every
 * request; anyone else is not checked at all (their signature entry, if any, is ignored and
 * the result says `signed: false`), so a key known for one principal never authenticates
 * another and unlisted principals cannot burn nonces.
 *
 * Checks run cheapest and least revealing first, and the nonce is claimed only after the
 * HMAC holds, so a forged request cannot use up a real client's nonce:
 * shape -> key known for the principal -> algorithm of that key -> timestamp window -> HMAC
 * (timingSafeEqual over fixed-length digests) -> nonce claim (shared store, TTL 2 x window).
 */
import { timingSafeEqual } from 'node:crypto';

import { DEFAULT_SIGNATURE_TOLERANCE_MS } from '@mcp-cluster/config';

import type { NonceStore } from '../stores/types.js';
import {
  canonicalSigningInput,
  type CanonicalLimits,
  resolveCanonicalLimits,
} from './canonical.js';
import { isPlainObject, readSignature } from './envelope.js';
import { SigningError } from './errors.js';
import { hmac, resolveSigningKey, type ResolvedSigningKey, type SigningKey } from './keys.js';

/**
 * Accepted clock difference between client and gateway, both ways (5 min). A signed request
 * is accepted while |now - ts| < toleranceMs. The configuration's default of `toleranceMs`.
 */
export { DEFAULT_SIGNATURE_TOLERANCE_MS };

export interface SigningClient {
  /** Id of the authenticated principal that must sign (Principal.id). */
  readonly principal: string;
  /** One or more keys; several during a rotation. Key ids are unique across all clients. */
  readonly keys: readonly SigningKey[];
}

export interface RequestVerifierOptions {
  readonly clients: readonly SigningClient[];
  /** Shared by every gateway (Redis) so a nonce used at one is refused at all. */
  readonly nonces: NonceStore;
  /** Default DEFAULT_SIGNATURE_TOLERANCE_MS. */
  readonly toleranceMs?: number;
  /** Milliseconds clock (default Date.now); tests inject a fake one. */
  readonly now?: () => number;
  /** Bounds of the params' canonical JSON (defaults in canonical.ts). */
  readonly limits?: CanonicalLimits;
}

export interface VerifyInput {
  readonly principal: { readonly id: string };
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>> | undefined;
  /** Overrides the verifier's clock for this call. */
  readonly now?: number;
}

export type VerifyResult =
  /** `signed` is false for principals not listed in `clients`; `keyId` is set when signed. */
  | { readonly ok: true; readonly signed: boolean; readonly keyId?: string }
  /** `reason` is short and safe to show the client and to log: never a signature or secret. */
  | { readonly ok: false; readonly reason: string };

export interface RequestVerifier {
  readonly toleranceMs: number;
  /** True when `principalId` is listed in `clients`, i.e. must sign every request. */
  requiresSignature(principalId: string): boolean;
  /**
   * Resolves to a result for anything wrong with the request; rejects only when the nonce
   * store fails (e.g. Redis unreachable), which is not the caller's fault (map it to 5xx).
   */
  verify(input: VerifyInput): Promise<VerifyResult>;
}

const UNSIGNED: VerifyResult = Object.freeze({ ok: true, signed: false });
const refuse = (reason: string): VerifyResult => ({ ok: false, reason });

/** Nonce store key: nonces are per key id (`:` cannot occur in a nonce, so it is unambiguous). */
export const nonceKey = (keyId: string, nonce: string): string => `${keyId}:${nonce}`;

function resolveClients(
  clients: readonly SigningClient[],
): ReadonlyMap<string, ReadonlyMap<string, ResolvedSigningKey>> {
  const fail = (message: string): never => {
    throw new SigningError('config', `request signing: ${message}`);
  };
  const byPrincipal = new Map<string, ReadonlyMap<string, ResolvedSigningKey>>();
  const allKeyIds = new Set<string>();
  clients.forEach((client, c) => {
    if (typeof client.principal !== 'string' || client.principal === '') {
      fail(`clients[${c}]: principal is empty`);
    }
    if (byPrincipal.has(client.principal)) fail(`clients[${c}]: principal listed twice`);
    if (client.keys.length === 0) fail(`clients[${c}]: no keys`);
    const keys = new Map<string, ResolvedSigningKey>();
    client.keys.forEach((key, k) => {
      const resolved = resolveSigningKey(key, `clients[${c}].keys[${k}]`, 'config');
      // Unique across clients too: nonces are keyed by key id, and logs name keys by id.
      if (allKeyIds.has(resolved.id)) fail(`clients[${c}].keys[${k}]: key id used twice`);
      allKeyIds.add(resolved.id);
      keys.set(resolved.id, resolved);
    });
    byPrincipal.set(client.principal, keys);
  });
  return byPrincipal;
}

export function createRequestVerifier(options: RequestVerifierOptions): RequestVerifier {
  const toleranceMs = options.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (!Number.isSafeInteger(toleranceMs) || toleranceMs <= 0) {
    throw new SigningError('config', 'request signing: toleranceMs must be a positive integer');
  }
  const clients = resolveClients(options.clients);
  const clock = options.now ?? Date.now;
  let limits: CanonicalLimits;
  try {
    limits = resolveCanonicalLimits(options.limits);
  } catch (err) {
    throw new SigningError('config', `request signing: ${(err as Error).message}`, { cause: err });
  }
  const { nonces } = options;
  // A request with timestamp ts is acceptable during (ts - tolerance, ts + tolerance): its
  // nonce must be remembered from the earliest first use to the end of that window.
  const nonceTtlMs = 2 * toleranceMs;

  async function verify(input: VerifyInput): Promise<VerifyResult> {
    const keys = clients.get(input.principal.id);
    if (keys === undefined) return UNSIGNED;

    const { params } = input;
    if (params !== undefined && !isPlainObject(params)) return refuse('malformed params');
    const read = readSignature(params);
    if (read.type === 'absent') return refuse('signature required');
    if (read.type === 'malformed') return refuse(`malformed signature: ${read.field}`);
    const { signature } = read;

    const key = keys.get(signature.keyId);
    if (key === undefined) return refuse('unknown signing key');
    if (key.alg !== signature.alg) return refuse('signature algorithm does not match the key');

    const now = input.now ?? clock();
    if (now - signature.ts >= toleranceMs) return refuse('signature expired');
    if (signature.ts - now >= toleranceMs) return refuse('signature timestamp in the future');

    let canonical: string;
    try {
      canonical = canonicalSigningInput({ ...signature, method: input.method, params }, limits);
    } catch (err) {
      // Our own messages (depth, size, method): they name the limit, never a value.
      if (err instanceof SigningError) return refuse(err.message);
      throw err;
    }
    // Both are the key's digest size: the shape check fixed the decoded length of `sig`.
    const expected = hmac(key, canonical);
    const given = Buffer.from(signature.sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return refuse('invalid signature');
    }

    if (!(await nonces.claim(nonceKey(key.id, signature.nonce), nonceTtlMs))) {
      return refuse('replayed nonce');
    }
    return { ok: true, signed: true, keyId: key.id };
  }

  return Object.freeze({
    toleranceMs,
    requiresSignature: (principalId: string) => clients.has(principalId),
    verify,
  });
}

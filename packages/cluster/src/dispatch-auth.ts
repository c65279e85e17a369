/**
 * Authenticates the dispatch wire: a worker runs a message only when the gateway that sent
 * it knows the cluster's dispatch secret, and only once. The envelope names the principal a
 * worker acts for, so without this anything that can reach a worker's port could call any
 * tool as anyone, past every check the gateway makes — or run a captured dispatch again.
 *
 * The gateway signs with HMAC-SHA256 over a canonical form of every dispatch header (the
 * `x-mcp-cluster-*` envelope, the forwarded `mcp-*` headers, and a fresh random nonce and
 * issue time added for each attempt) and the body; the worker recomputes it over what it
 * received. A changed, added or dropped header or body byte breaks the signature. The worker
 * then runs the dispatch only while its issue time is within the signature validity (plus a
 * clock skew tolerance), and only once. A dispatch addressed to one worker process (the
 * signed audience header names its random boot id, published in the registry) is checked
 * against that process's own memory of nonces: no other worker, and no later process at the
 * same address, runs it, so no shared store is needed on the hot path. A dispatch without an
 * audience (from a gateway that predates it) is checked in the nonce store every worker
 * shares ({@link DispatchNonceStore}, Redis). Confidentiality on the wire is the network's
 * job (a private network or a mesh with mTLS): the secret itself never travels.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { DispatchRefusal } from './dispatch.js';
import type { DispatchNonceStore, MemoryDispatchNonceStore } from './dispatch-nonces.js';
import { ENVELOPE_HEADER_PREFIX } from './envelope.js';
import { withinMs } from './within.js';

/** The signature header: `v1=<base64url HMAC-SHA256>`. */
export const DISPATCH_SIGNATURE_HEADER = `${ENVELOPE_HEADER_PREFIX}signature`;
/** Signed: a random value, new for every dispatch attempt (16 bytes, base64url). */
export const DISPATCH_NONCE_HEADER = `${ENVELOPE_HEADER_PREFIX}nonce`;
/** Signed: when the gateway signed the dispatch, epoch milliseconds in decimal. */
export const DISPATCH_ISSUED_AT_HEADER = `${ENVELOPE_HEADER_PREFIX}issued-at`;
/** Signed, optional: the boot id of the one worker process that may run the dispatch. */
export const DISPATCH_AUDIENCE_HEADER = `${ENVELOPE_HEADER_PREFIX}audience`;

const VERSION = 'v1';
const MCP_HEADER_PREFIX = 'mcp-';
const NONCE_BYTES = 16;
/** base64url of 16 to 64 random bytes: shorter cannot be trusted to be unique. */
const NONCE = /^[A-Za-z0-9_-]{22,86}$/;
const EPOCH_MS = /^[0-9]{1,16}$/;

type HeaderValue = string | readonly string[] | undefined;
type Headers = Readonly<Record<string, HeaderValue>>;

/** `name:value` for one header, or undefined when it is not signed. */
function signedEntry(rawName: string, rawValue: HeaderValue): string | undefined {
  if (rawValue === undefined) return undefined;
  const name = rawName.toLowerCase();
  if (name === DISPATCH_SIGNATURE_HEADER) return undefined;
  if (!name.startsWith(ENVELOPE_HEADER_PREFIX) && !name.startsWith(MCP_HEADER_PREFIX)) {
    return undefined;
  }
  // HTTP trims values, and a repeated header arrives joined: sign what the worker sees.
  const value = typeof rawValue === 'string' ? rawValue : rawValue.join(', ');
  return `${name}:${value.trim()}`;
}

/** Adds the signed `name:value` entries of `headers` to `entries`. */
function addSignedEntries(entries: string[], headers: Headers): void {
  for (const name in headers) {
    const entry = signedEntry(name, headers[name]);
    if (entry !== undefined) entries.push(entry);
  }
}

function signedEntries(headers: Headers, extra?: Readonly<Record<string, string>>): string[] {
  const entries: string[] = [];
  addSignedEntries(entries, headers);
  if (extra !== undefined) addSignedEntries(entries, extra);
  return entries.sort();
}

/** One key object per secret: importing the key on every dispatch costs as much as the MAC. */
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 16;

function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

function mac(
  secret: string,
  headers: Headers,
  body: string,
  extra?: Readonly<Record<string, string>>,
): Buffer {
  // One update: each call crosses into native code, and this runs on every dispatch.
  let text = `${VERSION}\n`;
  for (const entry of signedEntries(headers, extra)) text += `${entry}\n`;
  return createHmac('sha256', keyOf(secret)).update(`${text}\n${body}`).digest();
}

/** Random bytes drawn in bulk for nonces: one CSPRNG call per this many dispatches. */
const NONCES_PER_DRAW = 256;
let nonceBytes = Buffer.alloc(0);
let nonceOffset = 0;

/** A fresh nonce: 16 bytes from the CSPRNG, base64url (drawn ahead, used once). */
function freshNonce(): string {
  if (nonceOffset + NONCE_BYTES > nonceBytes.length) {
    nonceBytes = randomBytes(NONCE_BYTES * NONCES_PER_DRAW);
    nonceOffset = 0;
  }
  const nonce = nonceBytes.toString('base64url', nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/**
 * The signature header value over exactly these headers and body. Low level: a dispatch
 * signed this way carries no nonce and issue time unless `headers` hold them, and workers
 * refuse it; gateways use {@link signDispatch}.
 */
export function dispatchSignature(secret: string, headers: Headers, body: string): string {
  return `${VERSION}=${mac(secret, headers, body).toString('base64url')}`;
}

export interface DispatchSignOptions {
  /** The issue time (default Date.now()). */
  readonly now?: number;
  /** The nonce (default 16 random bytes, base64url); tests pass their own. */
  readonly nonce?: string;
  /**
   * The receiving worker's boot id (its registry record's `instance`): only that process
   * runs the dispatch, and it checks the nonce in its own memory. Omitted: any worker with
   * the secret runs it, once, checked in the shared nonce store.
   */
  readonly audience?: string | undefined;
}

/**
 * The headers that authenticate one dispatch attempt: a fresh nonce, the issue time, the
 * audience when given, and the signature over them, `headers` and `body`. Send them with
 * `headers`; sign every attempt (a retry included) anew, since a worker runs each nonce once.
 */
export function signDispatch(
  secret: string,
  headers: Headers,
  body: string,
  options: DispatchSignOptions = {},
): Record<string, string> {
  const auth: Record<string, string> = {
    [DISPATCH_NONCE_HEADER]: options.nonce ?? freshNonce(),
    [DISPATCH_ISSUED_AT_HEADER]: String(options.now ?? Date.now()),
  };
  if (options.audience !== undefined) auth[DISPATCH_AUDIENCE_HEADER] = options.audience;
  auth[DISPATCH_SIGNATURE_HEADER] =
    `${VERSION}=${mac(secret, headers, body, auth).toString('base64url')}`;
  return auth;
}

export interface DispatchFreshness {
  /** How long after its issue time a dispatch is still run (config dispatchSignatureValidityMs). */
  readonly validityMs: number;
  /** Clock difference tolerated between gateway and worker, either way (dispatchClockSkewMs). */
  readonly clockSkewMs: number;
}

/** What a worker concluded about one dispatch's authentication. */
export type DispatchCheck =
  | { readonly ok: true; readonly nonce: string; readonly issuedAt: number }
  | {
      readonly ok: false;
      readonly reason: DispatchRefusal;
      /** Says why, without secrets (it goes back to the sender and into the worker's log). */
      readonly message: string;
    };

const refused = (reason: DispatchRefusal, message: string): DispatchCheck => ({
  ok: false,
  reason,
  message,
});

function single(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

function validSignature(secrets: readonly string[], headers: Headers, body: string): boolean {
  const presented = headers[DISPATCH_SIGNATURE_HEADER];
  if (typeof presented !== 'string' || !presented.startsWith(`${VERSION}=`)) return false;
  const given = Buffer.from(presented.slice(VERSION.length + 1), 'base64url');
  return secrets.some((secret) => {
    const expected = mac(secret, headers, body);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * Everything but the used-once check, for `headers` as received: a valid signature by one of
 * `secrets` (several while a secret is being rotated) over them and `body`, a well-formed
 * signed nonce, and an issue time within `validityMs` (+/- `clockSkewMs`) of `now`.
 */
export function verifyDispatch(
  secrets: readonly string[],
  headers: Headers,
  body: string,
  options: DispatchFreshness & { readonly now?: number },
): DispatchCheck {
  // The signature first: nothing an unsigned sender wrote is looked at further.
  if (!validSignature(secrets, headers, body)) {
    return refused('signature', 'Dispatch signature missing or invalid');
  }
  const nonce = single(headers, DISPATCH_NONCE_HEADER);
  if (nonce === undefined || !NONCE.test(nonce)) {
    return refused('nonce', 'Dispatch nonce missing or malformed');
  }
  const issuedAtText = single(headers, DISPATCH_ISSUED_AT_HEADER);
  if (issuedAtText === undefined || !EPOCH_MS.test(issuedAtText)) {
    return refused('nonce', 'Dispatch issue time missing or malformed');
  }
  const issuedAt = Number(issuedAtText);
  const now = options.now ?? Date.now();
  if (issuedAt - options.clockSkewMs > now) {
    return refused('expired', 'Dispatch signature issued in the future');
  }
  if (now > issuedAt + options.validityMs + options.clockSkewMs) {
    return refused('expired', 'Dispatch signature expired');
  }
  return { ok: true, nonce, issuedAt };
}

/**
 * How long a claimed nonce is remembered: past the moment any worker whose clock is within
 * the skew tolerance would still accept its signature.
 */
export function dispatchNonceTtlMs(o: DispatchFreshness): number {
  return o.validityMs + 2 * o.clockSkewMs;
}

export interface DispatchVerifierOptions extends DispatchFreshness {
  readonly secrets: readonly string[];
  /**
   * For dispatches without an audience: shared by every worker of the cluster (Redis), or
   * this process's own (memory).
   */
  readonly nonces: DispatchNonceStore;
  /**
   * This process as an audience: its boot id (published in its registry record) and its own
   * nonces, which check the dispatches addressed to it. A dispatch addressed to another id is
   * refused (`audience`). Without it, every dispatch is checked in `nonces`.
   */
  readonly audience?: {
    readonly id: string;
    readonly nonces: MemoryDispatchNonceStore;
  };
  /** Milliseconds clock (default Date.now); tests inject a fake one. */
  readonly now?: () => number;
}

/**
 * A worker's gate: {@link verifyDispatch}, then the audience, then claims the nonce: in this
 * process's memory when the dispatch is addressed to it, else in the shared store. A replay
 * (a nonce claimed before, by this or any worker) is refused. When the shared store does not
 * answer — an error, or no answer before the signature would expire anyway — the dispatch is
 * refused as `replay-check-unavailable` (fail closed: nothing runs unchecked; the sender may
 * retry).
 */
export class DispatchVerifier {
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly o: DispatchVerifierOptions) {
    this.now = o.now ?? Date.now;
    this.ttlMs = dispatchNonceTtlMs(o);
  }

  async verify(headers: Headers, body: string): Promise<DispatchCheck> {
    const now = this.now();
    const check = verifyDispatch(this.o.secrets, headers, body, {
      validityMs: this.o.validityMs,
      clockSkewMs: this.o.clockSkewMs,
      now,
    });
    if (!check.ok) return check;
    const audience = headers[DISPATCH_AUDIENCE_HEADER];
    if (audience !== undefined) {
      // Signed: nobody without the secret wrote or removed it.
      const own = this.o.audience;
      if (own === undefined || audience !== own.id) {
        return refused('audience', 'Dispatch addressed to another worker process');
      }
      return own.nonces.claimNow(check.nonce, this.ttlMs)
        ? check
        : refused('replayed', 'Dispatch nonce already used');
    }
    const boundMs = check.issuedAt + this.o.validityMs + this.o.clockSkewMs - now;
    let first: boolean | undefined;
    try {
      first = await withinMs(this.o.nonces.claim(check.nonce, this.ttlMs), boundMs);
    } catch {
      first = undefined;
    }
    if (first === undefined) {
      return refused('replay-check-unavailable', 'Dispatch replay check unavailable');
    }
    return first ? check : refused('replayed', 'Dispatch nonce already used');
  }
}

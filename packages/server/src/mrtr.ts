/**
 * MRTR (multi round-trip requests, 2026-07-28): the handler is re-run on every round; the
 * answers gathered so far travel in `requestState`, an HMAC-SHA256-signed token bound to the
 * method, the component (tool/prompt name or resource uri) and the caller, with an expiry.
 * Token: "v1.<kid>.<payload b64url>.<sig b64url>". The first key signs; every key verifies.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { StateKey } from './api.js';

export const DEFAULT_STATE_TTL_MS = 10 * 60_000;

/** What a state binds to: a token minted for one call is useless for another. */
export interface StateBinding {
  readonly method: string;
  readonly target: string;
  readonly principal: string;
}

interface Payload {
  /** Issued at (ms); with `exp`, lets operators reason about a token's age. */
  readonly iat: number;
  readonly m: string;
  readonly t: string;
  readonly p: string;
  readonly exp: number;
  readonly a: Record<string, JsonObject>;
}

export class StateSigner {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly signingId: string;
  private readonly signingKey: Buffer;

  constructor(
    keys: readonly StateKey[] | undefined,
    private readonly ttlMs: number = DEFAULT_STATE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    const list =
      keys !== undefined && keys.length > 0
        ? keys
        : [{ id: 'p', secret: randomBytes(32).toString('base64url') }];
    const map = new Map<string, Buffer>();
    for (const k of list) {
      if (k.id.includes('.') || k.id.length === 0)
        throw new Error(`Invalid state key id "${k.id}"`);
      map.set(k.id, Buffer.from(k.secret, 'utf8'));
    }
    this.keys = map;
    const first = list[0] as StateKey;
    this.signingId = first.id;
    this.signingKey = map.get(first.id) as Buffer;
  }

  sign(binding: StateBinding, answers: Record<string, JsonObject>): string {
    const now = this.now();
    const payload: Payload = {
      iat: now,
      m: binding.method,
      t: binding.target,
      p: binding.principal,
      exp: now + this.ttlMs,
      a: answers,
    };
    const body = `v1.${this.signingId}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
    return `${body}.${mac(this.signingKey, body)}`;
  }

  /** The carried answers of a valid state; -32602 for anything tampered, foreign or expired. */
  verify(token: unknown, binding: StateBinding): Record<string, JsonObject> {
    if (typeof token !== 'string') throw integrityError();
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw integrityError();
    const [, kid, encoded, sig] = parts as [string, string, string, string];
    const key = this.keys.get(kid);
    if (key === undefined) throw integrityError();
    const expected = Buffer.from(mac(key, `v1.${kid}.${encoded}`), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw integrityError();
    }
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Payload;
    } catch {
      throw integrityError();
    }
    if (
      payload.m !== binding.method ||
      payload.t !== binding.target ||
      payload.p !== binding.principal ||
      typeof payload.exp !== 'number' ||
      payload.exp < this.now() ||
      typeof payload.a !== 'object' ||
      payload.a === null
    ) {
      throw integrityError();
    }
    return payload.a;
  }
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

function integrityError(): ProtocolError {
  return ProtocolError.of('InvalidParams', 'requestState integrity check failed');
}

/**
 * Thrown inside a handler's `ctx.input` when answers are missing. It is control flow: the
 * engine also checks the round's record of it, so a handler that swallows it still yields
 * an input_required result. Never serialized.
 */
export class InputRequiredSignal extends Error {
  override readonly name = 'InputRequiredSignal';

  constructor(readonly requests: Readonly<Record<string, InputRequest>>) {
    super('input required');
  }
}

/** Per-request MRTR state: merged answers in, consumed answers out. */
export class MrtrRound {
  /** Answers the handler actually used; carried into the next requestState. */
  readonly consumed: Record<string, JsonObject> = {};
  /** Input requests still missing, when the run asked for any. */
  missing: Record<string, InputRequest> | undefined;

  constructor(private readonly answers: Readonly<Record<string, unknown>>) {}

  /** Answers for every key, or records the missing ones and throws the signal. */
  take<K extends string>(requests: Readonly<Record<K, InputRequest>>): Record<K, JsonObject> {
    const out = {} as Record<K, JsonObject>;
    let missing: Record<string, InputRequest> | undefined;
    for (const key in requests) {
      const answer = Object.hasOwn(this.answers, key) ? this.answers[key] : undefined;
      if (isJsonObject(answer)) {
        out[key] = answer;
        this.consumed[key] = answer;
      } else {
        (missing ??= {})[key] = requests[key];
      }
    }
    if (missing !== undefined) {
      this.missing = missing;
      throw new InputRequiredSignal(missing);
    }
    return out;
  }
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads `inputResponses`: absent -> {}, object -> itself, anything else -> -32602. */
export function readInputResponses(params: JsonObject): Readonly<Record<string, unknown>> {
  const value = params['inputResponses'];
  if (value === undefined) return {};
  if (!isJsonObject(value)) {
    throw ProtocolError.of('InvalidParams', 'inputResponses must be an object');
  }
  return value;
}

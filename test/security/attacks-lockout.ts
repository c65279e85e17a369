/**
 * Lockout bounds the hashing: a storm of concurrent wrong Basic passwords costs at most the
 * lockout threshold in password verifications (scrypt), per address and per user name, across
 * entry points (both gateways of the cluster) — on `/mcp` and on the token endpoint. Every
 * verification that fails leaves one `unauthenticated` audit line; every request refused
 * beyond the budget leaves one `locked_out` line and runs no hash.
 *
 * The storms use user names nobody configured: an unknown user costs the same decoy hash and
 * counts the same, and the suite's real users (alice, bob) stay unlocked for the other cases.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  LOCKOUT_FAILURES,
  PASSWORDS,
  basic,
  freshAddress,
  modern,
  rpcResult,
  tokenRequest,
} from './support.js';
import { RATE_LIMITED, expectRefused } from './target.js';
import type { AttackPart, AttackTarget } from './target.js';

/** Concurrent wrong attempts per storm. */
const STORM = 80;
const echo = { name: 'echo', arguments: { text: 'hi' } };

/** One wrong attempt of a storm: which entry point, which user name, from where. */
interface Shot {
  readonly url: string;
  readonly user: string;
  readonly from: string;
}

const stormUser = (): string => `storm-${randomBytes(4).toString('hex')}`;

/** The audit entries of `event` written for requests from `addresses`. */
function auditFrom(
  t: AttackTarget,
  event: string,
  addresses: readonly string[],
): Record<string, unknown>[] {
  return t
    .audit()
    .filter((e) => e['event'] === event && addresses.includes(String(e['remoteAddress'])));
}

/**
 * Fires every shot at once (a wrong password each) and checks the outcome: every answer a
 * 401 or a 429 (-32012, Retry-After), nothing ran, at most LOCKOUT_FAILURES verifications
 * (one `unauthenticated` line each) and every other request refused as locked out.
 */
async function storm(t: AttackTarget, shots: readonly Shot[]): Promise<void> {
  const addresses = [...new Set(shots.map((s) => s.from))];
  await changesNothing(t, async () => {
    const answers = await Promise.all(
      shots.map((s, i) =>
        modern(s.url, 'tools/call', echo, basic(s.user, `wrong-${i}`), { from: s.from }),
      ),
    );
    for (const r of answers) {
      if (r.status === 429) {
        expectRefused(r, 429, RATE_LIMITED);
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      } else {
        expect(r.status).toBe(401);
      }
    }
  });
  const verified = auditFrom(t, 'unauthenticated', addresses);
  expect(verified.length).toBeGreaterThan(0);
  expect(verified.length).toBeLessThanOrEqual(LOCKOUT_FAILURES);
  for (const e of verified) expect(e['reason']).toBe('invalid credentials');
  // Every request left exactly one line: verified and failed, or refused without a hash.
  expect(auditFrom(t, 'locked_out', addresses)).toHaveLength(shots.length - verified.length);
}

/**
 * The right password of a user nobody attacked, from an untouched address, still works (a
 * `tools/list`: it spends nothing of bob's per-tool budget, which other cases count on).
 */
async function controlStillWorks(t: AttackTarget): Promise<void> {
  for (const url of t.urls) {
    const r = await modern(url, 'tools/list', {}, basic('bob', PASSWORDS.bob), {
      from: freshAddress(),
    });
    expect(r.status).toBe(200);
    expect(rpcResult(r)?.['tools']).toEqual(expect.any(Array));
  }
}

/**
 * Runs a storm and checks it changed nothing: no tool ran, no session appeared. (Sessions of
 * earlier cases may close meanwhile, so the count may only not grow.)
 */
async function changesNothing<T>(t: AttackTarget, attack: () => Promise<T>): Promise<T> {
  const effects = t.sideEffects().length;
  const sessions = await t.storedSessions();
  const result = await attack();
  expect(t.sideEffects()).toHaveLength(effects);
  expect(await t.storedSessions()).toBeLessThanOrEqual(sessions);
  return result;
}

export const lockoutAttacks: AttackPart = (target) => {
  it('lockout bounds hashing: concurrent wrong Basic passwords for one user from one address', async () => {
    const t = target();
    const user = stormUser();
    const from = freshAddress();
    await storm(
      t,
      Array.from({ length: STORM }, () => ({ url: t.urls[0], user, from })),
    );
    await controlStillWorks(t);
  });

  it('lockout bounds hashing: the storm spread over both entry points', async () => {
    const t = target();
    const user = stormUser();
    const from = freshAddress();
    await storm(
      t,
      Array.from({ length: STORM }, (_, i) => ({ url: t.urls[i % 2] ?? t.urls[0], user, from })),
    );
    await controlStillWorks(t);
  });

  it('lockout bounds hashing: many user names from one address (the address budget)', async () => {
    const t = target();
    const users = Array.from({ length: 8 }, stormUser);
    const from = freshAddress();
    await storm(
      t,
      Array.from({ length: STORM }, (_, i) => ({
        url: t.urls[i % 2] ?? t.urls[0],
        user: users[i % users.length] ?? 'storm',
        from,
      })),
    );
    await controlStillWorks(t);
  });

  it('lockout bounds hashing: one user name from many addresses (the user budget)', async () => {
    const t = target();
    const user = stormUser();
    const addresses = Array.from({ length: 8 }, freshAddress);
    await storm(
      t,
      Array.from({ length: STORM }, (_, i) => ({
        url: t.urls[i % 2] ?? t.urls[0],
        user,
        from: addresses[i % addresses.length] ?? freshAddress(),
      })),
    );
    await controlStillWorks(t);
  });

  it('lockout bounds hashing: wrong client secrets at the token endpoint, both entry points', async () => {
    const t = target();
    const client = stormUser();
    const from = freshAddress();
    const answers = await Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        tokenRequest(
          t.urls[i % 2] ?? t.urls[0],
          '/oauth/token',
          { grant_type: 'client_credentials' },
          basic(client, `wrong-${i}`),
          from,
        ),
      ),
    );
    const failed = answers.filter((a) => a.status === 401);
    const refused = answers.filter((a) => a.status === 429);
    expect(failed.length + refused.length).toBe(STORM);
    for (const a of failed) expect(a.body['error']).toBe('invalid_client');
    for (const a of refused) expect(a.body['error']).toBe('slow_down');
    // A 401 is a verification that ran; a 429 ran none.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(LOCKOUT_FAILURES);
    // The audit trail says the same, one line per request.
    const verified = auditFrom(t, 'unauthenticated', [from]);
    expect(verified).toHaveLength(failed.length);
    expect(auditFrom(t, 'locked_out', [from])).toHaveLength(refused.length);
    // The address is spent on /mcp too (one lockout), and another client still gets tokens.
    const mcp = await modern(t.urls[1], 'tools/call', echo, basic(client, 'wrong'), { from });
    expectRefused(mcp, 429, RATE_LIMITED);
    const bob = await tokenRequest(
      t.urls[1],
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic('bob', PASSWORDS.bob),
      freshAddress(),
    );
    expect(bob.status).toBe(200);
    await controlStillWorks(t);
  });
};

/**
 * Replayed gateway->worker dispatches (issue 9, item 4). Someone who captured one dispatch
 * on the cluster's network (headers and body, signature included) sends it to the worker's
 * port again: it must run nothing. Each dispatch carries a signed random nonce and a signed
 * issue time; a worker runs it only while the issue time is fresh and only the first time
 * any worker sees the nonce.
 *
 * Cluster only: the embedded node has no dispatch wire. cluster.test.ts passes this part to
 * describeAttackSuite with the wire's coordinates (`target.dispatch`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  DISPATCH_ISSUED_AT_HEADER,
  DISPATCH_NONCE_HEADER,
  DISPATCH_PATH,
  DISPATCH_SIGNATURE_HEADER,
  dispatchSignature,
  signDispatch,
} from '@mcp-cluster/cluster';
import { envelopeHeaders, modernRequest } from '@mcp-cluster/testkit';
import { bearer, freshAddress, mintJwt, modern, rpcResult } from './support.js';
import { UNAUTHORIZED, withoutSideEffects } from './target.js';
import type { AttackPart, AttackTarget, DispatchWire } from './target.js';

/** Bound on one hand-made dispatch. */
const DISPATCH_TIMEOUT_MS = 15_000;
/** Copies of one signed dispatch sent at once. */
const CONCURRENT_COPIES = 8;

/** The principal a captured dispatch acts for (the worker takes the envelope's word). */
const VICTIM = { id: 'replay-victim', kind: 'user', roles: ['admin'] } as const;

interface Dispatch {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** What the echo tool answers. */
  readonly text: string;
  /** The side-effect line the echo tool writes when this dispatch runs. */
  readonly effect: string;
}

interface Answer {
  readonly status: number;
  readonly json: { result?: Record<string, unknown>; error?: { code: number; message: string } };
}

function wireOf(t: AttackTarget): DispatchWire {
  if (t.dispatch === undefined) throw new Error('this deployment exposes no dispatch wire');
  return t.dispatch;
}

/** An unsigned echo dispatch as a gateway builds it (envelope + forwarded MCP headers). */
function echoDispatch(): Dispatch {
  const text = `replay-${randomUUID()}`;
  const headers = {
    ...envelopeHeaders({ principal: VICTIM }),
    'mcp-method': 'tools/call',
    'mcp-name': 'echo',
  };
  const body = JSON.stringify(
    modernRequest('tools/call', { name: 'echo', arguments: { text } }).body,
  );
  return { headers, body, text, effect: `echo:${VICTIM.id}:${text}` };
}

/** Signed the way a gateway signs it: a fresh nonce and issue time unless given. */
function signed(
  wire: DispatchWire,
  d: Dispatch,
  options: { now?: number; nonce?: string } = {},
): Record<string, string> {
  return { ...d.headers, ...signDispatch(wire.secret, d.headers, d.body, options) };
}

async function post(wire: DispatchWire, headers: Record<string, string>, body: string) {
  const res = await fetch(`${wire.workerUrl}${DISPATCH_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(DISPATCH_TIMEOUT_MS),
  });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

function expectRan(answer: Answer, d: Dispatch): void {
  expect(answer.status).toBe(200);
  expect(answer.json.result?.['content']).toEqual([{ type: 'text', text: d.text }]);
}

function expectUnauthorized(answer: Answer): void {
  expect({ status: answer.status, code: answer.json.error?.code }).toEqual({
    status: 401,
    code: UNAUTHORIZED,
  });
  expect(JSON.stringify(answer.json)).not.toMatch(/at .+\.(ts|js):\d+|node_modules|\/work\//);
}

function runs(t: AttackTarget, d: Dispatch): number {
  return t.sideEffects().filter((line) => line === d.effect).length;
}

export const dispatchReplay: AttackPart = (target) => {
  it('dispatch replay: a captured dispatch runs once; every replay is 401 and runs nothing', async () => {
    const t = target();
    const wire = wireOf(t);
    const d = echoDispatch();
    const headers = signed(wire, d);
    expectRan(await post(wire, headers, d.body), d);
    expect(runs(t, d)).toBe(1);

    await withoutSideEffects(t, async () => {
      // Verbatim, then with transport headers a replaying proxy might add or change.
      const variants: Record<string, string>[] = [
        headers,
        headers,
        { ...headers, 'user-agent': 'replayer/1.0', 'x-forwarded-for': '10.9.8.7' },
        Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])),
      ];
      for (const h of variants) expectUnauthorized(await post(wire, h, d.body));
    });
    expect(runs(t, d)).toBe(1);
    expect(wire.workerLog()).toContain('Dispatch nonce already used');
  });

  it('dispatch replay: of concurrent copies of one signed dispatch exactly one runs', async () => {
    const t = target();
    const wire = wireOf(t);
    const d = echoDispatch();
    const headers = signed(wire, d);
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_COPIES }, () => post(wire, headers, d.body)),
    );
    const ran = answers.filter((a) => a.status === 200);
    expect(ran).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expectUnauthorized(a);
    expect(runs(t, d)).toBe(1);
  });

  it('dispatch replay: a signature issued outside its validity is 401 and runs nothing', async () => {
    const t = target();
    const wire = wireOf(t);
    const now = Date.now();
    const late = wire.validityMs + wire.clockSkewMs;
    const stale = [
      now - late - 5_000, // just past the validity and the skew tolerance
      now - 10 * 60_000, // long past, yet well within the 5 min request deadline
      now + wire.clockSkewMs + 60_000, // from the future (a gateway clock far ahead)
      0,
    ];
    await withoutSideEffects(t, async () => {
      for (const issuedAt of stale) {
        const d = echoDispatch();
        expectUnauthorized(await post(wire, signed(wire, d, { now: issuedAt }), d.body));
      }
    });
    expect(wire.workerLog()).toMatch(/Dispatch signature (expired|issued in the future)/);

    // Control: within the validity it runs (the check is the window, not any old issue time).
    const fresh = echoDispatch();
    const issuedAt = now - Math.floor(wire.validityMs / 2);
    expectRan(await post(wire, signed(wire, fresh, { now: issuedAt }), fresh.body), fresh);
  });

  it('dispatch replay: a nonce removed, altered, malformed or never signed is 401', async () => {
    const t = target();
    const wire = wireOf(t);
    const forged: { headers: Record<string, string>; body: string }[] = [];
    const add = (make: (d: Dispatch, h: Record<string, string>) => Record<string, string>) => {
      const d = echoDispatch();
      forged.push({ headers: make(d, signed(wire, d)), body: d.body });
    };
    const without = (h: Record<string, string>, name: string) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
    // Tampered after signing: the signature covers nonce and issue time.
    add((_d, h) => without(h, DISPATCH_NONCE_HEADER));
    add((_d, h) => ({ ...h, [DISPATCH_NONCE_HEADER]: randomBytes(16).toString('base64url') }));
    add((_d, h) => ({ ...h, [DISPATCH_NONCE_HEADER]: '' }));
    add((_d, h) => without(h, DISPATCH_ISSUED_AT_HEADER));
    add((_d, h) => ({
      ...h,
      [DISPATCH_ISSUED_AT_HEADER]: String(Number(h[DISPATCH_ISSUED_AT_HEADER]) + 1),
    }));
    // Validly signed, but without a nonce and issue time (a gateway that predates them) ...
    add((d) => ({
      ...d.headers,
      [DISPATCH_SIGNATURE_HEADER]: dispatchSignature(wire.secret, d.headers, d.body),
    }));
    // ... or with a nonce too short to be random (a replay store is only as good as it).
    add((d) => signed(wire, d, { nonce: 'abc' }));
    add((d) => signed(wire, d, { nonce: 'not base64url!!!not base64url!!!' }));
    await withoutSideEffects(t, async () => {
      for (const f of forged) expectUnauthorized(await post(wire, f.headers, f.body));
    });
    expect(wire.workerLog()).toContain('Dispatch nonce missing or malformed');
    // The worker keeps serving properly signed dispatches.
    const d = echoDispatch();
    expectRan(await post(wire, signed(wire, d), d.body), d);
  });

  it('dispatch replay: calls through both gateways still run, each dispatch signed afresh', async () => {
    const t = target();
    const token = await mintJwt(t.keys);
    const before = t.sideEffects().length;
    for (const url of t.urls) {
      // The same client request three times: three dispatches, three nonces, three runs.
      for (let i = 0; i < 3; i++) {
        const echo = { name: 'echo', arguments: { text: 'again' } };
        const r = await modern(url, 'tools/call', echo, bearer(token), { from: freshAddress() });
        expect(r.status, r.text).toBe(200);
        expect(rpcResult(r)?.['content']).toEqual([{ type: 'text', text: 'again' }]);
      }
    }
    expect(t.sideEffects().length).toBe(before + 6);
  });
};

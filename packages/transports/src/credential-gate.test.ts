import { describe, expect, it } from 'vitest';
import { MAX_MESSAGES_AWAITING_CHECK, credentialGate } from './credential-gate.js';
import { FakeCredential } from './credential.testkit.js';
import type { AdmittedCredential, CredentialEnd } from './guard.js';

function harness(credential: AdmittedCredential | undefined) {
  const ran: number[] = [];
  const ended: CredentialEnd[] = [];
  const refused: number[] = [];
  const gate = credentialGate<[number]>(credential, {
    run: (n) => void ran.push(n),
    ended: (why) => void ended.push(why),
    unavailable: (_err, n) => void refused.push(n),
  });
  return { ran, ended, refused, gate };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('credentialGate', () => {
  it('without a credential every message runs at once', () => {
    const h = harness(undefined);
    h.gate.receive(1);
    h.gate.receive(2);
    h.gate.stop();
    expect(h.ran).toEqual([1, 2]);
  });

  it('runs at once while a recent verdict says valid', () => {
    const c = new FakeCredential();
    const h = harness(c);
    h.gate.receive(1);
    h.gate.receive(2);
    expect(h.ran).toEqual([1, 2]);
    expect(c.checks).toBe(0);
  });

  it('holds messages for one shared re-check, then runs them in arrival order', async () => {
    const c = new FakeCredential();
    c.known = undefined;
    const h = harness(c);
    h.gate.receive(1);
    h.gate.receive(2);
    // A fresh verdict meanwhile must not let a later message overtake the held ones.
    c.known = 'valid';
    h.gate.receive(3);
    expect(h.ran).toEqual([]);
    expect(c.checks).toBe(1);
    c.answer('valid');
    await settle();
    expect(h.ran).toEqual([1, 2, 3]);
    h.gate.receive(4);
    expect(h.ran).toEqual([1, 2, 3, 4]);
  });

  it('a re-check that finds the credential revoked runs nothing and ends once', async () => {
    const c = new FakeCredential();
    c.known = undefined;
    const h = harness(c);
    h.gate.receive(1);
    h.gate.receive(2);
    c.answer('revoked');
    await settle();
    h.gate.receive(3);
    expect(h.ran).toEqual([]);
    expect(h.ended).toEqual(['revoked']);
    expect(c.watching).toBe(0);
  });

  it('a known end closes at the next message; the watch closes without one', () => {
    const c = new FakeCredential();
    const h = harness(c);
    h.gate.receive(1);
    c.known = 'expired';
    h.gate.receive(2);
    expect(h.ran).toEqual([1]);
    expect(h.ended).toEqual(['expired']);

    const d = new FakeCredential();
    const k = harness(d);
    expect(d.watching).toBe(1);
    d.end('revoked');
    k.gate.receive(1);
    expect(k.ran).toEqual([]);
    expect(k.ended).toEqual(['revoked']);
    expect(d.watching).toBe(0);
  });

  it('messages held when the watch reports the end never run', async () => {
    const c = new FakeCredential();
    c.known = undefined;
    const h = harness(c);
    h.gate.receive(1);
    c.end('revoked');
    c.answer('valid');
    await settle();
    expect(h.ran).toEqual([]);
    expect(h.ended).toEqual(['revoked']);
  });

  it('a re-check that fails refuses the held messages (retryably) and keeps the connection', async () => {
    const c = new FakeCredential();
    c.known = undefined;
    const h = harness(c);
    h.gate.receive(1);
    h.gate.receive(2);
    c.answer(new Error('store down'));
    await settle();
    expect(h.refused).toEqual([1, 2]);
    expect(h.ended).toEqual([]);
    h.gate.receive(3);
    c.answer('valid');
    await settle();
    expect(h.ran).toEqual([3]);
  });

  it('holds at most MAX_MESSAGES_AWAITING_CHECK messages; the rest are refused', () => {
    const c = new FakeCredential();
    c.known = undefined;
    const h = harness(c);
    for (let i = 0; i < MAX_MESSAGES_AWAITING_CHECK + 3; i++) h.gate.receive(i);
    expect(h.refused).toEqual([
      MAX_MESSAGES_AWAITING_CHECK,
      MAX_MESSAGES_AWAITING_CHECK + 1,
      MAX_MESSAGES_AWAITING_CHECK + 2,
    ]);
  });

  it('a watch that reports at once ends the gate before any message', () => {
    const c = new FakeCredential();
    c.watch = (onEnd) => {
      onEnd('expired');
      return () => undefined;
    };
    const h = harness(c);
    h.gate.receive(1);
    expect(h.ended).toEqual(['expired']);
    expect(h.ran).toEqual([]);
  });

  it('stop() unsubscribes the watch', () => {
    const c = new FakeCredential();
    const h = harness(c);
    h.gate.stop();
    expect(c.watching).toBe(0);
  });
});

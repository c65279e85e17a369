/** The shared sweep behind early acks: due requests are acknowledged once, settled ones never. */
import { afterEach, describe, expect, it } from 'vitest';
import { EarlyAcks } from './early-ack.js';
import type { PendingAck } from './early-ack.js';

let clock = 0;
const acks = new EarlyAcks(1_000_000, () => clock);

afterEach(() => {
  acks.stop();
  clock = 0;
});

function pending(ackAt: number): PendingAck & { acked: number } {
  return {
    ackAt,
    acked: 0,
    ack() {
      this.acked++;
    },
  };
}

describe('EarlyAcks', () => {
  it('acknowledges what is due, once, and keeps the rest', () => {
    const early = pending(10);
    const late = pending(100);
    acks.watch(late);
    acks.watch(early);
    clock = 50;
    acks.sweep();
    expect(early.acked).toBe(1);
    expect(late.acked).toBe(0);
    expect(acks.size).toBe(1);
    clock = 100;
    acks.sweep();
    acks.sweep();
    expect(early.acked).toBe(1);
    expect(late.acked).toBe(1);
    expect(acks.size).toBe(0);
  });

  it('never acknowledges a request that settled first', () => {
    const p = pending(10);
    acks.watch(p);
    acks.settle(p);
    clock = 20;
    acks.sweep();
    expect(p.acked).toBe(0);
  });
});

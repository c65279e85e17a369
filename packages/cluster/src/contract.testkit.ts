/**
 * Behaviour every implementation must share; run against memory (state.test.ts) and
 * Redis (state.redis.test.ts). Implementation-specific checks (TTL, corruption) live there.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ClusterStateError } from './errors.js';
import type { ComponentRegistry, RegistryChange } from './registry.js';
import { MAX_MIGRATIONS, mutateSession, type SessionStore } from './sessions.js';

export interface ContractHarness {
  sessions: SessionStore;
  registry: ComponentRegistry;
  /** Makes a worker's heartbeat lapse, without sleeping. */
  expireWorker(workerId: string): Promise<void>;
  close(): Promise<void>;
}

const init = {
  protocolVersion: '2025-06-18',
  clientCapabilities: { sampling: {} },
  clientInfo: { name: 'client', version: '1.0.0' },
  ownerId: 'alice',
};

const components = { tools: ['echo'], prompts: [], resources: ['res://a'], resourceTemplates: [] };

export function describeContract(name: string, make: () => Promise<ContractHarness>): void {
  describe(`${name}: cluster state contract`, () => {
    let h: ContractHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    describe('SessionStore', () => {
      it('creates, reads back and refuses a duplicate id', async () => {
        const rec = await h.sessions.create('s1', init);
        expect(rec).toMatchObject({ id: 's1', version: 1, subscriptions: [], initialized: false });
        const got = await h.sessions.get('s1');
        expect(got).toEqual({ status: 'live', session: rec });
        await expect(h.sessions.create('s1', init)).rejects.toBeInstanceOf(ClusterStateError);
        expect(await h.sessions.get('nope')).toEqual({ status: 'unknown' });
      });

      it('updates with compare-and-set on the version', async () => {
        await h.sessions.create('s1', { ...init, logLevel: 'info' });
        const ok = await h.sessions.update('s1', 1, {
          subscriptions: ['res://a'],
          initialized: true,
          logLevel: undefined,
        });
        expect(ok.ok).toBe(true);
        if (!ok.ok) return;
        expect(ok.session.version).toBe(2);
        expect(ok.session.subscriptions).toEqual(['res://a']);
        expect(ok.session).not.toHaveProperty('logLevel');
        expect(await h.sessions.update('s1', 1, { logLevel: 'debug' })).toEqual({
          ok: false,
          reason: 'conflict',
        });
        const got = await h.sessions.get('s1');
        expect(got.status === 'live' && got.session).toEqual(ok.session);
        expect(await h.sessions.update('nope', 1, {})).toEqual({ ok: false, reason: 'unknown' });
      });

      it('lets exactly one of two racing updates win', async () => {
        await h.sessions.create('s1', init);
        const results = await Promise.all([
          h.sessions.update('s1', 1, { logLevel: 'debug' }),
          h.sessions.update('s1', 1, { logLevel: 'error' }),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'conflict' }]);
      });

      it('mutateSession retries lost races so no concurrent change is lost', async () => {
        await h.sessions.create('s1', init);
        const uris = ['a', 'b', 'c', 'd'];
        const results = await Promise.all(
          uris.map((u) =>
            mutateSession(
              h.sessions,
              's1',
              (s) => ({ subscriptions: [...s.subscriptions, u] }),
              20,
            ),
          ),
        );
        expect(results.every((r) => r.ok)).toBe(true);
        const got = await h.sessions.get('s1');
        expect(got.status === 'live' && [...got.session.subscriptions].sort()).toEqual(uris);
        expect(await mutateSession(h.sessions, 'nope', () => ({}))).toEqual({
          ok: false,
          reason: 'unknown',
        });
      });

      it('keeps an ended session known as ended', async () => {
        await h.sessions.create('s1', init);
        expect(await h.sessions.touch('s1')).toBe(true);
        await h.sessions.delete('s1');
        await h.sessions.delete('s1');
        expect(await h.sessions.get('s1')).toEqual({ status: 'ended' });
        expect(await h.sessions.update('s1', 1, {})).toEqual({ ok: false, reason: 'ended' });
        expect(await h.sessions.touch('s1')).toBe(false);
        expect(await h.sessions.getPin('s1')).toBeUndefined();
        expect(await h.sessions.setPin('s1', 'w1')).toBe(false);
        await expect(h.sessions.create('s1', init)).rejects.toMatchObject({ kind: 'exists' });
        expect(await h.sessions.touch('nope')).toBe(false);
      });

      it('pins with compare-and-set and records migrations', async () => {
        await h.sessions.create('s1', init);
        expect(await h.sessions.getPin('s1')).toBeUndefined();
        expect(await h.sessions.setPin('s1', 'w1')).toBe(true);
        expect(await h.sessions.setPin('s1', 'w2')).toBe(false);
        expect(await h.sessions.setPin('s1', 'w2', 'w9')).toBe(false);
        expect(await h.sessions.setPin('s1', 'w2', 'w1')).toBe(true);
        expect(await h.sessions.getPin('s1')).toBe('w2');
        const got = await h.sessions.get('s1');
        if (got.status !== 'live') throw new Error('expected live');
        expect(got.session.workerId).toBe('w2');
        expect(got.session.migrations.map((m) => [m.from, m.to])).toEqual([
          [undefined, 'w1'],
          ['w1', 'w2'],
        ]);
        // Pin changes do not invalidate a state update in flight.
        expect((await h.sessions.update('s1', got.session.version, { initialized: true })).ok).toBe(
          true,
        );
        expect(await h.sessions.getPin('s1')).toBe('w2');
        expect(await h.sessions.setPin('nope', 'w1')).toBe(false);
      });

      it('lets exactly one of two racing re-pins win', async () => {
        await h.sessions.create('s1', { ...init, workerId: 'w1' });
        const results = await Promise.all([
          h.sessions.setPin('s1', 'w2', 'w1'),
          h.sessions.setPin('s1', 'w3', 'w1'),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const pin = await h.sessions.getPin('s1');
        expect(pin).toBe(results[0] === true ? 'w2' : 'w3');
      });

      it('keeps only the most recent migrations', async () => {
        await h.sessions.create('s1', init);
        let prev: string | undefined;
        for (let i = 0; i < MAX_MIGRATIONS + 3; i++) {
          expect(await h.sessions.setPin('s1', `w${i}`, prev)).toBe(true);
          prev = `w${i}`;
        }
        const got = await h.sessions.get('s1');
        if (got.status !== 'live') throw new Error('expected live');
        expect(got.session.migrations).toHaveLength(MAX_MIGRATIONS);
        expect(got.session.migrations.at(-1)).toMatchObject({
          from: `w${MAX_MIGRATIONS + 1}`,
          to: prev,
        });
        expect(got.session.migrations[0]?.to).toBe('w3');
      });

      it('accepts an initial pin at creation', async () => {
        const rec = await h.sessions.create('s2', { ...init, workerId: 'w3' });
        expect(rec.workerId).toBe('w3');
        expect(await h.sessions.getPin('s2')).toBe('w3');
        expect(rec.migrations).toHaveLength(1);
      });
    });

    describe('SessionStore slots', () => {
      const limits = { maxPerOwner: 2, maxTotal: 3 };

      it('claims up to the owner cap and the cluster cap; other owners are unaffected', async () => {
        expect(await h.sessions.claimSlot('a1', 'alice', limits)).toEqual({ ok: true });
        expect(await h.sessions.claimSlot('a2', 'alice', limits)).toEqual({ ok: true });
        const mine = await h.sessions.claimSlot('a3', 'alice', limits);
        expect(mine).toMatchObject({ ok: false, limit: 'principal' });
        expect(!mine.ok && mine.retryAfterMs > 0).toBe(true);
        expect(await h.sessions.claimSlot('b1', 'bob', limits)).toEqual({ ok: true });
        const all = await h.sessions.claimSlot('c1', 'carol', limits);
        expect(all).toMatchObject({ ok: false, limit: 'total' });
        expect(!all.ok && all.retryAfterMs > 0).toBe(true);
      });

      it('a created session holds its slot until it ends; release gives back claims only', async () => {
        const one = { maxPerOwner: 1, maxTotal: 10 };
        expect(await h.sessions.claimSlot('s1', 'alice', one)).toEqual({ ok: true });
        await h.sessions.create('s1', init);
        expect(await h.sessions.claimSlot('s2', 'alice', one)).toMatchObject({ ok: false });
        await h.sessions.releaseSlot('s1', 'alice');
        expect(await h.sessions.claimSlot('s2', 'alice', one)).toMatchObject({ ok: false });
        await h.sessions.delete('s1');
        expect(await h.sessions.claimSlot('s2', 'alice', one)).toEqual({ ok: true });
        await h.sessions.releaseSlot('s2', 'alice');
        expect(await h.sessions.claimSlot('s3', 'alice', one)).toEqual({ ok: true });
      });

      it('a session created without a claim counts too, and keeps counting while in use', async () => {
        const one = { maxPerOwner: 1, maxTotal: 10 };
        await h.sessions.create('s1', init);
        expect(await h.sessions.touch('s1')).toBe(true);
        expect((await h.sessions.update('s1', 1, { initialized: true })).ok).toBe(true);
        expect(await h.sessions.setPin('s1', 'w1')).toBe(true);
        expect(await h.sessions.claimSlot('s2', 'alice', one)).toMatchObject({
          ok: false,
          limit: 'principal',
        });
        expect(await h.sessions.claimSlot('s2', 'bob', one)).toEqual({ ok: true });
      });
    });

    describe('ComponentRegistry', () => {
      it('registers, lists, heartbeats and unregisters', async () => {
        const changes: RegistryChange[] = [];
        const off = h.registry.onChange((c) => changes.push(c));
        const rev0 = await h.registry.revision();
        await h.registry.register('w1', { url: 'http://a', components });
        await h.registry.register('w2', { url: 'http://b', weight: 3, components, instance: 'i2' });
        expect(await h.registry.revision()).toBeGreaterThan(rev0);
        const listed = (await h.registry.list()).sort((a, b) =>
          a.workerId.localeCompare(b.workerId),
        );
        expect(listed).toMatchObject([
          { workerId: 'w1', url: 'http://a', weight: 1, components },
          { workerId: 'w2', url: 'http://b', weight: 3, instance: 'i2' },
        ]);
        expect(listed[0]).not.toHaveProperty('instance');
        expect(await h.registry.heartbeat('w1')).toBe(true);
        await h.registry.unregister('w1');
        await h.registry.unregister('w1');
        expect((await h.registry.list()).map((w) => w.workerId)).toEqual(['w2']);
        expect(await h.registry.heartbeat('w1')).toBe(false);
        off();
        await h.registry.unregister('w2');
        expect(changes.map((c) => c.type)).toEqual(['registered', 'registered', 'unregistered']);
      });

      it('drops lapsed workers from list and sweeps them once', async () => {
        await h.registry.register('w1', { url: 'http://a', components });
        await h.registry.register('w2', { url: 'http://b', components });
        const changes: RegistryChange[] = [];
        h.registry.onChange((c) => changes.push(c));
        await h.expireWorker('w1');
        expect((await h.registry.list()).map((w) => w.workerId)).toEqual(['w2']);
        expect(await h.registry.heartbeat('w1')).toBe(false);
        const rev = await h.registry.revision();
        expect(await h.registry.cleanup()).toEqual(['w1']);
        expect(await h.registry.cleanup()).toEqual([]);
        expect(await h.registry.revision()).toBeGreaterThan(rev);
        expect(changes).toEqual([{ type: 'expired', workerId: 'w1' }]);
        // A lapsed worker comes back by registering again.
        await h.registry.register('w1', { url: 'http://a', components });
        expect(await h.registry.list()).toHaveLength(2);
      });
    });
  });
}

/**
 * Scenario 10: one file watcher per directory across the cluster. Three workers serve the same
 * tree with the files pack; one of them holds the mount's watch lease (read from Redis). A file
 * written while the leader is another worker than the one a legacy session is pinned to
 * reaches that session's GET stream on g1 (subscribed through g1) within 1 s, and a modern
 * listen stream on g2 — exactly once each, proved by a later sentinel change being the next
 * update. After the leader is SIGKILLed another worker takes the lease and the watch over,
 * and the next change still arrives exactly once. Paths the mount refuses (deny glob, links
 * out of the root or onto a denied path, traversal in encoded spellings) are refused for read
 * and subscribe with the same error, absent from resources/list and from completions.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '@mcp-cluster/cluster';
import { filesMount, watchLeaseName } from '@mcp-cluster/components';
import {
  LegacySession,
  expectValidMessage,
  LEGACY_VERSION,
  eventually,
} from '@mcp-cluster/testkit';
import type { SseReader } from '@mcp-cluster/testkit';
import { FILES_DIR_ENV, filesOptions } from './fixtures/files-options.js';
import {
  SCENARIO_TIMEOUT_MS,
  SCENARIO_WORKERS,
  clusterState,
  listen,
  modern,
  pinOf,
  useScenarioCluster,
  workerById,
  type Loose,
} from './support.js';

const FILES_PACK = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'files-pack.ts',
);

// The tree exists before the workers start (they watch it from their first moment).
const tmp = mkdtempSync(path.join(tmpdir(), 'e2e-files-'));
const root = path.join(tmp, 'root');
mkdirSync(path.join(root, 'private'), { recursive: true });
mkdirSync(path.join(tmp, 'outside'));
writeFileSync(path.join(root, 'watched.md'), 'v0');
writeFileSync(path.join(root, 'sentinel.md'), 's0');
writeFileSync(path.join(root, 'private', 'secret.md'), 'TOP SECRET');
writeFileSync(path.join(root, 'api.key'), 'TOP SECRET');
writeFileSync(path.join(tmp, 'outside', 'secret.txt'), 'TOP SECRET');
symlinkSync(path.join(tmp, 'outside', 'secret.txt'), path.join(root, 'escape.txt'));
symlinkSync(path.join(root, 'private', 'secret.md'), path.join(root, 'alias.md'));

const BASE = 'e2efiles:///';
const WATCHED = `${BASE}watched.md`;
const SENTINEL = `${BASE}sentinel.md`;
/** Probe files, one per phase: a late probe update of one phase is not taken for the other. */
const PROBES = [`${BASE}probe-1.md`, `${BASE}probe-2.md`] as const;
const LEASE = watchLeaseName(filesMount(filesOptions(root)));

const scenario = useScenarioCluster({ packs: [FILES_PACK], env: { [FILES_DIR_ENV]: root } });
let state: ClusterState;
beforeAll(async () => {
  state = await clusterState(scenario.cluster);
});
afterAll(async () => {
  await state?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const isUpdate = (m: Loose): boolean => m?.method === 'notifications/resources/updated';

/**
 * Every resources/updated a stream delivers, in order, read in the background (a read that
 * timed out would leave a pending read behind that swallows the next event).
 */
class Updates {
  readonly uris: string[] = [];
  readonly messages: Loose[] = [];
  readonly at: number[] = [];
  private wake: (() => void)[] = [];

  constructor(readonly stream: SseReader) {
    void this.read();
  }

  /** Resolves once `uri` was delivered `times` times in all, or rejects after `timeoutMs`. */
  async waitFor(uri: string, times = 1, timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.uris.flatMap((u, i) => (u === uri ? [i] : []));
      if (seen.length >= times) return this.at[seen[times - 1]!]!;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${uri} x${times} not delivered: ${JSON.stringify(this.uris)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const m = await this.stream.nextMessage<Loose>(SCENARIO_TIMEOUT_MS);
        if (m === undefined) return;
        if (!isUpdate(m)) continue;
        this.uris.push(m.params.uri as string);
        this.messages.push(m);
        this.at.push(Date.now());
        for (const w of this.wake.splice(0)) w();
      }
    } catch {
      // The stream was closed.
    }
  }
}

/** The worker holding the mount's watch lease (its token starts with the worker id). */
async function leader(notId?: string): Promise<string> {
  return eventually(
    `a watch lease holder other than ${notId ?? 'none'}`,
    async () => {
      const id = (await state.leases.holder(LEASE))?.split(':')[0];
      return id !== undefined && id !== notId ? id : undefined;
    },
    { timeoutMs: 15_000, pollMs: 100 },
  );
}

/**
 * Until a leader's watcher announces: writes the probe file `uri` and waits a little for its
 * update, again until one comes (a lease is taken before the watch starts, so the lease
 * alone does not say a change would be seen). Bounded by the number of tries.
 */
async function watching(probes: Updates, uri: string): Promise<void> {
  const file = path.join(root, uri.slice(BASE.length));
  for (let n = 1; n <= 20; n++) {
    await writeFile(file, `probe ${n}`);
    try {
      await probes.waitFor(uri, 1, 1_000);
      return;
    } catch {
      // Not watched yet: write again.
    }
  }
  throw new Error(`no watcher announced ${uri}`);
}

describe('scenario 10: one watcher per directory across the cluster', () => {
  it(
    'a change reaches subscribers on both gateways once; after the leader dies, once again',
    async () => {
      const { cluster, g1, g2 } = scenario;
      expect(cluster.workers).toHaveLength(SCENARIO_WORKERS);
      const probeStream = await listen(g2, { resourceSubscriptions: [...PROBES] });
      const listenStream = await listen(g2, { resourceSubscriptions: [WATCHED, SENTINEL] });
      const sessions: LegacySession[] = [];
      let getStream: SseReader | undefined;
      try {
        const probes = new Updates(probeStream.stream);
        const listener = new Updates(listenStream.stream);
        await watching(probes, PROBES[0]);
        const first = await leader();
        // A session whose requests go to another worker than the watching one.
        let session: LegacySession | undefined;
        for (let i = 0; i < 6 && session === undefined; i++) {
          const s = await LegacySession.open(g1);
          sessions.push(s);
          await s.call('resources/subscribe', { uri: WATCHED });
          const pinned = await pinOf(state, s.id);
          if (pinned !== undefined && pinned !== first) session = s;
        }
        if (session === undefined) throw new Error(`every session pinned to the leader ${first}`);
        await session.call('resources/subscribe', { uri: SENTINEL });
        getStream = await session.openGetStream();
        const legacy = new Updates(getStream);

        const writtenAt = Date.now();
        await writeFile(path.join(root, 'watched.md'), 'v1');
        const arrivedAt = await legacy.waitFor(WATCHED);
        expect(arrivedAt - writtenAt).toBeLessThan(1_000);
        expectValidMessage(LEGACY_VERSION, legacy.messages[0]);
        expect(legacy.messages[0].params).toEqual({ uri: WATCHED });
        // Exactly once: when the sentinel written afterwards arrived, nothing else had.
        await writeFile(path.join(root, 'sentinel.md'), 's1');
        for (const updates of [legacy, listener]) {
          await updates.waitFor(SENTINEL);
          expect(updates.uris).toEqual([WATCHED, SENTINEL]);
        }

        // The leader dies without a word; its lease runs out and another worker watches.
        await workerById(cluster, first).kill('SIGKILL');
        await watching(probes, PROBES[1]);
        const second = await leader(first);
        expect(cluster.workers.map((w) => w.id)).toContain(second);

        await writeFile(path.join(root, 'watched.md'), 'v2');
        await legacy.waitFor(WATCHED, 2);
        await writeFile(path.join(root, 'sentinel.md'), 's2');
        for (const updates of [legacy, listener]) {
          await updates.waitFor(SENTINEL, 2);
          expect(updates.uris).toEqual([WATCHED, SENTINEL, WATCHED, SENTINEL]);
        }
      } finally {
        await getStream?.cancel();
        await probeStream.close();
        await listenStream.close();
        await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
      }
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'refuses denied, escaping and traversing paths for read, list, subscribe and completion',
    async () => {
      const { g1, g2 } = scenario;
      await using session = await LegacySession.open(g1);
      const refused = [
        `${BASE}private/secret.md`, // deny glob
        `${BASE}api.key`, // deny glob on a name
        `${BASE}escape.txt`, // symlink out of the root
        `${BASE}alias.md`, // symlink onto a denied path
        `${BASE}../outside/secret.txt`, // traversal, plain and encoded
        `${BASE}%2e%2e/outside/secret.txt`,
        `${BASE}%2E%2E%2Foutside%2Fsecret.txt`,
        `${BASE}private%2Fsecret.md`,
        `${BASE}%252e%252e/outside/secret.txt`,
      ];
      for (const uri of refused) {
        const read = await session.via(g2).request('resources/read', { uri });
        const subscribe = await session.via(g1).request('resources/subscribe', { uri });
        expect(read.response?.['error'], uri).toMatchObject({ code: -32602 });
        expect((read.response?.['error'] as Loose).message).toMatch(
          /^(Path not allowed|Invalid resource uri): /,
        );
        expect(subscribe.response?.['error'], uri).toEqual(read.response?.['error']);
        expect(read.all.text + subscribe.all.text).not.toContain('TOP SECRET');
      }
      // An admitted path is readable and subscribable, through either gateway.
      const ok = await session.via(g2).call<Loose>('resources/read', { uri: WATCHED });
      expect(ok.contents[0]).toMatchObject({ uri: WATCHED, mimeType: 'text/markdown' });
      await session.via(g1).call('resources/subscribe', { uri: WATCHED });

      for (const url of [g1, g2]) {
        const listed = await modern(url, 'resources/list');
        const uris = (listed.response.result.resources as Loose[]).map((r) => r.uri as string);
        expect(uris).toContain(WATCHED);
        for (const hidden of ['private/secret.md', 'api.key', 'escape.txt', 'alias.md']) {
          expect(uris).not.toContain(`${BASE}${hidden}`);
        }
      }

      /** The values offered for `value`, or the error that refused it. */
      const complete = async (value: string): Promise<Loose> => {
        const { response } = await session.via(g2).request('completion/complete', {
          ref: { type: 'ref/resource', uri: `${BASE}{+path}` },
          argument: { name: 'path', value },
        });
        return response?.['error'] ?? (response?.['result'] as Loose).completion.values;
      };
      const top = await complete('');
      expect(top).toContain('watched.md');
      for (const hidden of ['private/', 'api.key', 'escape.txt', 'alias.md']) {
        expect(top).not.toContain(hidden);
      }
      // Nothing denied, linked out or linked onto a denied path is offered...
      for (const value of ['private/', 'private/sec', 'api', 'esc', 'ali']) {
        expect(await complete(value), value).toEqual([]);
      }
      // ...traversal is refused by the engine, or (encoded, so not a segment) offers nothing.
      for (const value of ['../', '../outside/']) {
        expect(await complete(value), value).toEqual({
          code: -32602,
          message: 'Invalid completion argument: dot segment in template variable "path"',
        });
      }
      for (const value of ['%2e%2e/', '..%2Foutside/']) {
        expect(await complete(value), value).toEqual([]);
      }
    },
    SCENARIO_TIMEOUT_MS,
  );
});

/**
 * The cluster launcher against the test Redis and NATS: listening lines parsed, kill and
 * restart on the same port, start failures carry the node's stderr, close() leaves no
 * process and no key.
 */
import { describe, expect, it } from 'vitest';
import { deleteRedisKeys } from '@mcp-cluster/test-support';
import { ClusterNodeError, startCluster } from './cluster.js';

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

function pidOf(node: { readonly pid: number | undefined }): number {
  if (node.pid === undefined) throw new Error('node has no pid');
  return node.pid;
}

describe('startCluster', () => {
  it('workers: listening lines, SIGKILL + restart on the same port, close leaves nothing', async () => {
    const cluster = await startCluster({ gateways: 0, workers: 2 });
    const pids: number[] = [];
    try {
      expect(cluster.prefix).toMatch(/^t[0-9a-f]{8}$/);
      expect(cluster.workers.map((w) => w.id)).toEqual(['w1', 'w2']);
      for (const w of cluster.workers) {
        expect(w.role).toBe('worker');
        expect(w.running).toBe(true);
        expect(w.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(w.origin).toBe(w.url);
        pids.push(pidOf(w));
        const health = await fetch(`${w.origin}/healthz`);
        expect(health.status).toBe(200);
      }
      const w1 = cluster.workers[0]!;
      const first = { url: w1.url, pid: pidOf(w1) };
      await w1.kill('SIGKILL');
      expect(w1.running).toBe(false);
      expect(w1.pid).toBeUndefined();
      expect(alive(first.pid)).toBe(false);

      await w1.restart();
      expect(w1.running).toBe(true);
      expect(w1.url).toBe(first.url);
      expect(w1.pid).not.toBe(first.pid);
      pids.push(pidOf(w1));
      expect((await fetch(`${w1.origin}/healthz`)).status).toBe(200);

      const w3 = await cluster.addWorker();
      expect(w3.id).toBe('w3');
      pids.push(pidOf(w3));
      await expect(cluster.addWorker({ id: 'w3' })).rejects.toThrow(/already taken/);
    } finally {
      await cluster.close();
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const w of cluster.workers) expect(w.running).toBe(false);
    // Registry records, the shared state key, ...: all gone with the prefix.
    expect(await deleteRedisKeys(cluster.redisUrl, `${cluster.prefix}:*`)).toBe(0);
  });

  it('a node that cannot start fails with its stderr and is not left running', async () => {
    await using cluster = await startCluster({ gateways: 0, workers: 0 });
    const failure = cluster.addWorker({ packs: ['./no-such-pack.ts'] });
    await expect(failure).rejects.toBeInstanceOf(ClusterNodeError);
    await expect(failure).rejects.toThrow(
      /worker w1 exited \(3\) before listening[\s\S]*no-such-pack/,
    );
    expect(cluster.workers[0]?.running).toBe(false);
  });

  it('gateway + worker: listening lines, the gateway sees the worker, restart, close', async () => {
    const cluster = await startCluster({ gateways: 1, workers: 1 });
    const pids: number[] = [];
    try {
      const [g1] = cluster.gateways;
      const [w1] = cluster.workers;
      expect(g1?.id).toBe('g1');
      expect(g1?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(g1?.origin).toBe(new URL(g1?.url ?? '').origin);
      expect(w1?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      pids.push(pidOf(g1!), pidOf(w1!));
      await cluster.waitForWorkers(1);

      const url = g1!.url;
      await g1!.kill('SIGTERM');
      expect(g1!.running).toBe(false);
      await g1!.restart();
      expect(g1!.url).toBe(url);
      pids.push(pidOf(g1!));
      await cluster.waitForWorkers(1);

      await w1!.kill('SIGKILL');
      await cluster.waitForWorkers(0);
    } finally {
      await cluster.close();
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(await deleteRedisKeys(cluster.redisUrl, `${cluster.prefix}:*`)).toBe(0);
  });
});

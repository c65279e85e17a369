/**
 * A session ended (DELETE) through one gateway ends the streams another gateway holds for it
 * at once (a `session.ended` event on the bus), not at that stream's next keep-alive.
 */
import { describe, expect, it } from 'vitest';
import { LegacySession, workersReady } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';

/** Far longer than the test waits: only the bus event can end the stream in time. */
const KEEP_ALIVE_MS = 120_000;
const ENDED_WITHIN_MS = 5_000;

describe('session end across gateways', () => {
  it('DELETE through g1 ends the GET stream held by g2', async () => {
    await using cluster = new InProcessCluster();
    const g1 = await cluster.gateway({ keepAliveMs: KEEP_ALIVE_MS });
    const g2 = await cluster.gateway({ keepAliveMs: KEEP_ALIVE_MS });
    await cluster.worker();
    await Promise.all([workersReady(g1.url, 1), workersReady(g2.url, 1)]);

    const session = await LegacySession.open(g1.url);
    const stream = await session.via(g2.url).openGetStream();
    expect(await session.end()).toBe(204);
    // undefined = the stream ended; a stream still open would time out here.
    expect(await stream.nextMessage(ENDED_WITHIN_MS)).toBeUndefined();
    // And the session is gone on g2 as well.
    const again = await session.via(g2.url).post({ jsonrpc: '2.0', id: 9, method: 'ping' });
    expect(again.status).toBe(404);
  });
});

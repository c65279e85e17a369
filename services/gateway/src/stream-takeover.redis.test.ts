/**
 * A legacy session's standalone GET stream moves to another gateway when its gateway goes
 * away (real sockets, two gateways, one worker): the client resumes on g2 with the
 * Last-Event-ID of g1's stream, and g2 replays what g1 mirrored, delivers what was raised while
 * no gateway had the stream attached, and serves the session live within a second or two —
 * whether g1 drained and closed, or vanished without a drain (no farewell, no end marker in
 * its mirror: what a SIGKILL leaves behind).
 */
import { describe, expect, it } from 'vitest';
import { LegacySession, workersReady } from '@mcp-cluster/test-support';
import type { SseReader } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';
import type { RunningGateway } from './in-process.test-support.js';

const RETRY_MS = 300;
const DRAIN_DELAY_MS = 200;
const STEP_MS = 15_000;
/** Bound on a live event reaching the resumed stream (the takeover follows g1 for 1 s). */
const LIVE_MS = 2_000;

// Streams carry messages of any shape; the test asserts on them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const isToolsChanged = (m: Loose): boolean => m?.method === 'notifications/tools/list_changed';
const isPromptsChanged = (m: Loose): boolean => m?.method === 'notifications/prompts/list_changed';

const triggerTools = (s: LegacySession): Promise<unknown> =>
  s.call('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
const triggerPrompts = (s: LegacySession): Promise<unknown> =>
  s.call('tools/call', { name: 'test_trigger_prompt_change', arguments: {} });

/** Reads until the stream ends (the gateway ended it, or its connection broke). */
async function endOf(stream: SseReader): Promise<string | undefined> {
  let lastId: string | undefined;
  for (;;) {
    const event = await stream.next(STEP_MS).catch(() => undefined);
    if (event === undefined) return lastId;
    if (event.id !== undefined) lastId = event.id;
  }
}

/**
 * g1 holds the stream and delivered one event; `stop` takes g1 away; a prompts/list_changed is
 * raised through g2 while no gateway has the stream; the client resumes on g2. Then: the gap
 * event arrives, and a tools/list_changed raised after the resume arrives within LIVE_MS.
 */
async function takeover(
  stop: (g1: RunningGateway, stream: SseReader) => Promise<string | undefined>,
): Promise<void> {
  await using cluster = new InProcessCluster();
  const g1 = await cluster.gateway({
    gatewayDrainDelayMs: DRAIN_DELAY_MS,
    sseRetryMs: RETRY_MS,
  });
  const g2 = await cluster.gateway({ sseRetryMs: RETRY_MS });
  await cluster.worker();
  await Promise.all([workersReady(g1.url, 1), workersReady(g2.url, 1)]);

  const session = await LegacySession.open(g1.url);
  const onG2 = session.via(g2.url);
  const stream = await session.openGetStream();
  await triggerTools(onG2);
  const first = await stream.until<Loose>(isToolsChanged, STEP_MS);
  expect(first.id).toMatch(new RegExp(`^${g1.id}\\.[0-9a-f]+~0:\\d+$`));

  const lastId = (await stop(g1, stream)) ?? first.id!;
  // Raised while the stream is attached nowhere.
  await triggerPrompts(onG2);

  const resumed = await onG2.openGetStream({ 'last-event-id': lastId });
  try {
    await resumed.until<Loose>(isPromptsChanged, STEP_MS);
    const raisedAt = Date.now();
    await triggerTools(onG2);
    const live = await resumed.until<Loose>(isToolsChanged, STEP_MS);
    expect(Date.now() - raisedAt).toBeLessThan(LIVE_MS);
    // Served by g2's own stream from now on.
    expect(live.id).toMatch(new RegExp(`^${g2.id}\\.[0-9a-f]+~0:\\d+$`));
  } finally {
    await resumed.cancel();
    await onG2.close();
  }
}

describe('standalone stream takeover', () => {
  it('after a drain: the gap event and live events arrive on the gateway resumed on', async () => {
    await takeover(async (g1, stream) => {
      await g1.close();
      // The drain ended the stream with `retry:` and its last id.
      return endOf(stream);
    });
  });

  it('after the gateway vanished without a drain (no farewell, no end marker)', async () => {
    await takeover(async (g1, stream) => {
      // What a SIGKILL does to its clients: every connection cut, nothing written first.
      g1.app.server.close();
      g1.app.server.closeAllConnections();
      return endOf(stream);
    });
  });
});

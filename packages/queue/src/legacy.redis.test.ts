/**
 * The 2025-11-25 task methods on the durable host: the shared suite of the in-memory host
 * (packages/server/src/tasks/legacy-contract.test-support.ts), with tasks started on node A
 * and the methods served by node B, as local runs and as durable jobs; then what only a
 * cluster has (a tasks/result node dying with an input on its stream).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '@mcp-cluster/protocol';
import { fakeCtx, text } from '@mcp-cluster/server/test-support/tasks/fakes';
import {
  legacySessionTests,
  legacyTaskMethodTests,
} from '@mcp-cluster/server/test-support/tasks/legacy-contract';
import type { LegacyHarnessFactory } from '@mcp-cluster/server/test-support/tasks/legacy-contract';
import { purge, startNode, testPrefix, twoNodeHarness, until } from './durable.test-support.js';
import type { Mode, Node } from './durable.test-support.js';
import type { DurableTaskHostOptions } from './options.js';

let prefix: string;
let a: Node | undefined;
let b: Node | undefined;

async function nodes(over: Partial<DurableTaskHostOptions> = {}): Promise<[Node, Node]> {
  prefix = testPrefix();
  const pair = await Promise.all([startNode(prefix, 'A', over), startNode(prefix, 'B', over)]);
  [a, b] = pair;
  return pair;
}

beforeEach(() => {
  a = b = undefined;
});

afterEach(async () => {
  await Promise.all([a?.host.close(), b?.host.close()]);
  await purge(prefix);
});

const legacy = (sessionId = 's1', over: Parameters<typeof fakeCtx>[0] = {}) =>
  fakeCtx({ era: 'legacy', sessionId, ...over });

function make(mode: Mode): LegacyHarnessFactory {
  return async (over = {}) => {
    const [na, nb] = await nodes(over);
    return twoNodeHarness(na, nb, mode);
  };
}

describe.each<Mode>(['local', 'job'])('2025-11-25 task methods over Redis (%s runs)', (mode) => {
  legacyTaskMethodTests(make(mode));
});

describe('2025-11-25 task methods over Redis: lists, versions, owners', () => {
  legacySessionTests(make('local'));
});

describe('2025-11-25 task methods over Redis: a node dies', () => {
  it('an input sent on the stream of a node that died is sent again by the next tasks/result', async () => {
    const [na, nb] = await nodes();
    const ctx = legacy();
    const { task } = await na.host.start(
      async (port) => {
        const answers = await port.input({ r: { method: 'roots/list' } });
        return text(JSON.stringify(answers.r));
      },
      ctx,
      {},
    );
    const taskId = (task as JsonObject).taskId as string;
    let sentOnB = 0;
    const onB = legacy('s1', {
      request: () => {
        sentOnB++;
        return new Promise<JsonObject>(() => {});
      },
    });
    void nb.host.handle('tasks/result', { taskId }, onB).catch(() => undefined);
    await until(() => sentOnB === 1, 'sent on B');
    await nb.host.kill();
    b = undefined;

    let sentOnA = 0;
    const onA = legacy('s1', {
      request: () => {
        sentOnA++;
        return Promise.resolve({ roots: [{ uri: 'file:///a' }] });
      },
    });
    // B's claim lapses (it no longer refreshes it); A's call then sends the request itself.
    const result = await na.host.handle('tasks/result', { taskId }, onA);
    expect(result.content).toEqual(text('{"roots":[{"uri":"file:///a"}]}').content);
    expect([sentOnB, sentOnA]).toEqual([1, 1]);
  });
});

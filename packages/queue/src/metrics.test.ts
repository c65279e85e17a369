/**
 * TaskMetrics without Redis: it exists only for enabled metrics, and a queue that does not
 * answer (slow or unreachable Redis) leaves the depth out of a scrape instead of hanging it.
 */
import { describe, expect, it } from 'vitest';
import { METRICS, PrometheusMetrics, noopMetrics } from '@mcp-cluster/observability';
import { sampleSum, samples } from '@mcp-cluster/test-support';
import { TaskMetrics } from './metrics.js';
import type { TaskMetricSources } from './metrics.js';

const DEPTH = METRICS.taskQueueDepth.name;
const RUNNING = METRICS.tasksRunning.name;

function enabled(): { prom: PrometheusMetrics; tm: TaskMetrics } {
  const prom = new PrometheusMetrics({ nodeDefaults: false });
  const tm = TaskMetrics.of(prom);
  if (tm === undefined) throw new Error('enabled metrics gave no TaskMetrics');
  return { prom, tm };
}

describe('TaskMetrics', () => {
  it('is undefined without metrics or with noop metrics (nothing recorded on hot paths)', () => {
    expect(TaskMetrics.of(undefined)).toBeUndefined();
    expect(TaskMetrics.of(noopMetrics)).toBeUndefined();
  });

  it('reports every state the queue counted, and 0 for a state it left out', async () => {
    const { prom, tm } = enabled();
    tm.collect({
      running: () => 3,
      depth: () => Promise.resolve({ waiting: 4, active: 2 }),
    });
    const text = await prom.text();
    expect(sampleSum(text, RUNNING)).toBe(3);
    expect(sampleSum(text, DEPTH, { state: 'waiting' })).toBe(4);
    expect(sampleSum(text, DEPTH, { state: 'active' })).toBe(2);
    expect(sampleSum(text, DEPTH, { state: 'delayed' })).toBe(0);
    expect(samples(text, DEPTH)).toHaveLength(5);
  });

  it('leaves the depth out when the queue does not answer in time, and asks only once meanwhile', async () => {
    const { prom, tm } = enabled();
    let asked = 0;
    const stuck: TaskMetricSources = {
      running: () => 1,
      depth: () => {
        asked++;
        return new Promise(() => {});
      },
    };
    tm.collect(stuck, 50);
    const first = await prom.text();
    expect(samples(first, DEPTH)).toEqual([]);
    expect(sampleSum(first, RUNNING)).toBe(1);
    await prom.text();
    expect(asked).toBe(1);
  });

  it('leaves the depth out when counting fails, and asks again at the next scrape', async () => {
    const { prom, tm } = enabled();
    let asked = 0;
    tm.collect({
      running: () => 0,
      depth: () => {
        asked++;
        return asked === 1
          ? Promise.reject(new Error('redis down'))
          : Promise.resolve({ waiting: 1 });
      },
    });
    expect(samples(await prom.text(), DEPTH)).toEqual([]);
    expect(sampleSum(await prom.text(), DEPTH, { state: 'waiting' })).toBe(1);
    expect(asked).toBe(2);
  });

  it('counts finished runs by status and takeovers', async () => {
    const { prom, tm } = enabled();
    tm.finished('completed');
    tm.finished('failed');
    tm.finished('failed');
    tm.takeover();
    const text = await prom.text();
    expect(sampleSum(text, METRICS.tasksFinished.name, { status: 'completed' })).toBe(1);
    expect(sampleSum(text, METRICS.tasksFinished.name, { status: 'failed' })).toBe(2);
    expect(sampleSum(text, METRICS.taskTakeovers.name)).toBe(1);
  });
});

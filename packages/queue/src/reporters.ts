/**
 * 2025-11-25 `notifications/tasks/status`: sent on the creating request's outbound, which
 * only the creating node holds. Status changes made anywhere reach it over the events
 * channel, in the order they happened (scripts publish from inside Redis).
 */
import type { Outbound } from '@mcp-cluster/server';
import { isTerminal, legacyTask } from '@mcp-cluster/server';
import type { TaskEvent } from './record.js';
import type { TaskStore } from './store.js';

interface Reporter {
  readonly outbound: Outbound;
  readonly createdAt: string;
  readonly ttlMs: number;
}

export class StatusReporters {
  private readonly byTask = new Map<string, Reporter>();

  constructor(private readonly pollIntervalMs: number) {}

  add(taskId: string, reporter: Reporter): void {
    this.byTask.set(taskId, reporter);
  }

  delete(taskId: string): void {
    this.byTask.delete(taskId);
  }

  clear(): void {
    this.byTask.clear();
  }

  /** Best effort: the creating request's stream may be gone, which is not the task's failure. */
  report(e: TaskEvent): void {
    const r = this.byTask.get(e.id);
    if (r === undefined || !e.transition) return;
    if (isTerminal(e.status)) this.byTask.delete(e.id);
    const view = {
      id: e.id,
      status: e.status,
      createdAt: r.createdAt,
      lastUpdatedAt: e.lastUpdatedAt,
      ttlMs: r.ttlMs,
      statusMessage: e.statusMessage,
    };
    try {
      r.outbound.notify({
        jsonrpc: '2.0',
        method: 'notifications/tasks/status',
        params: legacyTask(view, this.pollIntervalMs),
      });
    } catch {
      this.byTask.delete(e.id);
    }
  }

  /** Forgets tasks whose record is gone (expired without a final event reaching us). */
  async sweep(store: TaskStore): Promise<void> {
    for (const id of [...this.byTask.keys()]) {
      if (!(await store.exists(id))) this.byTask.delete(id);
    }
  }
}

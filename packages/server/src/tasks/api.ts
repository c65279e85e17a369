/**
 * The contract between the engine and task support (2025-11-25 experimental task methods
 * and the 2026-07-28 `io.modelcontextprotocol/tasks` extension). The in-memory host
 * (memory.ts) and the durable host (@mcp-cluster/queue) implement it; both serve the task
 * methods through methods.ts.
 */
import type { CallToolResult, InputRequest, JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';

/** What a running task's tool handler can do besides computing: be cancelled, ask for input. */
export interface TaskPort {
  readonly taskId: string;
  readonly signal: AbortSignal;
  /** Parks the task in `input_required` until `tasks/update` answers every key. */
  input<K extends string>(
    requests: Readonly<Record<K, InputRequest>>,
  ): Promise<Record<K, JsonObject>>;
}

/**
 * Runs the tool inside a task. Resolve with the tool result (even `isError: true`: that is a
 * `completed` task); reject with a ProtocolError for a `failed` task (its code and message).
 */
export type TaskRun = (port: TaskPort) => Promise<CallToolResult>;

/**
 * What a durable host needs to run a task again on another node after a crash: the tool and
 * its validated arguments. `resumable` is false for tools with a `prepare` step (its value
 * lives only in the creating process), which a durable host must not re-run elsewhere.
 */
export interface TaskJob {
  readonly tool: string;
  readonly arguments: JsonObject;
  readonly resumable: boolean;
}

export interface TaskHost {
  /** True for the task methods this host serves in the given era. */
  handles(method: string, ctx: RequestContext): boolean;
  /** Serves tasks/get, tasks/update, tasks/cancel (+ tasks/result, tasks/list in 2025-11-25). */
  handle(method: string, params: JsonObject, ctx: RequestContext): Promise<JsonObject>;
  /**
   * Creates a task running `run` and returns the era's CreateTaskResult once the task is
   * readable by tasks/get (modern: flat `{resultType:'task', taskId, status, ...}`;
   * 2025-11-25: `{task: {...}}`).
   */
  start(
    run: TaskRun,
    ctx: RequestContext,
    options: { readonly ttlMs?: number; readonly job?: TaskJob },
  ): Promise<JsonObject>;
  close(): Promise<void>;
}

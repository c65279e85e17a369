/** The worker process: packs -> engine -> dispatch endpoint. (Being built.) */
import type { Config } from '@mcp-cluster/config';

export interface RunningWorker {
  readonly id: string;
  /** Dispatch base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** Drains: stops taking work, finishes in-flight up to config.drainMs, unregisters. */
  close(): Promise<void>;
}

export function startWorker(_config: Config): Promise<RunningWorker> {
  return Promise.reject(new Error('worker: not built yet'));
}

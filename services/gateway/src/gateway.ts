/** The gateway process: transports -> router -> workers. (Being built.) */
import type { Config } from '@mcp-cluster/config';

export interface RunningGateway {
  readonly id: string;
  /** Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  readonly url: string;
  close(): Promise<void>;
}

export function startGateway(_config: Config): Promise<RunningGateway> {
  return Promise.reject(new Error('gateway: not built yet'));
}

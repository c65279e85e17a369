/** Programmatic API of the CLI, for tests and the benchmark. */
import { resolveConfig } from '@mcp-cluster/config';
import type { ConfigInput } from '@mcp-cluster/config';
import type { Engine } from '@mcp-cluster/server';
import { startNode } from './server.js';

export interface EmbeddedNode extends AsyncDisposable {
  /** The Streamable HTTP endpoint, e.g. http://127.0.0.1:54321/mcp. */
  readonly url: string;
  readonly engine: Engine;
  close(): Promise<void>;
}

/**
 * Starts an embedded node in this process. Unlike the CLI, `port` defaults to 0 (OS-chosen)
 * and `logLevel` to `silent`. Throws ConfigError for invalid settings.
 */
export async function startEmbedded(config: Partial<ConfigInput> = {}): Promise<EmbeddedNode> {
  const node = await startNode(resolveConfig({ port: 0, logLevel: 'silent', ...config }));
  const close = (): Promise<void> => node.close();
  return { url: node.url, engine: node.engine, close, [Symbol.asyncDispose]: close };
}

export { buildApp } from './app.js';
export { createNodeEngine } from './engine.js';
export type { RunningNode } from './server.js';
export { startNode, urlOf } from './server.js';

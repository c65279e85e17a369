/**
 * The embedded server for tests: in-process (`startTestServer`, wraps the CLI's
 * `startEmbedded`) or as the real CLI process over stdio (`cliStdioParams`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbedded } from '@mcp-cluster/cli';

type EmbeddedConfig = NonNullable<Parameters<typeof startEmbedded>[0]>;
type Embedded = Awaited<ReturnType<typeof startEmbedded>>;

export const REPO_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);
export const CLI_MAIN = path.join(REPO_ROOT, 'services', 'cli', 'src', 'main.ts');

export interface TestServer extends AsyncDisposable {
  /** Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** ws://127.0.0.1:PORT/ws */
  readonly wsUrl: string;
  /** Legacy HTTP+SSE (2024-11-05) endpoint: http://127.0.0.1:PORT/sse */
  readonly sseUrl: string;
  readonly engine: Embedded['engine'];
  close(): Promise<void>;
}

/**
 * Starts the embedded node on 127.0.0.1, an OS-chosen port, the conformance fixture pack and
 * silent logs, unless `overrides` say otherwise. Use with `await using`.
 */
export async function startTestServer(
  overrides: Partial<EmbeddedConfig> = {},
): Promise<TestServer> {
  const config = {
    host: '127.0.0.1',
    port: 0,
    packs: ['builtin:conformance'],
    logLevel: 'silent',
    ...overrides,
  } as EmbeddedConfig;
  const embedded = await startEmbedded(config);
  const url = new URL(embedded.url);
  const origin = url.origin;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= embedded.close());
  return {
    url: embedded.url,
    origin,
    wsUrl: `ws://${url.host}/ws`,
    sseUrl: `${origin}/sse`,
    engine: embedded.engine,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `command`/`args` that run the CLI's stdio mode (for the SDK's StdioClientTransport). */
export function cliStdioParams(packs: readonly string[] = ['builtin:conformance']): {
  command: string;
  args: string[];
  cwd: string;
} {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', CLI_MAIN, 'stdio', ...packs.flatMap((p) => ['--pack', p])],
    cwd: REPO_ROOT,
  };
}

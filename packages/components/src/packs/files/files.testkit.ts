/**
 * Shared by the files pack tests: temp trees, modern and legacy clients, waiting on change
 * events.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JsonObject, JsonRpcResponse } from '@mcp-cluster/protocol';
import type { ChangeEvent, LocalEngine, MessageEngine, Principal } from '@mcp-cluster/server';
import { ANONYMOUS, legacyRequestContext } from '@mcp-cluster/server';
import { modernClient } from '../../test-helpers.js';

/** A temp directory removed by `await using`. */
export async function tempDir(): Promise<AsyncDisposable & { readonly dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'files-pack-'));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `files` (relative path → contents) under `dir`, creating folders. */
export async function plant(
  dir: string,
  files: Readonly<Record<string, string | Uint8Array>>,
): Promise<void> {
  for (const [relative, contents] of Object.entries(files)) {
    const absolute = path.join(dir, relative);
    await mkdir(path.dirname(absolute), { recursive: true });
    await writeFile(absolute, contents);
  }
}

/** A modern (2026-07-28) client of `engine` acting as `principal`. */
export function client(engine: MessageEngine, principal: Principal = ANONYMOUS) {
  return modernClient(engine, { principal });
}

/** A legacy (2025-11-25) client of `engine` with an initialized session. */
export async function legacyClient(engine: LocalEngine) {
  const session = engine.sessions.create();
  let id = 0;
  const request = (method: string, params: JsonObject = {}): Promise<JsonRpcResponse> => {
    id += 1;
    const outbound = session.outbound(() => undefined);
    const ctx = legacyRequestContext(session, id, new AbortController().signal, outbound);
    return engine.handleRequest({ jsonrpc: '2.0', id, method, params }, ctx);
  };
  await request('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 't', version: '1' },
  });
  return { request, session };
}

export function resultOf(res: JsonRpcResponse): JsonObject {
  if (!('result' in res)) throw new Error(`expected a result, got ${JSON.stringify(res)}`);
  return res.result;
}

export function errorOf(res: JsonRpcResponse): { code: number; message: string; data?: unknown } {
  if (!('error' in res)) throw new Error(`expected an error, got ${JSON.stringify(res)}`);
  return res.error;
}

/**
 * Records change events and waits for them: `next(match)` resolves with the first recorded
 * event (from the start of the recording) that matches and was not taken yet, or rejects
 * after `timeoutMs`.
 */
export class EventLog {
  readonly events: ChangeEvent[] = [];
  private taken = new Set<number>();
  private waiters: (() => void)[] = [];

  readonly push = (event: ChangeEvent): void => {
    this.events.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  };

  async next(match: (e: ChangeEvent) => boolean, timeoutMs = 5_000): Promise<ChangeEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e, n) => !this.taken.has(n) && match(e));
      if (i >= 0) {
        this.taken.add(i);
        return this.events[i] as ChangeEvent;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching change event in ${timeoutMs} ms: ${JSON.stringify(this.events)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  count(match: (e: ChangeEvent) => boolean): number {
    return this.events.filter(match).length;
  }
}

export const updated =
  (uri: string) =>
  (e: ChangeEvent): boolean =>
    e.type === 'resources/updated' && e.uri === uri;

export const listChanged = (e: ChangeEvent): boolean => e.type === 'resources/list_changed';

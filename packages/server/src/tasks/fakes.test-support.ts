/** Test support for the task tests: fake request contexts, a manual clock, deferreds. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { Extension, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, JsonObject, JsonRpcNotification } from '@mcp-cluster/protocol';
import { ANONYMOUS } from '../context.js';
import type { Outbound, Principal, RequestContext } from '../context.js';
import { readSchemaFile } from '@mcp-cluster/test-support';
import type { SchemaRevision } from '@mcp-cluster/test-support';

export const TASKS_EXT = { extensions: { [Extension.Tasks]: {} } };

export interface FakeContext extends RequestContext {
  readonly notifications: JsonRpcNotification[];
  readonly abort: () => void;
}

export function fakeCtx(
  over: {
    era?: 'modern' | 'legacy';
    protocolVersion?: string;
    capabilities?: JsonObject;
    principal?: Principal;
    sessionId?: string;
    request?: Outbound['request'];
  } = {},
): FakeContext {
  const era = over.era ?? 'modern';
  const controller = new AbortController();
  const notifications: JsonRpcNotification[] = [];
  const outbound: Outbound = {
    notify: (n) => void notifications.push(n),
    request:
      over.request ?? (() => Promise.reject(new Error('no server->client requests in this test'))),
  };
  const ctx: FakeContext = {
    era,
    protocolVersion: over.protocolVersion ?? (era === 'modern' ? '2026-07-28' : '2025-11-25'),
    requestId: 1,
    clientCapabilities: over.capabilities ?? (era === 'modern' ? TASKS_EXT : {}),
    principal: over.principal ?? ANONYMOUS,
    signal: controller.signal,
    outbound,
    notifications,
    abort: () => controller.abort(),
  };
  if (over.sessionId !== undefined) return { ...ctx, sessionId: over.sessionId };
  return ctx;
}

export function user(id: string): Principal {
  return { id, kind: 'user', roles: [] };
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask (a background task's settlement) run: one macrotask turn. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualClock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const compilers = new Map<string, Ajv2020>();

/** A validator for one `$defs` entry of a revision's official schema. */
export function schemaDef(revision: SchemaRevision, def: string): ValidateFunction {
  let ajv = compilers.get(revision);
  if (ajv === undefined) {
    const schema = readSchemaFile(revision);
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...schema, $id: `mcp-${revision}` });
    compilers.set(revision, ajv);
  }
  const v = ajv.getSchema(`mcp-${revision}#/$defs/${def}`);
  if (v === undefined) throw new Error(`no ${def} in ${revision}`);
  return v;
}

/** A one-text-block tool result. */
export const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/** Awaits a rejection and returns it, failing the test unless it is a ProtocolError. */
export async function rpcError(p: Promise<unknown>): Promise<ProtocolError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

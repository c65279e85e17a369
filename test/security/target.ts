/**
 * What every part of the attack suite attacks (`AttackTarget`: the embedded node, or a
 * cluster of two gateways) and the checks they share: a refusal's exact status and code, and
 * that an attack changed nothing.
 */
import { expect } from 'vitest';
import type { ApiKeyStore } from '@mcp-cluster/security';
import { rpcError } from './support.js';
import type { RawResponse, SuiteKeys } from './support.js';

export interface AttackTarget {
  /** Two MCP endpoints: the cluster's two gateways, or the embedded node's one twice. */
  readonly urls: readonly [string, string];
  readonly keys: SuiteKeys;
  /** Lines the fixture tools wrote (one per run). */
  sideEffects(): string[];
  /** Legacy sessions stored (engine table, or Redis records). */
  storedSessions(): Promise<number>;
  /** The deployment's API key store (file or Redis), as the CLI would open it. */
  readonly apiKeys: ApiKeyStore;
  /** The audit lines every process of the deployment wrote so far, parsed. */
  audit(): Record<string, unknown>[];
  /** The cluster's gateway->worker dispatch wire (the embedded node has none). */
  readonly dispatch?: DispatchWire;
}

/** What a part needs to attack a worker directly, the way a captured dispatch would. */
export interface DispatchWire {
  /** The worker's dispatch base URL (POST `${workerUrl}/dispatch`). */
  readonly workerUrl: string;
  /** The secret the gateways sign dispatches with (MCP_DISPATCH_SECRETS). */
  readonly secret: string;
  /** The workers' MCP_DISPATCH_SIGNATURE_VALIDITY_MS and MCP_DISPATCH_CLOCK_SKEW_MS. */
  readonly validityMs: number;
  readonly clockSkewMs: number;
  /** What the worker wrote to stderr so far (the tail). */
  workerLog(): string;
}

export const UNAUTHORIZED = -32013;
export const FORBIDDEN = -32014;
export const RATE_LIMITED = -32012;
export const INVALID_PARAMS = -32602;
export const INVALID_REQUEST = -32600;

/** Runs `attack` and checks that it changed nothing: no tool ran, no session was stored. */
export async function withoutSideEffects<T>(t: AttackTarget, attack: () => Promise<T>): Promise<T> {
  const effects = t.sideEffects().length;
  const sessions = await t.storedSessions();
  const result = await attack();
  expect(t.sideEffects().length).toBe(effects);
  expect(await t.storedSessions()).toBe(sessions);
  return result;
}

export function expectRefused(r: RawResponse, status: number, code: number): void {
  expect({ status: r.status, code: rpcError(r)?.code }).toEqual({ status, code });
  // Refusals never leak internals.
  expect(r.text).not.toMatch(/at .+\.(ts|js):\d+|node_modules|\/work\//);
}

/**
 * A part of the suite in a file of its own: registers its `it`s inside the suite's describe;
 * `target()` is the deployment under attack (set once the suite's beforeAll ran).
 */
export type AttackPart = (target: () => AttackTarget) => void;

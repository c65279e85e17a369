/** Capabilities, legacy initialize / ping / logging/setLevel, and modern server/discover. */
import {
  Extension,
  MODERN_VERSIONS,
  MetaKey,
  ProtocolError,
  isLoggingLevel,
  negotiateLegacyVersion,
} from '@mcp-cluster/protocol';
import type { Implementation, JsonObject, ServerCapabilities } from '@mcp-cluster/protocol';
import type { ComponentPack } from './components.js';
import { sessionOf } from './core.js';
import type { MethodHandler } from './core.js';
import { isJsonObject } from './mrtr.js';

/** The three capability sets the engine declares, computed once. */
export interface DeclaredCapabilities {
  /** Legacy revisions before 2025-11-25 (and 2025-11-25 without a task host). */
  readonly legacy: ServerCapabilities;
  /** Legacy 2025-11-25 with a task host: adds the experimental `tasks` capability. */
  readonly legacyTasks: ServerCapabilities;
  readonly modern: ServerCapabilities;
}

export function declareCapabilities(
  packs: readonly ComponentPack[],
  withTasks: boolean,
): DeclaredCapabilities {
  const base: JsonObject = {
    tools: { listChanged: true },
    resources: { subscribe: true, listChanged: true },
    prompts: { listChanged: true },
    completions: {},
  };
  for (const pack of packs) if (pack.capabilities !== undefined) merge(base, pack.capabilities);
  const { logging: _l, tasks: _t, extensions, ...rest } = base;
  // Extensions are a 2026-07-28 notion; legacy revisions declare `experimental` instead.
  const legacy = { ...rest, logging: {} };
  const legacyTasks = withTasks
    ? { ...legacy, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }
    : legacy;
  const modernExtensions = {
    ...(isJsonObject(extensions) ? extensions : {}),
    ...(withTasks ? { [Extension.Tasks]: {} } : {}),
  };
  const modern =
    Object.keys(modernExtensions).length > 0 ? { ...rest, extensions: modernExtensions } : rest;
  return deepFreeze({ legacy, legacyTasks, modern });
}

function merge(into: JsonObject, from: JsonObject): void {
  for (const [key, value] of Object.entries(from)) {
    const current = into[key];
    // Cloned: the declared capabilities are frozen and must not freeze the pack's objects.
    const copy: unknown = structuredClone(value);
    into[key] = isJsonObject(current) && isJsonObject(copy) ? { ...current, ...copy } : copy;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface LifecycleInfo {
  readonly capabilities: DeclaredCapabilities;
  readonly serverInfo: Implementation;
  readonly instructions: string | undefined;
  readonly withTasks: boolean;
}

export function initializeHandler(info: LifecycleInfo): MethodHandler {
  return (core, params, ctx) => {
    const session = sessionOf(core, ctx);
    if (session?.initializeDone === true) {
      throw ProtocolError.of('InvalidRequest', 'Session already initialized');
    }
    const capabilities = params['capabilities'];
    const clientInfo = params['clientInfo'];
    if (!isJsonObject(capabilities)) {
      throw ProtocolError.of('InvalidParams', 'initialize: params.capabilities must be an object');
    }
    const protocolVersion = negotiateLegacyVersion(params['protocolVersion']);
    if (session !== undefined) {
      const state = session.state;
      state.protocolVersion = protocolVersion;
      state.clientCapabilities = capabilities;
      if (isJsonObject(clientInfo)) state.clientInfo = clientInfo as unknown as Implementation;
      session.initializeDone = true;
    }
    const result: JsonObject = {
      protocolVersion,
      capabilities:
        info.withTasks && protocolVersion === '2025-11-25'
          ? info.capabilities.legacyTasks
          : info.capabilities.legacy,
      serverInfo: info.serverInfo,
    };
    if (info.instructions !== undefined) result['instructions'] = info.instructions;
    return result;
  };
}

/** `ping` and friends answer exactly `{}` (the suite rejects any extra key, `_meta` included). */
export const ping: MethodHandler = () => ({});

export const setLevel: MethodHandler = (core, params, ctx) => {
  const level = params['level'];
  if (!isLoggingLevel(level)) {
    throw ProtocolError.of('InvalidParams', 'logging/setLevel: params.level is not a log level');
  }
  const session = sessionOf(core, ctx);
  if (session !== undefined) session.state.logLevel = level;
  return {};
};

export function discoverHandler(info: LifecycleInfo, ttlMs: number): MethodHandler {
  const result: JsonObject = {
    resultType: 'complete',
    supportedVersions: [...MODERN_VERSIONS],
    capabilities: info.capabilities.modern,
    ttlMs,
    cacheScope: 'public',
    _meta: { [MetaKey.ServerInfo]: info.serverInfo },
  };
  if (info.instructions !== undefined) result['instructions'] = info.instructions;
  Object.freeze(result);
  return () => result;
}

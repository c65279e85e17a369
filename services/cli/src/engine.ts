/** Builds the embedded node's engine from the configuration (packs, keys, limits). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processLogger } from '@mcp-cluster/config';
import type { Config, ProcessLogger } from '@mcp-cluster/config';
import { loadPacks, packModulePath } from '@mcp-cluster/components';
import { createEngine, engineLogHooks } from '@mcp-cluster/server';
import type { Engine } from '@mcp-cluster/server';

/**
 * The engine logs to `log`: a handler that throws (anything but a ToolError) at error level
 * with its stack, component, method and request id; each request as one debug line.
 */
export async function createNodeEngine(
  config: Config,
  log: ProcessLogger = processLogger(config.logLevel),
): Promise<Engine> {
  const packs = await loadPacks(config.packs);
  // Imported only when configured: undici and opossum stay out of a node that does not sample.
  const sampler =
    config.sampling === undefined
      ? undefined
      : (await import('@mcp-cluster/sampling')).createSamplingService(config.sampling, { log });
  return createEngine({
    serverInfo: { name: config.serverName, version: config.serverVersion },
    packs,
    stateKeys: config.stateKeys,
    sessionIdleMs: config.sessionIdleMs,
    maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
    maxSessions: config.maxSessions,
    ...(sampler !== undefined && { sampler }),
    ...engineLogHooks(log),
  });
}

/** A pack reference that certainly needs no TypeScript loader: a built-in or an existing JS file. */
function isJavaScriptPack(ref: string, cwd: string): boolean {
  if (ref.startsWith('builtin:')) return true;
  // Any URL but file: (data:, ...): its contents are unknown here.
  const file = ref.startsWith('file:') ? fileURLToPath(ref) : packModulePath(ref, cwd);
  if (file === undefined) return false;
  // A missing file keeps tsx: loadPacks then names the missing file, as before.
  return /\.[cm]?js$/.test(file) && existsSync(file);
}

/**
 * Registers tsx (TypeScript packs) unless every pack is a built-in or an existing
 * .js/.mjs/.cjs file, so a JavaScript-only process does without its loader thread, esbuild
 * and source maps (tens of MB and hundreds of ms). `packs` are the configuration's, from
 * `--pack`, MCP_PACKS and the config file alike, resolved as loadPacks resolves them. Nothing
 * to do when this module itself runs as TypeScript: a loader is active already (the CLI from
 * the repository's sources, tests). Returns whether it registered tsx.
 */
export async function supportTypeScriptPacks(
  packs: readonly string[],
  cwd: string = process.cwd(),
): Promise<boolean> {
  if (import.meta.url.endsWith('.ts')) return false;
  if (packs.every((ref) => isJavaScriptPack(ref, cwd))) return false;
  const { register } = await import('tsx/esm/api');
  register();
  return true;
}

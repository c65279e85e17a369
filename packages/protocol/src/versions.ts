/** Protocol revisions this server speaks, newest first within each era. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const MODERN_VERSIONS = ['2026-07-28'] as const;

export type LegacyVersion = (typeof LEGACY_VERSIONS)[number];
export type ModernVersion = (typeof MODERN_VERSIONS)[number];
export type ProtocolVersion = LegacyVersion | ModernVersion;

export const LATEST_LEGACY_VERSION: LegacyVersion = LEGACY_VERSIONS[0];
export const LATEST_MODERN_VERSION: ModernVersion = MODERN_VERSIONS[0];
/** Assumed for a legacy HTTP request that carries no MCP-Protocol-Version header. */
export const DEFAULT_HTTP_LEGACY_VERSION: LegacyVersion = '2025-03-26';

export function isLegacyVersion(v: unknown): v is LegacyVersion {
  return typeof v === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(v);
}

export function isModernVersion(v: unknown): v is ModernVersion {
  return typeof v === 'string' && (MODERN_VERSIONS as readonly string[]).includes(v);
}

/** Legacy `initialize`: echo the client's version when supported, else offer the newest. */
export function negotiateLegacyVersion(requested: unknown): LegacyVersion {
  return isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
}

/** JSON-RPC batches are part of 2025-03-26 only. */
export function allowsBatch(version: string): boolean {
  return version === '2025-03-26';
}

/** Paths of the fixture packs, for a worker's `packs` setting. */
import { fileURLToPath } from 'node:url';

/** Owns ALPHA_TOOL only: a worker loading it (and no other) serves alpha calls. */
export const ALPHA_PACK = fileURLToPath(new URL('./alpha-pack.ts', import.meta.url));
/** Owns BETA_TOOL only. */
export const BETA_PACK = fileURLToPath(new URL('./beta-pack.ts', import.meta.url));
/** Owns READ_TOOL (annotated read-only) and WRITE_TOOL (not annotated). */
export const WRITES_PACK = fileURLToPath(new URL('./writes-pack.ts', import.meta.url));

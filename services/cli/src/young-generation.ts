/**
 * The V8 young generation while a process starts. Startup loads a few hundred modules and
 * builds the schemas and routes of the node, nearly all of which survive; V8 reads that as a
 * busy young generation and doubles it up to its maximum (16 MB on 64-bit Node 20), which an
 * idle server then keeps resident. The launcher (bin/mcp-cluster.js) holds its growth before
 * the CLI's modules load, and each command releases it once it serves (main.ts), so traffic
 * grows it as V8 always does: the difference is ~10 MB less RSS for an idle node, not
 * throughput under load.
 *
 * It takes effect on Node 20's V8. A V8 that enforces a growth factor of at least 2 (newer
 * ones) ignores the hold, and the process behaves as without it. A user's own semi-space
 * flags (execArgv or NODE_OPTIONS) turn it off.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor` (flag-definitions.h), restored by the release. */
const V8_GROWTH_FACTOR = 2;

let held = false;

/** Whether the process was started with its own young-generation flags. */
function tunedByUser(): boolean {
  return [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((arg) =>
    /semi[-_]space/.test(arg),
  );
}

/** Keeps the young generation at its initial size until releaseYoungGeneration. */
export function holdYoungGeneration(): void {
  if (held || tunedByUser()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Lets the young generation grow with the load again; a no-op without a hold. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  held = false;
  setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
}

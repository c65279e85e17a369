/**
 * The memory step: RSS of a fresh server of ours, idle, then after opening N legacy
 * sessions (initialize only) and leaving them idle. Bounded: N requests, `concurrency` in
 * flight, loopback only.
 */
import { rssMiB, type TargetProcess } from './spawn.js';
import { openLegacySession } from './targets.js';

export interface MemoryFigures {
  readonly idleMiB: number;
  readonly afterMiB: number;
  readonly sessions: number;
  readonly openSeconds: number;
}

export async function measureSessionMemory(
  proc: TargetProcess,
  sessions: number,
  concurrency: number,
): Promise<MemoryFigures> {
  const idleMiB = rssMiB(proc.pid);
  const ids = new Set<string>();
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < sessions) {
      const n = next++;
      ids.add(await openLegacySession(proc.url, `init-${n}`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions) }, worker));
  const openSeconds = (performance.now() - started) / 1000;
  if (ids.size !== sessions) {
    throw new Error(`opened ${sessions} sessions but got ${ids.size} distinct ids`);
  }
  return { idleMiB, afterMiB: rssMiB(proc.pid), sessions, openSeconds };
}

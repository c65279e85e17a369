/** Reading the conformance suite's files and output (pure; unit-tested in test/integration). */
import { existsSync, readFileSync } from 'node:fs';

/** True when the expected-failures file lists at least one entry under `server:`. */
export function hasExpectedFailures(file: string): boolean {
  if (!existsSync(file)) return false;
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => /^\s*-\s*[^\s#]/.test(line) || /^\s*server:\s*\[\s*[^\]\s#]/.test(line));
}

/** `Total: N passed, M failed` (the suite's closing line; counts checks, not scenarios). */
export function parseTotal(output: string): { passed: number; failed: number } | null {
  const matches = [...output.matchAll(/Total:\s*(\d+)\s+passed,\s*(\d+)\s+failed/g)];
  const last = matches.at(-1);
  return last ? { passed: Number(last[1]), failed: Number(last[2]) } : null;
}

/** Scenario lines marked `✗ name: N passed, M failed`. */
export function parseFailingScenarios(output: string): string[] {
  return [...output.matchAll(/✗\s+([\w.:-]+):\s*\d+\s+passed,\s*\d+\s+failed/g)].map((m) => m[1]!);
}

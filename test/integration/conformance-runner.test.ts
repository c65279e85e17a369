/** The conformance runner's parsing of the suite's output and expected-failures files. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  hasExpectedFailures,
  parseFailingScenarios,
  parseTotal,
} from '@mcp-cluster/conformance-runner/results';

const OUTPUT = `
Running server conformance tests...
✓ server-initialize: 2 passed, 0 failed
✗ tools-call-with-progress: 1 passed, 2 failed
✓ ping: 1 passed, 0 failed
✗ sep-2640-skills-directory: 0 passed, 1 failed

Total: 4 passed, 3 failed
`;

describe('conformance output parsing', () => {
  it('reads the closing Total line (checks, not scenarios)', () => {
    expect(parseTotal(OUTPUT)).toEqual({ passed: 4, failed: 3 });
    expect(parseTotal('Passed: 3/3, 0 failed, 0 warnings')).toBeNull();
  });

  it('lists the failing scenarios', () => {
    expect(parseFailingScenarios(OUTPUT)).toEqual([
      'tools-call-with-progress',
      'sep-2640-skills-directory',
    ]);
  });
});

describe('expected-failures files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'expected-failures-'));
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('an empty list (or a missing file) has no entries', () => {
    expect(hasExpectedFailures(file('empty.yaml', '# rule\n# - commented: no\nserver: []\n'))).toBe(
      false,
    );
    expect(hasExpectedFailures(path.join(dir, 'missing.yaml'))).toBe(false);
  });

  it('block and flow lists with entries count', () => {
    expect(
      hasExpectedFailures(file('block.yaml', 'server:\n  - ping:ping # suite bug, see issue\n')),
    ).toBe(true);
    expect(hasExpectedFailures(file('flow.yaml', 'server: [ping]\n'))).toBe(true);
  });

  it('every committed entry gives its reason beside it (suite defects only)', () => {
    const here = path.dirname(new URL(import.meta.url).pathname);
    for (const run of ['stable', 'alpha', 'alpha-2026']) {
      const f = path.join(here, '..', 'conformance', `expected-failures-${run}.yaml`);
      const entries = readFileSync(f, 'utf8')
        .split('\n')
        .filter((line) => /^\s*-\s*[^\s#]/.test(line));
      for (const entry of entries) expect(entry, `${run}: ${entry}`).toMatch(/#\s*\S/);
    }
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REQUIREMENTS, verifies } from './requirements.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SEARCHED = ['packages', 'test'];
const SKIP = new Set(['node_modules', 'dist', '.git']);

function testFiles(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) testFiles(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** Ids claimed in test sources, mapped to the files claiming them. */
function claimedIds(): Map<string, string[]> {
  const self = fileURLToPath(import.meta.url);
  // Prettier may break a long call across lines, so allow whitespace after the paren.
  const claim = /verifies\(\s*'(R-[A-Za-z0-9-]+)'/g;
  const claimed = new Map<string, string[]>();
  for (const dir of SEARCHED) {
    for (const file of testFiles(path.join(ROOT, dir), [])) {
      if (file === self) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(claim)) {
        const id = m[1] ?? '';
        const files = claimed.get(id) ?? [];
        files.push(path.relative(ROOT, file));
        claimed.set(id, files);
      }
    }
  }
  return claimed;
}

describe('requirements table', () => {
  it('has unique ids, each with a spec section and a text', () => {
    const ids = REQUIREMENTS.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of REQUIREMENTS) {
      expect(r.id).toMatch(/^R-[A-Z0-9-]+$/);
      expect(r.spec.trim()).not.toBe('');
      expect(r.text.trim()).not.toBe('');
    }
  });

  it('verifies() prefixes the title with the bracketed id', () => {
    expect(verifies('R-PING-SETLEVEL-EMPTY', 'ping answers {}')).toBe(
      '[R-PING-SETLEVEL-EMPTY] ping answers {}',
    );
  });

  it('every requirement is claimed by at least one test', () => {
    const claimed = claimedIds();
    const untested = REQUIREMENTS.map((r) => r.id).filter((id) => !claimed.has(id));
    expect(untested, `requirements with no verifies() test: ${untested.join(', ')}`).toEqual([]);
  });

  it('every claimed id is in the table', () => {
    // tsc already rejects unknown ids; this also catches files tsc does not check.
    const known = new Set<string>(REQUIREMENTS.map((r) => r.id));
    const unknown = [...claimedIds().keys()].filter((id) => !known.has(id));
    expect(unknown).toEqual([]);
  });
});

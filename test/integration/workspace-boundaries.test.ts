/**
 * Workspace packages reach each other only by package name. No source or test file under
 * packages/, services/ or test/ imports a relative path that lands in another package's folder
 * (`../../testkit/src/x.js`, `../../packages/config/src/index.js`): such an import hides a
 * dependency from package.json, so the dependency graph below would not show it. And the
 * `@mcp-cluster/*` dependencies and devDependencies of the workspace packages form no cycle,
 * so a package's tests can depend on a test helper package only if that helper does not depend
 * on the package.
 *
 * A file belongs to the package of the nearest folder above it with a package.json (the root
 * for test/e2e, test/integration, test/security).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCANNED = ['packages', 'services', 'test'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const SCOPE = '@mcp-cluster/';

/** Relative specifiers of static/dynamic imports, re-exports and vi.mock-style calls. */
const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bvi\.(?:mock|doMock|importActual|importMock)\s*\(\s*)(['"])(\.{1,2}\/[^'"]*)\1/g;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : walk(full);
    return entry.isFile() && SOURCE.test(entry.name) ? [full] : [];
  });
}

/** The folder of the package a path belongs to: the nearest one up with a package.json. */
function packageRoot(file: string): string {
  let dir = path.dirname(file);
  while (dir !== ROOT && dir.startsWith(ROOT)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return ROOT;
}

/** The imports in `text` (of the file at `file`, relative to the root) that leave its package. */
function crossings(file: string, text: string): string[] {
  const abs = path.join(ROOT, file);
  const own = packageRoot(abs);
  const found: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[2] ?? '';
    const target = path.resolve(path.dirname(abs), spec);
    if (packageRoot(target) === own) continue;
    const line = text.slice(0, m.index).split('\n').length;
    found.push(`${file}:${line}: ${spec}`);
  }
  return found;
}

type Graph = ReadonlyMap<string, readonly string[]>;

/** The `@mcp-cluster/*` dependencies and devDependencies of every workspace package. */
function workspaceGraph(): Graph {
  const graph = new Map<string, string[]>();
  for (const group of SCANNED.concat('examples')) {
    for (const dir of readdirSync(path.join(ROOT, group))) {
      const file = path.join(ROOT, group, dir, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const deps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
      graph.set(
        manifest.name,
        deps.filter((d) => d.startsWith(SCOPE)),
      );
    }
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as `a -> b -> a`. */
function cycles(graph: Graph): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      found.push([...trail.slice(trail.indexOf(name)), name].join(' -> '));
      return;
    }
    state.set(name, 'open');
    for (const dep of graph.get(name) ?? []) visit(dep, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of graph.keys()) visit(name, []);
  return found;
}

describe('workspace packages reach each other by name', () => {
  it('recognizes an import that climbs into another package, and only those', () => {
    // Built from parts, so the check below does not find these samples in this file.
    const up = (n: number): string => '../'.repeat(n);
    const hits = (file: string, text: string): number => crossings(file, text).length;
    const server = 'packages/server/src/tasks/x.test.ts';
    expect(hits(server, `import { verifies } from '${up(3)}testkit/src/requirements.js';`)).toBe(1);
    expect(hits(server, `export { a } from '${up(3)}cluster/src/index.js';`)).toBe(1);
    expect(hits(server, `const m = await import('${up(3)}protocol/src/index.js');`)).toBe(1);
    expect(hits(server, `vi.mock('${up(3)}config/src/index.js');`)).toBe(1);
    expect(hits(server, `import '${up(3)}components/src/index.js';`)).toBe(1);
    expect(hits('test/e2e/x.test.ts', `from '${up(2)}packages/testkit/src/index.js'`)).toBe(1);
    expect(hits('test/e2e/x.test.ts', `from '${up(2)}services/cli/src/index.js'`)).toBe(1);
    expect(hits('test/integration/x.test.ts', `from '${up(1)}conformance/results.js'`)).toBe(1);
    // Inside the importing package, or by name:
    expect(hits(server, `import { a } from '${up(1)}engine.js';`)).toBe(0);
    expect(hits(server, `import { a } from './host-harness.test-support.js';`)).toBe(0);
    expect(hits(server, `import { a } from '@mcp-cluster/test-support';`)).toBe(0);
    expect(hits('test/e2e/x.test.ts', `from '${up(1)}security/support.js'`)).toBe(0);
    expect(hits('test/e2e/x.test.ts', `from './fixtures/e2e-pack.js'`)).toBe(0);
  });

  it('has no test or source file that imports another package by a relative path', () => {
    const files = SCANNED.flatMap((group) => walk(path.join(ROOT, group)));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((abs) =>
      crossings(path.relative(ROOT, abs), readFileSync(abs, 'utf8')),
    );
    expect(offenders, 'import these by package name (or a subpath export)').toEqual([]);
  });

  it('finds a dependency cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual(['a -> b -> c -> a']);
    expect(cycles(new Map([...graph, ['c', []]]))).toEqual([]);
  });

  it('has workspace dependencies (with devDependencies) that form no cycle', () => {
    const graph = workspaceGraph();
    expect(graph.has(`${SCOPE}test-support`)).toBe(true);
    expect(cycles(graph), 'dependency cycles between workspace packages').toEqual([]);
  });
});

/**
 * `mcp-cluster init` without building: the project it writes from a folder of tarballs, and
 * its refusals. The whole path (build, npm install, npm test, serve) is
 * test/integration/pack-project.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_PACK, InitError, PROJECT_TOOL_VERSIONS, initProject } from './init.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-init-'));
  temps.push(dir);
  return dir;
}

/** A folder of stand-in tarballs named as `pnpm build` names them. */
function tarballs(names: readonly string[]): string {
  const dir = temp();
  for (const name of names) writeFileSync(path.join(dir, `mcp-cluster-${name}-0.1.0.tgz`), name);
  return dir;
}

describe('mcp-cluster init', () => {
  it('writes a project that installs every @mcp-cluster package from vendor/', () => {
    const packages = tarballs(['cli', 'components', 'testing', 'server', 'protocol']);
    const cwd = temp();
    const next = initProject({ dir: 'My Tools', packages }, cwd);
    const project = path.join(cwd, 'My Tools');
    expect(next.join('\n')).toContain('cd "My Tools"');
    expect(readdirSync(path.join(project, 'vendor')).sort()).toEqual([
      'mcp-cluster-cli.tgz',
      'mcp-cluster-components.tgz',
      'mcp-cluster-protocol.tgz',
      'mcp-cluster-server.tgz',
      'mcp-cluster-testing.tgz',
    ]);
    expect(readFileSync(path.join(project, 'vendor', 'mcp-cluster-server.tgz'), 'utf8')).toBe(
      'server',
    );
    const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as {
      name: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      overrides: Record<string, string>;
    };
    expect(manifest.name).toBe('my-tools');
    expect(manifest.dependencies).toEqual({
      '@mcp-cluster/components': 'file:vendor/mcp-cluster-components.tgz',
    });
    expect(manifest.devDependencies).toMatchObject({
      '@mcp-cluster/cli': 'file:vendor/mcp-cluster-cli.tgz',
      '@mcp-cluster/testing': 'file:vendor/mcp-cluster-testing.tgz',
      ...PROJECT_TOOL_VERSIONS,
    });
    expect(Object.keys(manifest.overrides)).toEqual([
      '@mcp-cluster/cli',
      '@mcp-cluster/components',
      '@mcp-cluster/protocol',
      '@mcp-cluster/server',
      '@mcp-cluster/testing',
    ]);
    expect(readFileSync(path.join(project, 'src', 'pack.ts'), 'utf8')).toBe(EXAMPLE_PACK);
    expect(readFileSync(path.join(project, 'src', 'pack.test.ts'), 'utf8')).toContain(
      'packTransport(pack)',
    );
  });

  it('pins the tools as the repository does', () => {
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    for (const [name, range] of Object.entries(PROJECT_TOOL_VERSIONS)) {
      const pinned = root.devDependencies[name] ?? '';
      // Same major.minor.patch floor as the repository's range (the project may float).
      expect(pinned.replace(/^[\^~]/, ''), name).toBe(range.replace(/^[\^~]/, ''));
    }
  });

  it('refuses a folder that is not empty, and writes nothing', () => {
    const cwd = temp();
    mkdirSync(path.join(cwd, 'taken'));
    writeFileSync(path.join(cwd, 'taken', 'notes.txt'), 'mine');
    const packages = tarballs(['cli', 'components', 'testing']);
    expect(() => initProject({ dir: 'taken', packages }, cwd)).toThrow(
      new InitError(
        `${path.join(cwd, 'taken')} is not empty: init writes a new project into an empty folder`,
      ),
    );
    expect(readdirSync(path.join(cwd, 'taken'))).toEqual(['notes.txt']);
  });

  it('names the tarballs it lacks', () => {
    const cwd = temp();
    const packages = tarballs(['components']);
    expect(() => initProject({ dir: 'p', packages }, cwd)).toThrow(
      /lacks the tarballs of @mcp-cluster\/cli, @mcp-cluster\/testing \(run `pnpm build`/,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });
});

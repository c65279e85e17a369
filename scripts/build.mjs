#!/usr/bin/env node
/* global process, console */
/**
 * `pnpm build`: compiles every package with a tsconfig.build.json to JavaScript and type
 * declarations in its dist/ (tsc --build, incremental), then packs each one with `pnpm pack`
 * into dist/packages/ — the tarballs `mcp-cluster init` copies into a pack project. Packed
 * manifests point `exports` at dist/ (publishConfig) and name workspace dependencies by
 * version.
 *
 * Flags: --no-pack (compile only).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PACKAGES_DIR = path.join(ROOT, 'dist', 'packages');

/** Workspace folders that build: those with a tsconfig.build.json. */
function buildable() {
  return ['packages', 'services']
    .flatMap((group) => readdirSync(path.join(ROOT, group)).map((d) => path.join(group, d)))
    .filter((dir) => existsSync(path.join(ROOT, dir, 'tsconfig.build.json')))
    .sort();
}

const readJson = (file) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

/**
 * What `exports` should say once packed: each `./src/x.ts` as `./dist/x.js` with its types.
 * `./test-support` subpaths (helpers other workspace packages' tests import) are not packed.
 */
function packedExports(exports) {
  const entries = typeof exports === 'string' ? { '.': exports } : (exports ?? {});
  return Object.fromEntries(
    Object.entries(entries)
      .filter(([key]) => key !== './test-support' && !key.startsWith('./test-support/'))
      .map(([key, source]) => {
        const base = String(source)
          .replace(/^\.\/src\//, './dist/')
          .replace(/\.ts$/, '');
        return [key, { types: `${base}.d.ts`, default: `${base}.js` }];
      }),
  );
}

/**
 * Each package's build references name exactly its workspace dependencies, and its packed
 * exports (publishConfig) match its source exports.
 */
function checkManifests(dirs) {
  const dirOf = new Map(dirs.map((d) => [readJson(path.join(d, 'package.json')).name, d]));
  const problems = [];
  for (const dir of dirs) {
    const manifest = readJson(path.join(dir, 'package.json'));
    const packed = JSON.stringify(packedExports(manifest.exports));
    if (JSON.stringify(manifest.publishConfig?.exports) !== packed) {
      problems.push(`${dir}/package.json: publishConfig.exports should be ${packed}`);
    }
    const deps = Object.keys(manifest.dependencies ?? {});
    const want = deps
      .filter((n) => n.startsWith('@mcp-cluster/'))
      .map((n) => {
        if (!dirOf.has(n)) problems.push(`${dir} depends on ${n}, which does not build`);
        return path.join(dirOf.get(n) ?? n, 'tsconfig.build.json');
      })
      .sort();
    const refs = (readJson(path.join(dir, 'tsconfig.build.json')).references ?? [])
      .map((r) => path.join(dir, r.path))
      .sort();
    if (JSON.stringify(want) !== JSON.stringify(refs)) {
      problems.push(
        `${dir}/tsconfig.build.json: references should be the workspace dependencies (${want.join(', ') || 'none'}), are ${refs.join(', ') || 'none'}`,
      );
    }
  }
  return problems;
}

function run(cmd, args, cwd = ROOT) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`cannot start ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/**
 * How to run pnpm: the one running this script, else pnpm from PATH, else the workspace's
 * pnpm (packageManager) through npx, as the README's commands run it.
 */
function pnpm() {
  const exec = process.env.npm_execpath;
  if (exec && /pnpm(\.c?js)?$/.test(exec)) return [process.execPath, exec];
  if (spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0) return ['pnpm'];
  const version = String(readJson('package.json').packageManager ?? 'pnpm@10').split('@')[1];
  return ['npx', '-y', `pnpm@${version}`];
}

export function build({ pack = true } = {}) {
  const dirs = buildable();
  const problems = checkManifests(dirs);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '--build', ...dirs.map((d) => path.join(d, 'tsconfig.build.json'))]);
  if (!pack) return;
  rmSync(PACKAGES_DIR, { recursive: true, force: true });
  mkdirSync(PACKAGES_DIR, { recursive: true });
  const [cmd, ...pre] = pnpm();
  for (const dir of dirs) {
    const r = spawnSync(cmd, [...pre, 'pack', '--pack-destination', PACKAGES_DIR], {
      cwd: path.join(ROOT, dir),
      encoding: 'utf8',
    });
    if (r.error || r.status !== 0) {
      throw new Error(`pnpm pack in ${dir} failed: ${r.error?.message ?? r.stderr}`);
    }
  }
  console.log(`built ${dirs.length} packages; tarballs in ${path.relative(ROOT, PACKAGES_DIR)}/`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build({ pack: !process.argv.includes('--no-pack') });
  } catch (err) {
    console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

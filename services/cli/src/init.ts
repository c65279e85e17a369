/**
 * `mcp-cluster init <dir>`: a pack project in a folder of its own. It gets the mcp-cluster
 * packages as tarballs in `vendor/` (compiled JavaScript and type declarations, made by
 * `pnpm build` in the repository), so it installs with npm anywhere, with no path back to the
 * repository: package.json (dependencies, and `overrides` pointing every @mcp-cluster package
 * at its tarball), tsconfig.json, one example tool in src/pack.ts and a test calling it
 * through the MCP SDK client over an in-memory connection.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InitArgs {
  /** The project folder (created; must be empty if it exists). */
  readonly dir: string;
  /** Where the package tarballs are; default: build them in the repository this CLI runs from. */
  readonly packages: string | undefined;
}

/** Why init stopped; the message is one line for the operator. */
export class InitError extends Error {
  override readonly name = 'InitError';
}

/** The repository root when this CLI runs from a checkout (it can then build the tarballs). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts', 'build.mjs');
const REPO_PACKAGES = path.join(REPO_ROOT, 'dist', 'packages');

/** Packages a pack project uses directly; the others come in as their dependencies. */
const DIRECT = { components: 'dependencies', cli: 'devDependencies', testing: 'devDependencies' };

/**
 * Versions of the tools a pack project uses besides ours, as the repository pins them (a test
 * keeps them in step with the root package.json).
 */
export const PROJECT_TOOL_VERSIONS = {
  '@modelcontextprotocol/sdk': '^1.32.2',
  '@types/node': '^20.19.0',
  tsx: '^4.23.15',
  typescript: '~5.9.3',
} as const;

const TARBALL = /^mcp-cluster-(.+)-(\d+\.\d+\.\d+(?:-[\w.]+)?)\.tgz$/;

/** Writes the project; returns what to run next (lines for the operator). */
export function initProject(args: InitArgs, cwd = process.cwd()): string[] {
  const dir = path.resolve(cwd, args.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new InitError(`${dir} is not empty: init writes a new project into an empty folder`);
  }
  const source =
    args.packages === undefined ? buildInRepository() : path.resolve(cwd, args.packages);
  const tarballs = findTarballs(source);
  mkdirSync(path.join(dir, 'vendor'), { recursive: true });
  for (const [short, file] of tarballs) {
    copyFileSync(path.join(source, file), path.join(dir, 'vendor', vendoredName(short)));
  }
  const files = projectFiles(packageName(dir), [...tarballs.keys()]);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const shown = args.dir;
  return [
    `a pack project in ${dir}`,
    '',
    `  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`,
    '  npm install && npm test',
    '  npm start            # serves src/pack.ts on http://127.0.0.1:3000/mcp',
  ];
}

/** Compiles and packs the packages of the repository this CLI runs from. */
function buildInRepository(): string {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new InitError(
      'no package tarballs: pass --packages <dir> (the dist/packages folder `pnpm build` makes in the mcp-cluster repository)',
    );
  }
  const built = spawnSync(process.execPath, [BUILD_SCRIPT], {
    cwd: REPO_ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (built.error !== undefined || built.status !== 0) {
    throw new InitError(`building the packages failed (node scripts/build.mjs in ${REPO_ROOT})`);
  }
  return REPO_PACKAGES;
}

/** Package short name (`components`) -> tarball file name. */
function findTarballs(dir: string): Map<string, string> {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const tarballs = new Map<string, string>();
  for (const file of files) {
    const match = TARBALL.exec(file);
    if (match) tarballs.set(match[1]!, file);
  }
  const missing = Object.keys(DIRECT).filter((name) => !tarballs.has(name));
  if (missing.length > 0) {
    throw new InitError(
      `${dir} lacks the tarballs of ${missing.map((n) => `@mcp-cluster/${n}`).join(', ')} (run \`pnpm build\` in the mcp-cluster repository)`,
    );
  }
  return tarballs;
}

/** An npm package name from the folder's name. */
function packageName(dir: string): string {
  const name = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name === '' ? 'my-pack' : name;
}

/** The README's "Add a tool" example, verbatim (a test checks they are the same). */
export const EXAMPLE_PACK = `import { definePack, defineTool, z } from '@mcp-cluster/components';

const greet = defineTool({
  name: 'greet',
  description: 'Greets someone by name.',
  input: z.object({ name: z.string().describe('Who to greet') }),
  handler: ({ name }, ctx) => {
    ctx.log('info', \`greeting \${name}\`);
    return \`Hello, \${name}!\`;
  },
});

export default definePack({ name: 'my-pack', components: [greet] });
`;

const EXAMPLE_TEST = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { packTransport } from '@mcp-cluster/testing';
import pack from './pack.js';

// An MCP client talking to the pack over an in-memory connection: no port, no process.
test('greet says hello', async () => {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(packTransport(pack));
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((tool) => tool.name),
    ['greet'],
  );
  const result = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
  assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
  await client.close();
});
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['src'],
};

/** A tarball's name in vendor/: without the version, so updating one changes no spec. */
const vendoredName = (short: string): string => `mcp-cluster-${short}.tgz`;

function projectFiles(name: string, packages: readonly string[]): Record<string, string> {
  const spec = (short: string): string => `file:vendor/${vendoredName(short)}`;
  const direct = (kind: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(DIRECT)
        .filter(([, k]) => k === kind)
        .map(([short]) => [`@mcp-cluster/${short}`, spec(short)]),
    );
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: 'An mcp-cluster pack',
    engines: { node: '>=20' },
    scripts: {
      test: 'tsc --noEmit && node --import tsx --test src/*.test.ts',
      start: 'mcp-cluster serve --pack ./src/pack.ts',
    },
    dependencies: direct('dependencies'),
    devDependencies: { ...direct('devDependencies'), ...PROJECT_TOOL_VERSIONS },
    // Every @mcp-cluster package, also those the direct ones depend on, from vendor/.
    overrides: Object.fromEntries([...packages].sort().map((s) => [`@mcp-cluster/${s}`, spec(s)])),
  };
  return {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(TSCONFIG, null, 2)}\n`,
    'src/pack.ts': EXAMPLE_PACK,
    'src/pack.test.ts': EXAMPLE_TEST,
    '.gitignore': 'node_modules/\n',
    ...packImageFiles(name),
    'README.md': projectReadme(name),
  };
}

/**
 * What a pack project needs to build its image on top of mcp-cluster's: its Dockerfile, the
 * .dockerignore, and the pack (scripts/image-check.mjs builds exactly these).
 */
export function packImageFiles(name: string): Record<string, string> {
  return {
    Dockerfile: projectDockerfile(name),
    '.dockerignore': 'node_modules/\nvendor/\nsrc/**/*.test.ts\n',
    'src/pack.ts': EXAMPLE_PACK,
  };
}

/**
 * The pack on the mcp-cluster image: the image runs TypeScript packs through tsx, and a pack
 * under /app/packs/ resolves @mcp-cluster/components to the image's own copy.
 */
function projectDockerfile(name: string): string {
  const short = name.replace(/^@[^/]+\//, '');
  const dir = `/app/packs/${short}`;
  return `# ${name} on the mcp-cluster image (built from the mcp-cluster repository's Dockerfile and
# pushed where your cluster pulls from). The image runs TypeScript packs through tsx, and a pack
# under /app/packs/ imports the image's own @mcp-cluster/components.
#
#   docker build --build-arg MCP_CLUSTER_IMAGE=registry.example.com/mcp-cluster:0.1.0 -t ${short} .
#   docker run --rm -p 3000:3000 ${short}   # one node on :3000/mcp
#   docker run --rm -e REDIS_URL=... -e NATS_URL=... ${short} worker
#
# A pack with npm dependencies of its own needs them in ${dir}/node_modules: install them in a
# build stage (npm install --omit=dev) and copy that folder in without its @mcp-cluster packages.
ARG MCP_CLUSTER_IMAGE=mcp-cluster:latest
FROM \${MCP_CLUSTER_IMAGE}
COPY src/ ${dir}/
ENV MCP_PACKS=${dir}/pack.ts
CMD ["serve"]
`;
}

function projectReadme(name: string): string {
  return `# ${name}

An mcp-cluster pack: tools, resources and prompts that \`mcp-cluster\` serves to MCP clients
(over stdio, Streamable HTTP and WebSocket, on one node or a cluster).

\`\`\`sh
npm install
npm test     # type-checks, then calls the tools through an MCP client in memory
npm start    # serves the pack on http://127.0.0.1:3000/mcp (and /ws, /sse)
\`\`\`

- \`src/pack.ts\`: the pack. Add components to its \`components\` list (\`defineTool\`,
  \`defineResource\`, \`defineResourceTemplate\`, \`definePrompt\` from \`@mcp-cluster/components\`).
- \`src/pack.test.ts\`: its test, with \`packTransport\` from \`@mcp-cluster/testing\`.
- \`Dockerfile\`: the pack on the mcp-cluster image, for containers, compose and Kubernetes
  (\`serve\` by default; \`worker\` in a cluster).
- stdio clients (Claude Desktop, IDEs): command \`npx\`, arguments
  \`mcp-cluster stdio --pack /absolute/path/to/src/pack.ts\`, run from this folder.
- \`vendor/\`: the mcp-cluster packages this project installs (\`overrides\` in package.json
  points every @mcp-cluster package there). To take newer ones, run \`mcp-cluster init\` into
  an empty folder and copy its \`vendor/\` here, then \`rm -rf node_modules package-lock.json &&
  npm install\`.
`;
}

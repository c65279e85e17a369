/**
 * The young-generation hold, in a process of its own (a test worker's young generation has
 * grown long before): held, surviving allocations leave it at its size; released, they grow
 * it again; a user's own semi-space flag turns the hold off.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = new URL('./young-generation.ts', import.meta.url).href;
const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));

/** New-space sizes in bytes: at the start, after surviving allocations held, then released. */
interface Sizes {
  readonly initial: number;
  readonly held: number;
  readonly released: number;
}

/** Objects that survive every scavenge: a few times the initial young generation. */
const SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
const { holdYoungGeneration, releaseYoungGeneration } = await import(${JSON.stringify(MODULE)});
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const kept = [];
const survive = () => { for (let i = 0; i < 300_000; i++) kept.push({ i, text: 'x' + i }); };
const initial = newSpace();
holdYoungGeneration();
survive();
const held = newSpace();
releaseYoungGeneration();
survive();
process.stdout.write(JSON.stringify({ initial, held, released: newSpace() }));
`;

async function sizes(nodeFlags: readonly string[] = []): Promise<Sizes> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', '--input-type=module', '--eval', SCRIPT],
    { cwd: CLI_DIR, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as Sizes;
}

describe('young-generation hold', () => {
  it('keeps the young generation at its size until released, then lets it grow', async () => {
    const { initial, held, released } = await sizes();
    expect(held).toBe(initial);
    expect(released).toBeGreaterThan(held);
  }, 30_000);

  it("does nothing when the process has semi-space flags of the user's", async () => {
    const { initial, held } = await sizes(['--semi-space-growth-factor=2']);
    expect(held).toBeGreaterThan(initial);
  }, 30_000);
});

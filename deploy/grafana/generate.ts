/**
 * Writes the dashboards of dashboards.ts to deploy/grafana/dashboards/*.json:
 * `npx tsx deploy/grafana/generate.ts`. The JSON is formatted with the repository's Prettier
 * settings, so `prettier --check` and the generator agree on every byte.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/schema';
import { format, resolveConfig } from 'prettier';
import { DASHBOARDS } from './dashboards.js';

/** Where the provisioned dashboard files live. */
export const DASHBOARDS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');

/** The file text of a dashboard: its JSON, formatted as Prettier formats the file. */
export async function renderDashboard(dashboard: Dashboard, file: string): Promise<string> {
  const filepath = path.join(DASHBOARDS_DIR, file);
  const options = (await resolveConfig(filepath)) ?? {};
  return format(JSON.stringify(dashboard), { ...options, filepath });
}

/** Every dashboard file and its text. */
export async function renderAll(): Promise<{ file: string; text: string }[]> {
  return Promise.all(
    DASHBOARDS.map(async ({ file, dashboard }) => ({
      file,
      text: await renderDashboard(dashboard, file),
    })),
  );
}

async function main(): Promise<void> {
  await mkdir(DASHBOARDS_DIR, { recursive: true });
  for (const { file, text } of await renderAll()) {
    await writeFile(path.join(DASHBOARDS_DIR, file), text);
    process.stdout.write(
      `wrote ${path.relative(process.cwd(), path.join(DASHBOARDS_DIR, file))}\n`,
    );
  }
}

// Run only as a script: the test imports renderAll without writing anything.
if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  await main();
}

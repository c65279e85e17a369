#!/usr/bin/env node
// Launcher. In the repository the CLI runs from its TypeScript sources, through tsx; an
// installed package (made by `pnpm build`) has no sources and runs the compiled JavaScript,
// which registers tsx itself only when a pack may be TypeScript (supportTypeScriptPacks in
// src/engine.ts), so a JavaScript-only process does without tsx's cost.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const fromSources = existsSync(new URL('../src/main.ts', import.meta.url));
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
}
const entry = (name) =>
  new URL(fromSources ? `../src/${name}.ts` : `../dist/${name}.js`, import.meta.url).href;
// Before the CLI's modules load: startup does not grow the young generation (its size stays
// resident in an idle process); each command releases it once it serves.
const { holdYoungGeneration } = await import(entry('young-generation'));
holdYoungGeneration();
await import(entry('main'));

#!/usr/bin/env node
// Launcher. In the repository the CLI runs from its TypeScript sources, through tsx; an
// installed package (made by `pnpm build`) has no sources and runs the compiled JavaScript,
// which registers tsx itself only when a pack may be TypeScript (supportTypeScriptPacks in
// src/engine.ts), so a JavaScript-only process does without tsx's cost.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const source = new URL('../src/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(existsSync(source) ? source.href : new URL('../dist/main.js', import.meta.url).href);

#!/usr/bin/env node
// Launcher. tsx is registered either way, so packs may be TypeScript (`--pack ./pack.ts`).
// In the repository the CLI runs from its TypeScript sources; an installed package (made by
// `pnpm build`) has no sources and runs the compiled JavaScript.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const source = new URL('../src/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/main.js', import.meta.url).href);

#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx (there is no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');

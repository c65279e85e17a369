import { MemoryLockoutStore } from '../stores/memory.js';
import type { LockoutStore } from '../stores/types.js';
import { describeAttemptBudget } from './admission-attempts.testkit.js';

describeAttemptBudget('memory', () => {
  let ms = 1_000_000;
  // One process: every gateway of a test is the one store (made with the first options).
  let store: LockoutStore | undefined;
  return Promise.resolve({
    lockout: (options) => (store ??= new MemoryLockoutStore({ ...options, now: () => ms })),
    elapse: async (elapsed, check) => {
      ms += elapsed;
      if (!(await check())) throw new Error(`condition still false after ${elapsed} ms`);
    },
    close: () => Promise.resolve(),
  });
});

/**
 * Leadership for one process: it is the only candidate, so it always leads. The default of an
 * engine (embedded node, tests); a cluster worker passes an election instead.
 */
import type { Leadership, PackStop } from './components.js';

/**
 * Leads every name from the call on (`onLead` runs at once), until the returned function is
 * called. A failing `onLead` is the pack's to report: there is no other process to try.
 */
export const ALWAYS_LEADER: Leadership = Object.freeze({
  lead(_name: string, onLead: () => Promise<PackStop | void> | PackStop | void): PackStop {
    const started = (async () => onLead())().catch(() => undefined);
    return async () => {
      const stop = await started;
      if (typeof stop === 'function') await stop();
    };
  },
});

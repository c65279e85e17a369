/**
 * Distributed component registry: which worker serves which tools/prompts/resources.
 * A worker registers, then heartbeats; a record whose heartbeat lapsed is not listed and
 * is swept from the index by cleanup(). Cross-process change events travel on the bus;
 * onChange here reports this process's own changes, and revision() lets others poll.
 */
import { z } from 'zod';

import { ClusterStateError, parseStored } from './errors.js';

export const workerComponentsSchema = z.object({
  tools: z.array(z.string()),
  prompts: z.array(z.string()),
  resources: z.array(z.string()),
  resourceTemplates: z.array(z.string()),
  /**
   * The tools whose annotations say running them again is harmless (`readOnlyHint` or
   * `idempotentHint`): a gateway may re-send a call of one whose worker failed mid-call.
   * Absent in records of workers that predate it: none is repeated.
   */
  repeatableTools: z.array(z.string()).optional(),
});
export type WorkerComponents = z.infer<typeof workerComponentsSchema>;

export const workerInfoSchema = z.object({
  workerId: z.string(),
  url: z.string(),
  weight: z.number(),
  components: workerComponentsSchema,
  registeredAt: z.number(),
  /**
   * The worker process's random boot id: gateways bind each signed dispatch to it, so a
   * worker can check replays in its own memory (dispatch-auth.ts). Absent in records of
   * workers that predate it; their dispatches are checked in the shared nonce store.
   */
  instance: z.string().optional(),
  /**
   * Requests the worker runs at once (0: unlimited): gateways route it no more. Absent in
   * records of workers that predate it: the gateway's default applies.
   */
  maxConcurrency: z.number().int().min(0).optional(),
});
export type WorkerInfo = z.infer<typeof workerInfoSchema>;

export interface WorkerRegistration {
  url: string;
  weight?: number;
  components: WorkerComponents;
  /** See {@link WorkerInfo.instance}. */
  instance?: string;
  /** See {@link WorkerInfo.maxConcurrency}. */
  maxConcurrency?: number;
}

export type RegistryChange =
  | { readonly type: 'registered'; readonly worker: WorkerInfo }
  | { readonly type: 'unregistered' | 'expired'; readonly workerId: string };

export type RegistryListener = (change: RegistryChange) => void;

export interface ComponentRegistry {
  /** Registers (or replaces) a worker's record and starts its heartbeat TTL. */
  register(workerId: string, registration: WorkerRegistration): Promise<WorkerInfo>;
  /** Extends the TTL; false when the record already lapsed (the worker must re-register). */
  heartbeat(workerId: string): Promise<boolean>;
  unregister(workerId: string): Promise<void>;
  /** Live workers only. */
  list(): Promise<WorkerInfo[]>;
  /** Removes lapsed workers from the index; returns their ids. */
  cleanup(): Promise<string[]>;
  /** Counter bumped on every change anywhere in the cluster; cheap to poll. */
  revision(): Promise<number>;
  /** Changes made through this instance; returns an unsubscribe function. */
  onChange(listener: RegistryListener): () => void;
}

export function decodeWorker(text: string, workerId: string): WorkerInfo {
  const parsed = workerInfoSchema.safeParse(parseStored(text, `worker ${workerId}`));
  if (!parsed.success) {
    throw new ClusterStateError('corrupt', `worker ${workerId}: invalid stored record`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Shared listener plumbing; a throwing listener must not break the registry call. */
export class ChangeEmitter {
  private readonly listeners = new Set<RegistryListener>();

  on(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: RegistryChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // Listener bugs are theirs; the registry state is already committed.
      }
    }
  }
}

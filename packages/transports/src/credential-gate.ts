/**
 * The per-message check of a long-lived connection's credential (WebSocket frames): each
 * message runs only while the credential it was opened with is still valid, in arrival order.
 * A recent verdict answers at once (no await on the hot path); otherwise messages wait for one
 * re-check, shared by all of them. Messages that arrive once the credential ended run nothing.
 */
import type { AdmittedCredential, CredentialEnd } from './guard.js';

/** Messages held while a re-check is pending; more are refused as `unavailable`. */
export const MAX_MESSAGES_AWAITING_CHECK = 256;

export interface CredentialGateHandlers<A extends unknown[]> {
  /** Handles one message (the credential is valid). */
  readonly run: (...args: A) => void;
  /** The credential ended: close the connection (called once). */
  readonly ended: (why: CredentialEnd) => void;
  /** The credential could not be checked (its store is down): refuse this message. */
  readonly unavailable: (err: unknown, ...args: A) => void;
}

export interface CredentialGate<A extends unknown[]> {
  /** Takes one message: runs it now, after a re-check, or never (the credential ended). */
  readonly receive: (...args: A) => void;
  /** Stops following the credential (the connection closed). */
  readonly stop: () => void;
}

/**
 * Follows the connection's credential: `handlers.ended` runs once when it expires or is
 * revoked (the watch) or when a message finds it ended; messages run only before that.
 * Without a credential every message runs and nothing is watched.
 */
export function credentialGate<A extends unknown[]>(
  credential: AdmittedCredential | undefined,
  handlers: CredentialGateHandlers<A>,
): CredentialGate<A> {
  if (credential === undefined) return { receive: handlers.run, stop: () => undefined };
  let done: CredentialEnd | undefined;
  /** Messages waiting for the pending re-check; undefined when none is pending. */
  let waiting: A[] | undefined;

  let unwatch: (() => void) | undefined;
  const stop = (): void => {
    unwatch?.();
    unwatch = undefined;
  };
  const end = (why: CredentialEnd): void => {
    if (done !== undefined) return;
    done = why;
    waiting = undefined;
    stop();
    handlers.ended(why);
  };
  const cancel = credential.watch(end);
  // A watch may report at once (the credential already ended): then it is over already.
  if (done === undefined) unwatch = cancel;
  else cancel();

  const recheck = (): void => {
    credential.check().then(
      (verdict) => {
        const held = waiting ?? [];
        waiting = undefined;
        if (verdict !== 'valid') return end(verdict);
        // The credential may have ended meanwhile (the watch): then nothing more runs.
        for (const args of held) {
          if (done !== undefined) return;
          handlers.run(...args);
        }
      },
      (err: unknown) => {
        const held = waiting ?? [];
        waiting = undefined;
        for (const args of held) handlers.unavailable(err, ...args);
      },
    );
  };

  const receive = (...args: A): void => {
    if (done !== undefined) return;
    if (waiting !== undefined) {
      if (waiting.length >= MAX_MESSAGES_AWAITING_CHECK) {
        handlers.unavailable(new Error('too many messages awaiting a credential check'), ...args);
      } else {
        waiting.push(args);
      }
      return;
    }
    const verdict = credential.current();
    if (verdict === 'valid') return handlers.run(...args);
    if (verdict !== undefined) return end(verdict);
    waiting = [args];
    recheck();
  };
  return { receive, stop };
}

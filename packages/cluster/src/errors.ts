/**
 * Local errors of the cluster state layer. They never cross the wire: callers map them
 * (usually to -32603 or a 404) at the transport boundary.
 */

export type ClusterStateErrorKind =
  /** A value read from the store failed validation. */
  | 'corrupt'
  /** create() for an id that is already live or ended. */
  | 'exists';

export class ClusterStateError extends Error {
  override readonly name = 'ClusterStateError';

  constructor(
    readonly kind: ClusterStateErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Parses JSON read from the store; malformed text becomes a typed 'corrupt' error. */
export function parseStored(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ClusterStateError('corrupt', `${what}: stored value is not JSON`, { cause });
  }
}

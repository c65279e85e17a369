/**
 * Local errors of request signing. They never cross the wire and never carry a secret or a
 * signature in their message; a request that fails verification is not an error but a
 * `{ ok: false, reason }` result.
 */
import { KindedError } from '@mcp-cluster/protocol';

export type SigningErrorKind =
  /** Verifier or key options are invalid; thrown at construction. */
  | 'config'
  /** A value cannot be signed (not JSON, too deep, too large, bad field); the caller's bug. */
  | 'invalid_argument';

export class SigningError extends KindedError<SigningErrorKind> {
  override readonly name = 'SigningError';
}

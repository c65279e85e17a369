/**
 * Local errors of the authentication layer. They never cross the wire and never carry a
 * credential (token, password or hash) in their message.
 */
import { KindedError } from '@mcp-cluster/protocol';

export type AuthnErrorKind =
  /** Provider options are invalid; thrown at construction (or first key import). */
  | 'config'
  /** A key source (JWKS endpoint) could not be used; not the caller's fault. */
  | 'keys_unavailable';

export class AuthnError extends KindedError<AuthnErrorKind> {
  override readonly name = 'AuthnError';
}

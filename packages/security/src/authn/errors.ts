/**
 * Local errors of the authentication layer. They never cross the wire and never carry a
 * credential (token, password or hash) in their message.
 */

export type AuthnErrorKind =
  /** Provider options are invalid; thrown at construction (or first key import). */
  | 'config'
  /** A key source (JWKS endpoint) could not be used; not the caller's fault. */
  | 'keys_unavailable';

export class AuthnError extends Error {
  override readonly name = 'AuthnError';

  constructor(
    readonly kind: AuthnErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

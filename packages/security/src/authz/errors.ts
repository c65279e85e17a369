/**
 * Local error of the authorization layer: thrown at construction for bad configuration. It
 * never crosses the wire; a request that is not allowed gets a Decision, not an exception.
 */

export type AuthzErrorKind =
  /** Authorizer options or a permission string are invalid; thrown at construction. */
  'config';

export class AuthzError extends Error {
  override readonly name = 'AuthzError';

  constructor(
    readonly kind: AuthzErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

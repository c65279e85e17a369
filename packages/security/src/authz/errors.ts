/**
 * Local error of the authorization layer: thrown at construction for bad configuration. It
 * never crosses the wire; a request that is not allowed gets a Decision, not an exception.
 */
import { KindedError } from '@mcp-cluster/protocol';

export type AuthzErrorKind =
  /** Authorizer options or a permission string are invalid; thrown at construction. */
  'config';

export class AuthzError extends KindedError<AuthzErrorKind> {
  override readonly name = 'AuthzError';
}

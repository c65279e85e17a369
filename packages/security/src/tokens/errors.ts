/**
 * Why a token request was refused, as an RFC 6749 §5.2 error code. The message is the
 * `error_description`: it names the problem, never a token, secret or password.
 */
import { CodedError } from '@mcp-cluster/protocol';

export type TokenErrorCode = 'invalid_grant' | 'invalid_scope';

export class TokenError extends CodedError<TokenErrorCode> {
  override readonly name = 'TokenError';
}

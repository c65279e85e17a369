/**
 * Why a token request was refused, as an RFC 6749 §5.2 error code. The message is the
 * `error_description`: it names the problem, never a token, secret or password.
 */
export type TokenErrorCode = 'invalid_grant' | 'invalid_scope';

export class TokenError extends Error {
  override readonly name = 'TokenError';

  constructor(
    readonly code: TokenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

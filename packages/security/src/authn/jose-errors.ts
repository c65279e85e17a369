/**
 * jose's verdicts on a token as reasons naming the failed check (and claim), never the token:
 * one table for every verifier here (jwtProvider, the token service's access tokens), so a
 * token refused for the same cause reads the same whichever provider refused it.
 */
import { errors } from 'jose';

/** jose error codes that mean "this token is not acceptable" (the caller's fault, 401). */
const CREDENTIAL_ERRORS: Readonly<Record<string, string>> = {
  [errors.JWTExpired.code]: 'token expired',
  [errors.JWTInvalid.code]: 'token is not a valid JWT',
  [errors.JWSInvalid.code]: 'token is not a valid JWS',
  [errors.JWSSignatureVerificationFailed.code]: 'token signature invalid',
  [errors.JOSEAlgNotAllowed.code]: 'token algorithm not allowed',
  [errors.JWKSNoMatchingKey.code]: 'no key matches the token',
  [errors.JWKSMultipleMatchingKeys.code]: 'no key matches the token',
  [errors.JOSENotSupported.code]: 'token uses an unsupported feature',
};

/**
 * The reason a jose failure condemns the token; undefined for anything else (not jose's, or
 * a jose code not in the table): what that means is the caller's to decide.
 */
export function joseCredentialReason(err: unknown): string | undefined {
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `token claim check failed: ${err.claim} (${err.reason})`;
  }
  if (!(err instanceof errors.JOSEError)) return undefined;
  return CREDENTIAL_ERRORS[err.code];
}

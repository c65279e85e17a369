/**
 * Bases of the local errors packages throw about themselves (bad configuration, a definition
 * mistake, a store's unreadable reply): a subclass's name, a string naming the case, a
 * message and an optional cause. They never cross the wire (only `ProtocolError` does), so
 * they carry no JSON-RPC code. One constructor for all of them keeps `instanceof`, `name` and
 * the case field behaving alike everywhere; each subclass sets its own `name`.
 */

/** A local error whose case is `code` (components, tokens). */
export class CodedError<C extends string> extends Error {
  override readonly name: string = 'CodedError';

  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A local error whose case is `kind` (cluster state, security stores, authn, authz, signing). */
export class KindedError<K extends string> extends Error {
  override readonly name: string = 'KindedError';

  constructor(
    readonly kind: K,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Principal ids are namespaced by the provider that authenticated them, so two providers can
 * never name the same principal by accident: the static token principal `ops` is
 * `static:ops`, a JWT with `sub: "ops"` is `jwt:<iss>#ops`. Sessions, task ownership,
 * rate-limit buckets, stream slots, signing requirements, policies and audit lines all key
 * on the id, so they keep such principals apart without knowing about providers.
 *
 * `anonymous` (no credentials; also stdio's local caller) has no namespace. The token
 * service is no namespace of its own: its tokens carry, as `sub`, the namespaced id of the
 * principal they were issued to (`basic:alice`, `apikey:ci-bot`).
 */

/** The providers a principal id may name, in the order suggestions list them. */
export const PRINCIPAL_PROVIDERS = ['static', 'basic', 'apikey', 'jwt', 'mtls'] as const;
export type PrincipalProvider = (typeof PRINCIPAL_PROVIDERS)[number];

/** The id of the caller without credentials (and of stdio's local caller). */
export const ANONYMOUS_PRINCIPAL_ID = 'anonymous';

/** Inside the mtls namespace: principals derived from a certificate's CN (`mtls:cn:<CN>`). */
export const MTLS_CN_SEGMENT = 'cn:';

/** Builds the principal id each provider gives. */
export const principalId = Object.freeze({
  /** A configured static token's principal (`staticTokens[].principal.id`). */
  static: (id: string): string => `static:${id}`,
  /** A Basic user, by user name. */
  basic: (username: string): string => `basic:${username}`,
  /** A JWT of an outside issuer: its `iss` and `sub`. */
  jwt: (issuer: string, sub: string): string => `jwt:${issuer}#${sub}`,
  /** An API key, by the principal name its record carries (not the key id). */
  apiKey: (principal: string): string => `apikey:${principal}`,
  /** A client certificate matched by an mTLS subject rule (`subjects[].principal.id`). */
  mtls: (id: string): string => `mtls:${id}`,
  /** A client certificate no rule matched, by its CN (`mtls.fromCommonName`). */
  mtlsCommonName: (cn: string): string => `mtls:${MTLS_CN_SEGMENT}${cn}`,
});

/**
 * The provider a principal id belongs to; undefined for `anonymous` and for ids without a
 * provider namespace (e.g. bare ids from before namespacing). A `jwt:` id needs its `#`
 * between a non-empty issuer and subject.
 */
export function providerOf(id: string): PrincipalProvider | undefined {
  const colon = id.indexOf(':');
  if (colon <= 0) return undefined;
  const prefix = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  if (rest === '') return undefined;
  switch (prefix) {
    case 'static':
    case 'basic':
    case 'apikey':
      return prefix;
    case 'mtls':
      return rest === MTLS_CN_SEGMENT ? undefined : 'mtls';
    case 'jwt': {
      const hash = rest.indexOf('#');
      return hash > 0 && hash < rest.length - 1 ? 'jwt' : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Why `ref` cannot name a principal in configuration (authorization policies, signing
 * clients, per-principal rate limits), or undefined when it can: it must carry a provider
 * namespace, or be `anonymous`. The message names the spellings it may have meant, with
 * `jwtIssuer` (the configured one) in the JWT spelling when known.
 */
export function principalReferenceProblem(ref: string, jwtIssuer?: string): string | undefined {
  if (ref === ANONYMOUS_PRINCIPAL_ID || providerOf(ref) !== undefined) return undefined;
  const quoted = JSON.stringify(ref);
  // A CN-derived id as it was spelled before namespacing.
  if (ref.startsWith('cert:') && ref.length > 'cert:'.length) {
    const cn = ref.slice('cert:'.length);
    return `${quoted} names no provider: write ${JSON.stringify(principalId.mtlsCommonName(cn))}`;
  }
  const name = bareName(ref);
  const candidates = [
    principalId.static(name),
    principalId.basic(name),
    principalId.apiKey(name),
    principalId.jwt(jwtIssuer ?? '<issuer>', name),
    principalId.mtls(name),
  ].map((c) => JSON.stringify(c));
  const last = candidates.pop() ?? '';
  return `${quoted} names no provider: write ${candidates.join(', ')} or ${last}`;
}

/** What a mistaken reference most likely names: a known prefix with nothing after it is dropped. */
function bareName(ref: string): string {
  const colon = ref.indexOf(':');
  if (colon > 0 && (PRINCIPAL_PROVIDERS as readonly string[]).includes(ref.slice(0, colon))) {
    const rest = ref.slice(colon + 1);
    if (rest !== '') return rest;
  }
  return ref;
}

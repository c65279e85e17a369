import { isIPv4, isIPv6 } from 'node:net';
import type { Principal } from '../principal.js';
import { MTLS_CN_SEGMENT, principalId } from '../principal-ids.js';
import { splitSubjectValue } from '../tls/peer.js';
import { AuthnError } from './errors.js';
import { rejected, SKIP, type AuthProvider, type AuthResult, type TlsPeer } from './types.js';

/** Subject attributes a rule may name. */
export const MTLS_SUBJECT_ATTRIBUTES = ['CN', 'O', 'OU'] as const;
export type MtlsSubjectAttribute = (typeof MTLS_SUBJECT_ATTRIBUTES)[number];

/** Every named attribute must equal the certificate's (single, exact, case-sensitive). */
export type MtlsAttributeMatch = { readonly [K in MtlsSubjectAttribute]?: string };
/** `AA:BB:…` or 64 hex digits, any case. */
export interface MtlsFingerprintMatch {
  readonly fingerprint256: string;
}
/** One SAN entry: `DNS:…`, `IP Address:…` (or `IP:…`), `URI:…` or `email:…`. */
export interface MtlsSanMatch {
  readonly san: string;
}
export type MtlsMatch = MtlsAttributeMatch | MtlsFingerprintMatch | MtlsSanMatch;

export interface MtlsSubjectRule {
  readonly match: MtlsMatch;
  readonly principal: {
    /** The principal's id is `mtls:<id>`; `id` must not start with `cn:` (see fromCommonName). */
    readonly id: string;
    /** Default 'service': certificates mostly identify machines. */
    readonly kind?: 'user' | 'service';
    readonly roles: readonly string[];
  };
}

export interface MtlsOptions {
  /** Tried in order; the first rule that matches names the principal. */
  readonly subjects?: readonly MtlsSubjectRule[];
  /**
   * Fallback for a trusted certificate no rule matches: the principal is
   * `mtls:cn:<CN>` (MTLS_CN_PRINCIPAL_PREFIX) with these kind and roles.
   */
  readonly fromCommonName?: {
    readonly kind: 'service' | 'user';
    readonly roles: readonly string[];
  };
  readonly name?: string;
}

/**
 * Prefix of principals derived from a CN. Rule principals are `mtls:<id>`; CN-derived ones
 * are `mtls:cn:<CN>`, and no rule id may start with `cn:`, so `CN=alice` never becomes the
 * principal of a rule (same grants, same rate-limit buckets): any CA you trust for client
 * certificates can mint any CN, which is a weaker statement than an explicit rule.
 * Authorization rules name such principals `mtls:cn:<CN>`.
 */
export const MTLS_CN_PRINCIPAL_PREFIX = principalId.mtlsCommonName('');
/** Longest CN accepted by fromCommonName (X.520 ub-common-name). */
export const MAX_CN_PRINCIPAL_LENGTH = 64;

const SAN_TYPES: Readonly<Record<string, string>> = {
  DNS: 'DNS',
  'IP Address': 'IP Address',
  IP: 'IP Address',
  URI: 'URI',
  email: 'email',
};
const FINGERPRINT_HEX = /^[0-9A-F]{64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** IPv6 as Node prints SAN addresses: 8 groups, uppercase hex, no leading zeros. */
function canonicalIPv6(address: string): string | undefined {
  if (!isIPv6(address) || address.includes('%')) return undefined;
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...zeros, ...right];
  if (groups.length !== 8) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(16).toUpperCase()).join(':');
}

/**
 * The comparable form of a SAN entry: type spelled as Node prints it, DNS names lowercased
 * (they compare case-insensitively), IP addresses canonical. Undefined for anything else.
 */
function canonicalSan(entry: string): string | undefined {
  const colon = entry.indexOf(':');
  if (colon <= 0) return undefined;
  const type = SAN_TYPES[entry.slice(0, colon)];
  const value = entry.slice(colon + 1);
  if (type === undefined || value === '') return undefined;
  if (type === 'DNS') return `DNS:${value.toLowerCase()}`;
  if (type === 'IP Address') {
    const ip = isIPv4(value) ? value : canonicalIPv6(value);
    return ip === undefined ? undefined : `IP Address:${ip}`;
  }
  return `${type}:${value}`;
}

function canonicalFingerprint(value: string): string | undefined {
  const hex = value.replace(/:/g, '').toUpperCase();
  return FINGERPRINT_HEX.test(hex) ? hex : undefined;
}

/** The single value of a subject attribute; undefined when absent or repeated. */
function singleAttribute(peer: TlsPeer, attribute: string): string | undefined {
  const subject = peer.subject;
  if (subject === undefined || !Object.hasOwn(subject, attribute)) return undefined;
  const values = splitSubjectValue(subject[attribute] ?? '');
  return values.length === 1 ? values[0] : undefined;
}

type Test = (peer: TlsPeer) => boolean;

function compileMatch(match: MtlsMatch, index: number): Test {
  const where = `mtlsProvider: subjects[${index}].match`;
  // Read as data: rules usually come from JSON configuration, not typed code.
  const fields = match as Readonly<Record<string, unknown>>;
  const standalone = ['fingerprint256', 'san'].filter((key) => Object.hasOwn(fields, key));
  if (standalone.length > 0 && Object.keys(fields).length !== 1) {
    throw new AuthnError('config', `${where}: fingerprint256 and san stand alone`);
  }
  if (standalone[0] === 'fingerprint256') {
    const given = fields.fingerprint256;
    const wanted = typeof given === 'string' ? canonicalFingerprint(given) : undefined;
    if (wanted === undefined) {
      throw new AuthnError('config', `${where}.fingerprint256: not a SHA-256 fingerprint`);
    }
    return (peer) =>
      peer.fingerprint256 !== undefined && canonicalFingerprint(peer.fingerprint256) === wanted;
  }
  if (standalone[0] === 'san') {
    const given = fields.san;
    const wanted = typeof given === 'string' ? canonicalSan(given) : undefined;
    if (wanted === undefined) {
      throw new AuthnError(
        'config',
        `${where}.san: expected DNS:, IP Address: (or IP:), URI: or email: and a value`,
      );
    }
    return (peer) => (peer.subjectAltNames ?? []).some((name) => canonicalSan(name) === wanted);
  }
  const wanted = Object.entries(fields);
  if (wanted.length === 0) {
    throw new AuthnError('config', `${where}: empty (it would match every certificate)`);
  }
  for (const [attribute, value] of wanted) {
    if (!(MTLS_SUBJECT_ATTRIBUTES as readonly string[]).includes(attribute)) {
      throw new AuthnError(
        'config',
        `${where}: unknown key ${attribute} (CN, O, OU, fingerprint256 or san)`,
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw new AuthnError('config', `${where}.${attribute}: must be a non-empty string`);
    }
  }
  return (peer) => wanted.every(([attribute, value]) => singleAttribute(peer, attribute) === value);
}

type Base = Omit<Principal, 'claims'>;

function basePrincipal(id: string, kind: Base['kind'], roles: readonly string[]): Base {
  return Object.freeze({ id, kind, roles: Object.freeze([...roles]) });
}

function checkKind(kind: unknown, where: string): 'user' | 'service' {
  if (kind !== 'user' && kind !== 'service') {
    throw new AuthnError('config', `${where}: kind must be 'user' or 'service'`);
  }
  return kind;
}

/**
 * Authenticates the client certificate of the connection (`req.tls`, from tlsPeerOf).
 *
 * - no TLS or no certificate: skip (another provider, e.g. JWT, may authenticate);
 * - a certificate that does not chain to the configured CA: 401 `client certificate not
 *   trusted` (only reachable with `requireClientCert: false`; otherwise the handshake fails);
 * - a trusted certificate: the first matching rule of `subjects` names the principal, then
 *   `fromCommonName`; none: 403 `client certificate not mapped` — the certificate is
 *   genuine, this server just grants it nothing.
 *
 * Claims: `certSubject` (TlsPeer.subject) and `certFingerprint` (`AA:BB:…`), so audit logs
 * can tell which certificate acted.
 */
export function mtlsProvider(options: MtlsOptions): AuthProvider {
  const rules = (options.subjects ?? []).map((rule, index) => {
    const where = `mtlsProvider: subjects[${index}].principal`;
    const { id, kind = 'service', roles } = rule.principal;
    if (typeof id !== 'string' || id === '') {
      throw new AuthnError('config', `${where}.id: must be a non-empty string`);
    }
    if (id.startsWith(MTLS_CN_SEGMENT)) {
      throw new AuthnError(
        'config',
        `${where}.id: must not start with "${MTLS_CN_SEGMENT}" (mtls:cn:<CN> names fromCommonName principals)`,
      );
    }
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
      throw new AuthnError('config', `${where}.roles: must be an array of strings`);
    }
    return {
      test: compileMatch(rule.match, index),
      principal: basePrincipal(principalId.mtls(id), checkKind(kind, `${where}.kind`), roles),
    };
  });
  const fallback = options.fromCommonName;
  if (fallback !== undefined) {
    checkKind(fallback.kind, 'mtlsProvider: fromCommonName');
    if (!Array.isArray(fallback.roles)) {
      throw new AuthnError('config', 'mtlsProvider: fromCommonName.roles must be an array');
    }
  }
  if (rules.length === 0 && fallback === undefined) {
    throw new AuthnError(
      'config',
      'mtlsProvider: neither subjects nor fromCommonName configured (every certificate would be refused)',
    );
  }
  const fallbackRoles = Object.freeze([...(fallback?.roles ?? [])]);

  function fromCommonName(peer: TlsPeer): Base | undefined {
    if (fallback === undefined) return undefined;
    const cn = singleAttribute(peer, 'CN');
    if (cn === undefined || cn === '' || cn.length > MAX_CN_PRINCIPAL_LENGTH) return undefined;
    if (CONTROL.test(cn)) return undefined;
    return basePrincipal(principalId.mtlsCommonName(cn), fallback.kind, fallbackRoles);
  }

  return {
    name: options.name ?? 'mtls',
    authenticate(req): Promise<AuthResult> {
      const peer = req.tls;
      if (peer?.fingerprint256 === undefined) return Promise.resolve(SKIP);
      if (!peer.authorized) {
        return Promise.resolve(rejected(401, 'client certificate not trusted'));
      }
      const base = rules.find((rule) => rule.test(peer))?.principal ?? fromCommonName(peer);
      if (base === undefined) {
        return Promise.resolve(rejected(403, 'client certificate not mapped'));
      }
      const principal: Principal = Object.freeze({
        ...base,
        claims: Object.freeze({
          certSubject: Object.freeze({ ...peer.subject }),
          certFingerprint: peer.fingerprint256,
        }),
      });
      return Promise.resolve({ type: 'authenticated', principal });
    },
  };
}

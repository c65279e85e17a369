/**
 * Reads what a TLS connection learnt about its client into a plain `TlsPeer`, so that
 * authentication (mtlsProvider) works on data, not on sockets, and can be tested without one.
 */
import type { TLSSocket } from 'node:tls';
import type { TlsPeer } from '../authn/types.js';

/** Separates the values of a repeated subject attribute in `TlsPeer.subject`. */
export const SUBJECT_VALUE_SEPARATOR = '+';

const FINGERPRINT = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
/** A JSON string literal at the start of the text: how Node quotes SAN values with `,` or `"`. */
// eslint-disable-next-line no-control-regex
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;

function escapeValue(value: string): string {
  return value.replace(/[\\+]/g, (c) => `\\${c}`);
}

/**
 * Normalizes one subject attribute. Node gives a string, or an array when the certificate
 * repeats the attribute (`OU=a, OU=b`). Every value is escaped (`\` -> `\\`, `+` -> `\+`) and
 * the values of a repeated attribute are joined with `+` (RFC 4514's multi-value notation),
 * so `CN=a+b` reads `a\+b` and two CNs `a`, `b` read `a+b`: the two can never be confused,
 * and a repeated attribute never equals a single name. A plain name reads as itself.
 * splitSubjectValue undoes this.
 */
function subjectValue(raw: unknown): string | undefined {
  if (typeof raw === 'string') return escapeValue(raw);
  if (Array.isArray(raw) && raw.length > 0 && raw.every((v) => typeof v === 'string')) {
    return raw.map(escapeValue).join(SUBJECT_VALUE_SEPARATOR);
  }
  return undefined;
}

/** The values of one `TlsPeer.subject` entry: one for a single attribute, more when repeated. */
export function splitSubjectValue(value: string): string[] {
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    if (c === '\\' && i + 1 < value.length) {
      current += value.charAt(++i);
    } else if (c === SUBJECT_VALUE_SEPARATOR) {
      values.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  values.push(current);
  return values;
}

function subjectOf(raw: unknown): Readonly<Record<string, string>> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(raw)) {
    const normalized = subjectValue(value);
    if (normalized !== undefined) entries.push([key, normalized]);
  }
  return Object.freeze(Object.fromEntries(entries));
}

/**
 * Splits Node's `subjectaltname` (`DNS:a, IP Address:127.0.0.1, URI:"x\u002cy"`) into entries.
 * Node JSON-quotes values containing `,` or `"` (since the 2022 SAN-injection fix), so a
 * naive split on `, ` would let a certificate smuggle in a second name; this follows Node's
 * own parser (lib/tls.js splitEscapedAltNames). Returns undefined for text it cannot parse,
 * so a malformed SAN matches nothing rather than something unintended.
 */
export function parseSubjectAltNames(text: string): string[] | undefined {
  if (text === '') return [];
  const result: string[] = [];
  let token = '';
  let offset = 0;
  while (offset < text.length) {
    const nextSep = text.indexOf(', ', offset);
    const nextQuote = text.indexOf('"', offset);
    if (nextQuote !== -1 && (nextSep === -1 || nextQuote < nextSep)) {
      token += text.slice(offset, nextQuote);
      const literal = JSON_STRING.exec(text.slice(nextQuote))?.[0];
      if (literal === undefined) return undefined;
      token += JSON.parse(literal) as string;
      offset = nextQuote + literal.length;
    } else if (nextSep !== -1) {
      token += text.slice(offset, nextSep);
      result.push(token);
      token = '';
      offset = nextSep + 2;
    } else {
      token += text.slice(offset);
      offset = text.length;
    }
  }
  result.push(token);
  return result;
}

/** Node types it as Error, but sets the OpenSSL code string at run time; accept both. */
function errorText(raw: unknown): string | undefined {
  if (typeof raw === 'string' && raw !== '') return raw;
  if (raw instanceof Error) {
    const code = (raw as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : raw.message;
  }
  return undefined;
}

interface SocketLike {
  readonly authorized?: unknown;
  readonly authorizationError?: unknown;
  readonly getPeerCertificate?: unknown;
}

/**
 * The TLS peer of `socket` (an https request's `req.socket`), or undefined when the socket is
 * not a TLS socket (plain HTTP). Without a client certificate the result has only
 * `authorized: false` and Node's reason; `fingerprint256` is present exactly when a
 * certificate was presented. Subject values follow subjectValue's escaping above.
 */
export function tlsPeerOf(socket: TLSSocket | object): TlsPeer | undefined {
  const s = socket as SocketLike;
  if (typeof s.getPeerCertificate !== 'function') return undefined;
  const authorized = s.authorized === true;
  const peer: {
    authorized: boolean;
    authorizationError?: string;
    subject?: Readonly<Record<string, string>>;
    subjectAltNames?: readonly string[];
    fingerprint256?: string;
    serialNumber?: string;
  } = { authorized };
  const reason = authorized ? undefined : errorText(s.authorizationError);
  if (reason !== undefined) peer.authorizationError = reason;

  // {} without a certificate, null once the socket is destroyed.
  const cert = (s.getPeerCertificate as (detailed?: boolean) => unknown).call(socket, false);
  if (typeof cert !== 'object' || cert === null) return Object.freeze(peer);
  const { subject, subjectaltname, fingerprint256, serialNumber } = cert as Record<string, unknown>;
  const fingerprint = typeof fingerprint256 === 'string' ? fingerprint256.toUpperCase() : undefined;
  if (fingerprint === undefined || !FINGERPRINT.test(fingerprint)) return Object.freeze(peer);

  peer.fingerprint256 = fingerprint;
  const subjectRecord = subjectOf(subject);
  if (subjectRecord !== undefined) peer.subject = subjectRecord;
  if (typeof subjectaltname === 'string') {
    const names = parseSubjectAltNames(subjectaltname);
    if (names !== undefined) peer.subjectAltNames = Object.freeze(names);
  }
  if (typeof serialNumber === 'string') peer.serialNumber = serialNumber;
  return Object.freeze(peer);
}

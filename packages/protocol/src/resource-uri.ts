/**
 * The one canonical form of a resource uri. Permissions, subscriptions, completion, routing
 * and the handler all see this form, so what was authorized is exactly what runs:
 *
 * 1. percent-encoding is normalized (RFC 3986 §6.2.2.1-2): triplets of unreserved characters
 *    (`A-Z a-z 0-9 - . _ ~`) are decoded — so `%2E%2E` is `..` — and every other triplet is
 *    kept with upper-case hex digits;
 * 2. dot segments of the path are resolved (RFC 3986 §5.2.4): `files://public/a/../b` is
 *    `files://public/b`;
 * 3. what cannot be made canonical is refused: a `..` that climbs above the path's root (into
 *    the authority: `files://public/../secret`), a `.`/`..` authority, malformed `%` escapes,
 *    double encoding (`%252E`), encoded controls (`%00`), bytes that are not UTF-8, raw
 *    controls or backslashes, and a uri without a scheme.
 *
 * Encoded separators (`%2F`, `%5C`) stay encoded here: they are not path separators in a
 * uri, but a template that decodes them into a variable would hand a handler a different
 * path, so the engine refuses them in template variables unless the template allows them.
 */
import { ProtocolError } from './errors.js';

export type CanonicalUri =
  { readonly ok: true; readonly uri: string } | { readonly ok: false; readonly reason: string };

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
/** Characters no canonical uri holds raw: C0 controls, DEL, backslash. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_RAW = /[\x00-\x1f\x7f\\]/;

/** Normalizes `%XX` triplets; undefined when an escape cannot be canonical. */
function normalizeEscapes(s: string): { text: string } | { reason: string } {
  if (!s.includes('%')) return { text: s };
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = s.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) return { reason: 'malformed percent-encoding' };
    const byte = parseInt(hex, 16);
    i += 2;
    if (byte < 0x20 || byte === 0x7f) return { reason: 'encoded control character' };
    const ch = String.fromCharCode(byte);
    if (UNRESERVED.test(ch)) {
      out += ch;
    } else {
      if (byte === 0x25 && HEX2.test(s.slice(i + 1, i + 3))) {
        return { reason: 'double percent-encoding' };
      }
      out += `%${hex.toUpperCase()}`;
    }
  }
  return { text: out };
}

/** RFC 3986 §5.2.4 on a path; undefined when `..` would climb above its root. */
function removeDotSegments(path: string): string | undefined {
  if (!path.includes('.')) return path;
  const input = path.split('/');
  const absolute = path.startsWith('/');
  const floor = absolute ? 1 : 0;
  const out: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const seg = input[i] as string;
    const last = i === input.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..') {
        if (out.length <= floor) return undefined;
        out.pop();
      }
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  return absolute && !joined.startsWith('/') ? `/${joined}` : joined;
}

/** The canonical form of `uri`, or why it has none (see the module comment). */
export function canonicalResourceUri(uri: string): CanonicalUri {
  const scheme = SCHEME.exec(uri);
  if (scheme === null) return { ok: false, reason: 'no scheme' };
  if (FORBIDDEN_RAW.test(uri)) return { ok: false, reason: 'control character or backslash' };
  const escaped = normalizeEscapes(uri);
  if ('reason' in escaped) return { ok: false, reason: escaped.reason };
  const text = escaped.text;
  try {
    decodeURIComponent(text);
  } catch {
    return { ok: false, reason: 'percent-encoded bytes are not UTF-8' };
  }
  const prefix = scheme[0];
  const end = text.search(/[?#]/);
  const hier = text.slice(prefix.length, end < 0 ? text.length : end);
  const tail = end < 0 ? '' : text.slice(end);
  let authority = '';
  let path = hier;
  if (hier.startsWith('//')) {
    const slash = hier.indexOf('/', 2);
    authority = slash < 0 ? hier : hier.slice(0, slash);
    path = slash < 0 ? '' : hier.slice(slash);
    if (authority === '//.' || authority === '//..') {
      return { ok: false, reason: 'dot segment as authority' };
    }
  }
  const resolved = removeDotSegments(path);
  if (resolved === undefined) return { ok: false, reason: 'dot segments climb above the root' };
  return { ok: true, uri: `${prefix}${authority}${resolved}${tail}` };
}

/** The canonical form of `uri`; a -32602 ProtocolError naming the problem when it has none. */
export function requireCanonicalUri(uri: string): string {
  const c = canonicalResourceUri(uri);
  if (c.ok) return c.uri;
  throw ProtocolError.of('InvalidParams', `Invalid resource uri: ${c.reason}`, {
    reason: c.reason,
  });
}

/** Methods whose `params.uri` names a resource. */
const URI_METHODS: ReadonlySet<string> = new Set([
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/**
 * `params` with every resource uri it names in canonical form (`uri` of resources/read,
 * subscribe and unsubscribe; `notifications.resourceSubscriptions` of subscriptions/listen),
 * the same object when nothing changes. Throws -32602 for a uri that has no canonical form.
 */
export function canonicalResourceParams<P extends Readonly<Record<string, unknown>> | undefined>(
  method: string,
  params: P,
): P {
  if (params === undefined) return params;
  if (URI_METHODS.has(method)) {
    const uri = params['uri'];
    if (typeof uri !== 'string') return params;
    const canonical = requireCanonicalUri(uri);
    return canonical === uri ? params : { ...params, uri: canonical };
  }
  if (method === 'subscriptions/listen') {
    const n = params['notifications'];
    if (typeof n !== 'object' || n === null || Array.isArray(n)) return params;
    const subs = (n as Record<string, unknown>)['resourceSubscriptions'];
    if (!Array.isArray(subs)) return params;
    let changed = false;
    const canonical = subs.map((u: unknown) => {
      if (typeof u !== 'string') return u;
      const c = requireCanonicalUri(u);
      if (c !== u) changed = true;
      return c;
    });
    return changed
      ? { ...params, notifications: { ...n, resourceSubscriptions: canonical } }
      : params;
  }
  return params;
}

/** A `.` or `..` segment (split on `/` and `\`) in a decoded template variable. */
export function hasDotSegment(value: string): boolean {
  if (!value.includes('.')) return false;
  return value.split(/[/\\]/).some((seg) => seg === '.' || seg === '..');
}

/** Whether a canonical uri holds an encoded separator (`%2F`, `%5C`). */
export function hasEncodedSeparator(canonicalUri: string): boolean {
  return /%2F|%5C/.test(canonicalUri);
}

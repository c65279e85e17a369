/**
 * SEP-2243 routing headers of the modern HTTP wire: Mcp-Method, Mcp-Name and Mcp-Param-*.
 * They let a router route without parsing the body, so the server must reject a request
 * whose headers disagree with its body (-32020, HTTP 400). Sections 7.5 and 7.6 of
 * conformance-fixtures.md.
 */
import { ProtocolError, RpcError } from './errors.js';
import type { JsonRpcNotification, JsonRpcRequest } from './jsonrpc.js';
import { Header } from './meta.js';
import { base64DecodeStrict, base64Encode, utf8Decode, utf8Encode } from './text.js';

/** A tool input property mirrored into an `Mcp-Param-<name>` header (`x-mcp-header`). */
export interface ParamHeader {
  /** The header name as the schema declares it (e.g. "Region"). */
  readonly name: string;
  /** The lower-case full header name, precomputed ("mcp-param-region"). */
  readonly headerKey: string;
  /** The input property (key of `arguments`). */
  readonly property: string;
  readonly type: 'string' | 'integer' | 'boolean';
}

const B64_PREFIX = '=?base64?';
const B64_SUFFIX = '?=';

/** Methods whose Mcp-Name header is required, and the params key it mirrors. */
const NAME_KEY: ReadonlyMap<string, string> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
  ['tasks/get', 'taskId'],
  ['tasks/update', 'taskId'],
  ['tasks/cancel', 'taskId'],
]);

function mismatch(message: string): ProtocolError {
  return new ProtocolError(RpcError.HeaderMismatch.code, message);
}

/**
 * A header value as the sender meant it: `=?base64?<payload>?=` with a strictly valid
 * payload (length % 4 == 0, standard alphabet, <= 2 trailing '=', canonical, UTF-8) decodes;
 * anything else is literal. Undefined when the payload is valid base64 but not UTF-8.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.trim();
  if (
    value.length < B64_PREFIX.length + B64_SUFFIX.length ||
    !value.startsWith(B64_PREFIX) ||
    !value.endsWith(B64_SUFFIX)
  ) {
    return value;
  }
  const payload = value.slice(B64_PREFIX.length, value.length - B64_SUFFIX.length);
  const bytes = base64DecodeStrict(payload);
  if (bytes === undefined) return value;
  // Strict decoding already guarantees canonical form; the round trip is the spec's own test.
  if (base64Encode(bytes) !== payload) return value;
  return utf8Decode(bytes);
}

/** True when every char is visible ASCII or an inner space/tab (safe as a header value). */
function isHeaderSafe(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return true;
}

/**
 * Encodes a value for an Mcp-Name / Mcp-Param-* header: as is when header-safe, otherwise
 * (non-visible-ASCII, leading/trailing whitespace, or a literal that would read as base64)
 * as `=?base64?<UTF-8 base64>?=`.
 */
export function encodeHeaderValue(value: string): string {
  if (isHeaderSafe(value) && !(value.startsWith(B64_PREFIX) && value.endsWith(B64_SUFFIX))) {
    return value;
  }
  return B64_PREFIX + base64Encode(utf8Encode(value)) + B64_SUFFIX;
}

/** The body value as the header carries it: booleans and numbers in their JSON text form. */
function bodyText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function checkParamHeaders(
  args: unknown,
  getHeader: (lowerName: string) => string | undefined,
  paramHeaders: readonly ParamHeader[],
): void {
  const argObj =
    typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : undefined;
  for (const ph of paramHeaders) {
    const bodyValue = argObj?.[ph.property];
    const raw = getHeader(ph.headerKey);
    const bodyMissing = bodyValue === undefined || bodyValue === null;
    if (raw === undefined) {
      if (bodyMissing) continue;
      throw mismatch(`Mcp-Param-${ph.name} header is required (arguments.${ph.property} is set)`);
    }
    if (bodyMissing) {
      throw mismatch(`Mcp-Param-${ph.name} header is set but arguments.${ph.property} is not`);
    }
    const expected = bodyText(bodyValue);
    if (expected === undefined || decodeHeaderValue(raw) !== expected) {
      throw mismatch(`Mcp-Param-${ph.name} header does not match arguments.${ph.property}`);
    }
  }
}

/**
 * Checks the SEP-2243 headers of a modern HTTP request against its body; throws
 * ProtocolError -32020 (HTTP 400). Mcp-Method must equal the method (case-sensitive, after
 * trimming whitespace). Mcp-Name is required and must match for tools/call, prompts/get
 * (params.name), resources/read (params.uri) and tasks/get|update|cancel (params.taskId).
 * `paramHeaders` (the called tool's `paramHeadersOf`) are checked for tools/call only.
 * `getHeader` receives lower-case names.
 */
export function validateRoutingHeaders(
  message: JsonRpcRequest | JsonRpcNotification,
  getHeader: (lowerName: string) => string | undefined,
  paramHeaders?: readonly ParamHeader[],
): void {
  const methodHeader = getHeader(Header.Method);
  if (methodHeader === undefined) throw mismatch('Mcp-Method header is required');
  if (methodHeader.trim() !== message.method) {
    throw mismatch('Mcp-Method header does not match the request method');
  }
  const nameKey = NAME_KEY.get(message.method);
  if (nameKey !== undefined) {
    const nameHeader = getHeader(Header.Name);
    if (nameHeader === undefined) throw mismatch('Mcp-Name header is required');
    const bodyName = message.params?.[nameKey];
    if (typeof bodyName !== 'string' || decodeHeaderValue(nameHeader) !== bodyName) {
      throw mismatch(`Mcp-Name header does not match params.${nameKey}`);
    }
  }
  if (paramHeaders !== undefined && paramHeaders.length > 0 && message.method === 'tools/call') {
    checkParamHeaders(message.params?.arguments, getHeader, paramHeaders);
  }
}

/** RFC 9110 token characters, the only ones a header name may use. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The `x-mcp-header` annotations of a tool's inputSchema.properties, for properties of type
 * string, integer or boolean with a valid header-name token. Others are ignored. Compute
 * once per tool, not per request.
 */
export function paramHeadersOf(inputSchema: unknown): ParamHeader[] {
  if (typeof inputSchema !== 'object' || inputSchema === null) return [];
  const props = (inputSchema as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null) return [];
  const out: ParamHeader[] = [];
  for (const [property, schema] of Object.entries(props as Record<string, unknown>)) {
    if (typeof schema !== 'object' || schema === null) continue;
    const s = schema as Record<string, unknown>;
    const name = s['x-mcp-header'];
    const type = s.type;
    if (typeof name !== 'string' || !TOKEN.test(name)) continue;
    if (type !== 'string' && type !== 'integer' && type !== 'boolean') continue;
    out.push({ name, headerKey: Header.ParamPrefix + name.toLowerCase(), property, type });
  }
  return out;
}

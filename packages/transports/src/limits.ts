/**
 * Connection-level limits of the HTTP server (createHttpApp): concurrent connections per
 * client address, answers written straight to a socket and closed gracefully, and the
 * bounded read of a request body the server answered before reading it.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';
import { RpcError } from '@mcp-cluster/protocol';

/** How long a refused connection may keep sending before it is cut. */
export const CLIENT_ERROR_LINGER_MS = 2_000;
/** How much of a refused request is read and thrown away before the connection is cut. */
export const CLIENT_ERROR_DRAIN_BYTES = 1024 * 1024;
/**
 * Least the server reads and drops of a body it answered early (413, 401...) so the client
 * can finish sending and read the answer instead of a reset; beyond it the connection is cut.
 */
export const MIN_EARLY_ANSWER_DRAIN_BYTES = 64 * 1024 * 1024;

/** What is read of a body answered before it arrived: 4 × the body limit, at least 64 MiB. */
export function earlyAnswerDrainBytes(bodyLimitBytes: number): number {
  return Math.max(MIN_EARLY_ANSWER_DRAIN_BYTES, 4 * bodyLimitBytes);
}

/**
 * Writes a whole HTTP response on `socket` (the HTTP layer is bypassed: a parser failure,
 * a connection refused before its request), then closes gracefully: what the client is still
 * sending is read and dropped (bounded in time and bytes) so the kernel does not reset the
 * connection and throw the answer away before the client reads it.
 */
export function answerAndClose(
  socket: Socket,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  // Stop feeding whatever parser was attached; drain instead.
  socket.removeAllListeners('data');
  let drained = 0;
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > CLIENT_ERROR_DRAIN_BYTES) socket.destroy();
  });
  // A reset while lingering is the client's business, never an uncaught error here.
  socket.on('error', () => socket.destroy());
  socket.setTimeout(CLIENT_ERROR_LINGER_MS, () => socket.destroy());
  socket.resume();
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n${extra}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** An address as the connection limit counts it (`::ffff:a.b.c.d` is `a.b.c.d`). */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Whether an address is in `ranges` (addresses or CIDR ranges, IPv4 or IPv6, as the config's
 * `trustProxy` lists them). Entries that are not ranges are ignored (the config validated them).
 */
export function addressMatcher(ranges: readonly string[]): (address: string) => boolean {
  if (ranges.length === 0) return () => false;
  const list = new BlockList();
  for (const range of ranges) {
    const slash = range.indexOf('/');
    const raw = slash === -1 ? range : range.slice(0, slash);
    let prefix = slash === -1 ? undefined : Number(range.slice(slash + 1));
    let address = normalizeAddress(raw) ?? raw;
    // A mapped IPv4 range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
    if (address !== raw && prefix !== undefined) prefix -= 96;
    if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (type === undefined) continue;
    try {
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, prefix, type);
    } catch {
      // Not a range Node accepts: nothing to match.
    }
  }
  return (address) => {
    const a = normalizeAddress(address);
    if (a === undefined) return false;
    if (isIPv4(a)) return list.check(a, 'ipv4');
    return isIPv6(a) && list.check(a, 'ipv6');
  };
}

export interface ConnectionCapOptions {
  /** Connections one address may hold open at once. */
  readonly max: number;
  /** Addresses the cap does not apply to (trusted proxies: every client comes through them). */
  readonly exempt?: (address: string) => boolean;
  /** Called once per refused connection (for a log line). */
  readonly onRefused?: (address: string) => void;
}

/** The body of a connection refused for its address's connection count. */
export function tooManyConnectionsBody(max: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: {
      code: RpcError.Unavailable.code,
      message: `Too many connections from this address (maxConnectionsPerAddress: ${max})`,
    },
  });
}

/**
 * Caps the connections each client address holds open at once on `server`: the HTTP layer's
 * own connection listeners (on `event`: `connection`, or `secureConnection` for HTTPS, after
 * the handshake) only see connections under the cap; one over it is answered 503 (JSON-RPC
 * -32016, `Retry-After: 1`, `Connection: close`) and closed gracefully. A connection frees
 * its place when it closes. Returns the live count per address (for tests).
 */
export function capConnectionsPerAddress(
  server: Server,
  event: 'connection' | 'secureConnection',
  options: ConnectionCapOptions,
): ReadonlyMap<string, number> {
  const counts = new Map<string, number>();
  const listeners = server.listeners(event) as ((socket: Socket) => void)[];
  server.removeAllListeners(event);
  const body = tooManyConnectionsBody(options.max);
  server.on(event, (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress);
    if (address !== undefined && options.exempt?.(address) !== true) {
      const open = counts.get(address) ?? 0;
      if (open >= options.max) {
        options.onRefused?.(address);
        answerAndClose(socket, 503, body, { 'Retry-After': '1' });
        return;
      }
      counts.set(address, open + 1);
      socket.once('close', () => {
        const left = (counts.get(address) ?? 1) - 1;
        if (left <= 0) counts.delete(address);
        else counts.set(address, left);
      });
    }
    for (const listener of listeners) listener.call(server, socket);
  });
  return counts;
}

/**
 * Reads and drops the rest of a request body the server answered before reading it (413 on
 * the declared length, a refusal before the body): the client can finish sending and read the
 * answer instead of a connection reset. Past `maxBytes` the connection is cut; the server's
 * request timeout bounds how long it may take. The connection stays usable afterwards.
 */
export function drainRequest(req: IncomingMessage, maxBytes: number): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) req.socket.destroy();
  });
  req.on('error', () => req.socket.destroy());
  req.resume();
}

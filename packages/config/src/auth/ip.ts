/**
 * IPv4/IPv6 addresses and CIDR ranges as configuration writes them (`trustProxy`, cidr
 * policies), without dependencies. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as a
 * dual-stack socket reports an IPv4 client) is the IPv4 address, and a mapped range with a
 * prefix of at least 96 bits is the IPv4 range it maps: a policy written `10.0.0.0/8` holds
 * whatever form the socket reports. Matching lives with the policies (@mcp-cluster/security).
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface CidrRange extends IpAddress {
  readonly prefix: number;
  /** As written in configuration. */
  readonly source: string;
}
function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  // isIPv6 validated the syntax: at most one `::`, hex groups, maybe a dotted IPv4 tail.
  const bytes = new Uint8Array(16);
  const [head = '', tail] = text.split('::');
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = ipv4Bytes(group);
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isMapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/**
 * Parses an address as a socket reports it: IPv4, IPv6 (a `%zone` suffix is dropped), or
 * IPv4-mapped IPv6 (returned as IPv4). Undefined for anything else.
 */
export function parseIp(text: string): IpAddress | undefined {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return { family: 4, bytes: ipv4Bytes(trimmed) };
  const zone = trimmed.indexOf('%');
  const bare = zone === -1 ? trimmed : trimmed.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6Bytes(bare);
  return isMapped(bytes) ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
}

/**
 * Parses `address/prefix` or a single address (a /32 or /128). Host bits past the prefix are
 * ignored (`10.0.0.1/8` is `10.0.0.0/8`). Undefined when malformed (zones are refused here).
 */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  if (addressText.includes('%') || addressText.trim() !== addressText) return undefined;
  const address = parseIp(addressText);
  if (address === undefined) return undefined;
  const written = isIPv4(addressText) ? 32 : 128;
  let prefix = written;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > written) return undefined;
  }
  if (written === 128 && address.family === 4) {
    // A mapped range: below 96 bits it would cover non-mapped IPv6 addresses too.
    if (prefix < 96) return undefined;
    prefix -= 96;
  }
  return { ...address, prefix, source: text };
}

/**
 * CIDR matching of client addresses. Parsing (`parseIp`, `parseCidr`: IPv4, IPv6, and
 * IPv4-mapped IPv6 as the IPv4 address) is the configuration's, which checks `trustProxy` and
 * cidr policies at load time. IPv4 ranges match IPv4 addresses only and IPv6 ranges IPv6
 * addresses only (`::/0` is not every IPv4 client).
 */
import type { CidrRange, IpAddress } from '@mcp-cluster/config';

export type { CidrRange, IpAddress } from '@mcp-cluster/config';
/** Parsing is the configuration's (it checks `trustProxy` and cidr policies at load time). */
export { parseCidr, parseIp } from '@mcp-cluster/config';

export function cidrContains(range: CidrRange, address: IpAddress): boolean {
  if (range.family !== address.family) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (range.bytes[i] !== address.bytes[i]) return false;
  const bits = range.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((range.bytes[full] ?? 0) & mask) === ((address.bytes[full] ?? 0) & mask);
}

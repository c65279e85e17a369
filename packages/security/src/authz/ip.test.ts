import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseIp } from './ip.js';

function contains(cidr: string, address: string): boolean {
  const range = parseCidr(cidr);
  const ip = parseIp(address);
  if (range === undefined || ip === undefined) throw new Error(`bad fixture ${cidr} ${address}`);
  return cidrContains(range, ip);
}

describe('parseIp', () => {
  it('parses IPv4, IPv6, zones and IPv4-mapped IPv6 (as IPv4)', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, bytes: Uint8Array.from([10, 1, 2, 3]) });
    expect(parseIp('::1')?.family).toBe(6);
    expect(parseIp('::1')?.bytes.at(15)).toBe(1);
    expect(parseIp('fe80::1%eth0')?.bytes.slice(0, 2)).toEqual(Uint8Array.from([0xfe, 0x80]));
    expect(parseIp('::ffff:1.2.3.4')).toEqual({ family: 4, bytes: Uint8Array.from([1, 2, 3, 4]) });
    expect(parseIp('::FFFF:0102:0304')).toEqual({
      family: 4,
      bytes: Uint8Array.from([1, 2, 3, 4]),
    });
    expect(parseIp('2001:db8::ffff:1.2.3.4')?.family).toBe(6);
  });

  it('expands :: anywhere', () => {
    expect([...(parseIp('2001:db8::1')?.bytes ?? [])]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    expect([...(parseIp('1::')?.bytes ?? [])]).toEqual([0, 1, ...new Array<number>(14).fill(0)]);
    expect([...(parseIp('1:2:3:4:5:6:7:8')?.bytes ?? [])]).toEqual([
      0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8,
    ]);
  });

  it.each(['', 'garbage', '1.2.3', '256.1.1.1', '010.0.0.1', '1::2::3', 'localhost'])(
    'refuses %j',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('parseCidr', () => {
  it('parses ranges and single addresses', () => {
    expect(parseCidr('10.0.0.0/8')?.prefix).toBe(8);
    expect(parseCidr('10.0.0.1')?.prefix).toBe(32);
    expect(parseCidr('2001:db8::/32')?.prefix).toBe(32);
    expect(parseCidr('::1')?.prefix).toBe(128);
    expect(parseCidr('0.0.0.0/0')?.prefix).toBe(0);
  });

  it('turns mapped ranges into IPv4 ranges and refuses mapped prefixes below 96', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr('::ffff:10.0.0.1')).toMatchObject({ family: 4, prefix: 32 });
    expect(parseCidr('::ffff:0.0.0.0/95')).toBeUndefined();
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', 'fe80::1%eth0/64'])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});

describe('cidrContains', () => {
  it('matches IPv4 ranges on prefix boundaries', () => {
    expect(contains('10.0.0.0/8', '10.255.255.255')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(contains('192.168.1.128/25', '192.168.1.200')).toBe(true);
    expect(contains('192.168.1.128/25', '192.168.1.127')).toBe(false);
    expect(contains('10.0.0.1/8', '10.9.9.9')).toBe(true);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9', '203.0.113.8')).toBe(false);
  });

  it('matches IPv6 ranges', () => {
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains('2001:db8::/33', '2001:db8:7fff::1')).toBe(true);
    expect(contains('2001:db8::/33', '2001:db8:8000::1')).toBe(false);
    expect(contains('::/0', '2001:db8::1')).toBe(true);
    expect(contains('fe80::/10', 'fe80::1%eth0')).toBe(true);
  });

  it('treats IPv4-mapped clients as IPv4, and keeps the families apart otherwise', () => {
    expect(contains('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '10.1.2.3')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '::ffff:10.1.2.3')).toBe(true);
    expect(contains('::/0', '10.1.2.3')).toBe(false);
    expect(contains('::/0', '::ffff:10.1.2.3')).toBe(false);
    expect(contains('0.0.0.0/0', '::1')).toBe(false);
  });
});

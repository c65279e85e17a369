import { describe, expect, it } from 'vitest';
import { checkHostAndOrigin, hostnameOf, originHostnameOf } from './security.js';

const loopback = {
  allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
  allowedOrigins: ['localhost', '127.0.0.1', '[::1]'],
};

describe('Host/Origin policy', () => {
  it('parses hostnames without ports, IPv6 included', () => {
    expect(hostnameOf('LocalHost:3000')).toBe('localhost');
    expect(hostnameOf('[::1]:8080')).toBe('[::1]');
    expect(originHostnameOf('http://[::1]:3000')).toBe('[::1]');
    expect(originHostnameOf('null')).toBeUndefined();
  });

  it('allows loopback on any port and refuses the rest', () => {
    expect(checkHostAndOrigin(loopback, '127.0.0.1:1', 'https://localhost:9')).toBeUndefined();
    expect(checkHostAndOrigin(loopback, undefined, undefined)).toBe('Host not allowed');
    expect(checkHostAndOrigin(loopback, 'evil.example.com', undefined)).toBe('Host not allowed');
    expect(checkHostAndOrigin(loopback, 'localhost', 'http://evil.example.com')).toBe(
      'Origin not allowed',
    );
    expect(checkHostAndOrigin(loopback, 'localhost', 'null')).toBe('Origin not allowed');
  });

  it('"*" opens a list', () => {
    const open = { allowedHosts: ['*'], allowedOrigins: ['*'] };
    expect(checkHostAndOrigin(open, 'anything', 'http://else')).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki, type IssuedCert } from './certs.testkit.js';
import {
  DEFAULT_TLS_MIN_VERSION,
  TlsConfigError,
  TlsConfigSchema,
  tlsServerOptions,
  type TlsConfig,
} from './options.js';

const pki = new TestPki();
let ca: IssuedCert;
let server: IssuedCert;
let other: IssuedCert;

beforeAll(() => {
  ca = pki.ca('ca');
  server = pki.issue(ca, 'server', { subject: '/CN=localhost', usage: 'server' });
  other = pki.issue(ca, 'other', { subject: '/CN=other', usage: 'server' });
});
afterAll(() => pki.remove());

function thrown(config: TlsConfig): TlsConfigError {
  try {
    tlsServerOptions(config);
  } catch (err) {
    expect(err).toBeInstanceOf(TlsConfigError);
    return err as TlsConfigError;
  }
  throw new Error('tlsServerOptions did not throw');
}

describe('tlsServerOptions', () => {
  it('asks for client certificates when a CA is given, without requiring them', () => {
    const options = tlsServerOptions({
      certFile: server.certFile,
      keyFile: server.keyFile,
      caFile: ca.certFile,
    });
    expect(options).toMatchObject({
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: DEFAULT_TLS_MIN_VERSION,
    });
    expect(options.cert).toEqual(Buffer.from(server.cert));
    expect(options.key).toEqual(Buffer.from(server.key));
    expect(options.ca).toEqual(Buffer.from(ca.cert));
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('requires client certificates and a minimum version when told', () => {
    const base = { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile };
    expect(
      tlsServerOptions({ ...base, requireClientCert: true, minVersion: 'TLSv1.3' }),
    ).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    expect(tlsServerOptions({ ...base, requestClientCert: false })).toMatchObject({
      requestCert: false,
      rejectUnauthorized: false,
    });
  });

  it('serves TLS only without a CA', () => {
    const options = tlsServerOptions({ certFile: server.certFile, keyFile: server.keyFile });
    expect(options).toMatchObject({ requestCert: false, rejectUnauthorized: false });
    expect(options.ca).toBeUndefined();
  });

  it('refuses client certificates without a CA (the public roots would be trusted)', () => {
    const files = { certFile: server.certFile, keyFile: server.keyFile };
    expect(thrown({ ...files, requestClientCert: true }).message).toMatch(/needs caFile/);
    expect(thrown({ ...files, requireClientCert: true }).message).toMatch(/needs caFile/);
    expect(
      thrown({ ...files, caFile: ca.certFile, requireClientCert: true, requestClientCert: false })
        .message,
    ).toMatch(/contradicts/);
    expect(thrown({ ...files, minVersion: 'TLSv1' as 'TLSv1.2' }).message).toMatch(/minVersion/);
  });

  it('names the file it cannot read, with the system code and cause', () => {
    const missing = `${pki.dir}/missing.pem`;
    const error = thrown({ certFile: missing, keyFile: server.keyFile });
    expect(error.message).toBe(`TLS certFile ${JSON.stringify(missing)}: cannot read (ENOENT)`);
    expect(error.file).toBe(missing);
    expect(error.name).toBe('TlsConfigError');
    expect((error.cause as { code?: string }).code).toBe('ENOENT');
  });

  it('adds the revocation list when a CRL file is given, and refuses one without a CRL', () => {
    const files = { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile };
    const crlFile = pki.crl(ca, 'ca', [other]);
    const options = tlsServerOptions({ ...files, crlFile });
    expect(String(options.crl)).toMatch(/^-----BEGIN X509 CRL-----/);
    // A certificate file given as the CRL must not silently turn revocation off.
    const error = thrown({ ...files, crlFile: ca.certFile });
    expect(error.message).toMatch(/crlFile .*: no PEM X509 CRL/);
    expect(error.file).toBe(ca.certFile);
    expect(thrown({ certFile: server.certFile, keyFile: server.keyFile, crlFile }).message).toMatch(
      /crlFile needs caFile/,
    );
  });

  it('refuses files that are not what they should be, never echoing their content', () => {
    const secret = pki.write('secret.txt', 'SECRET-CONTENT-1234\n');
    const files = { certFile: server.certFile, keyFile: server.keyFile };
    const cases: [TlsConfig, string, RegExp][] = [
      [{ ...files, certFile: secret }, secret, /certFile .*: no PEM certificate/],
      [{ ...files, keyFile: secret }, secret, /keyFile .*: not an unencrypted PEM private key/],
      [{ ...files, caFile: secret }, secret, /caFile .*: no PEM certificate/],
      // The key of another certificate.
      [{ ...files, keyFile: other.keyFile }, other.keyFile, /does not match the certificate/],
      // A key where the certificate should be.
      [{ ...files, certFile: server.keyFile }, server.keyFile, /certFile .*: no PEM certificate/],
    ];
    for (const [config, file, message] of cases) {
      const error = thrown(config);
      expect(error.message).toMatch(message);
      expect(error.file).toBe(file);
      expect(error.message).not.toContain('SECRET-CONTENT');
      expect(error.message).not.toContain('PRIVATE KEY');
    }
    const corrupt = pki.write(
      'corrupt.pem',
      '-----BEGIN CERTIFICATE-----\nU0VDUkVULUNPTlRFTlQ=\n-----END CERTIFICATE-----\n',
    );
    const error = thrown({ ...files, caFile: corrupt });
    expect(error.message).toMatch(/caFile .*: certificate #1 does not parse/);
    expect(error.message).not.toContain('U0VDUkVU');
  });
});

describe('TlsConfigSchema', () => {
  it('accepts the JSON form without filling defaults', () => {
    const input = { certFile: '/etc/tls/server.crt', keyFile: '/etc/tls/server.key' };
    expect(TlsConfigSchema.parse(input)).toEqual(input);
    const full = {
      ...input,
      caFile: '/etc/tls/ca.crt',
      requireClientCert: true,
      minVersion: 'TLSv1.3',
    };
    expect(TlsConfigSchema.parse(full)).toEqual(full);
  });

  it('refuses unknown keys, wrong types and inconsistent client-certificate settings', () => {
    const files = { certFile: '/a', keyFile: '/b' };
    for (const input of [
      {},
      { ...files, certFile: ' ' },
      { ...files, extra: 1 },
      { ...files, minVersion: 'TLSv1.1' },
      { ...files, requireClientCert: 'yes' },
      { ...files, requestClientCert: true },
      { ...files, caFile: '/c', requireClientCert: true, requestClientCert: false },
      { ...files, crlFile: '/d' },
    ]) {
      expect(TlsConfigSchema.safeParse(input).success, JSON.stringify(input)).toBe(false);
    }
    const result = TlsConfigSchema.safeParse({ ...files, requireClientCert: true });
    expect(result.error?.issues.map((i) => i.message)).toEqual(['requireClientCert needs caFile']);
  });
});

/**
 * A throw-away PKI for tests, made with the openssl CLI in a temp directory: CAs and
 * certificates they sign (EC P-256, valid one day). Only for tests; nothing here is exported
 * from the package.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface CertRequest {
  /** openssl -subj form, e.g. `/O=acme/CN=worker-1` (escape `+` as `\+`). */
  readonly subject: string;
  readonly usage: 'server' | 'client';
  /** openssl config form: `DNS:localhost`, `IP:127.0.0.1`, `URI:spiffe://x/y`. */
  readonly san?: readonly string[];
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'mcp-mtls-'));
  private serial = 1;

  private openssl(args: readonly string[]): void {
    execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private issued(name: string): IssuedCert {
    const certFile = this.file(`${name}.crt`);
    const keyFile = this.file(`${name}.key`);
    return {
      certFile,
      keyFile,
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
    };
  }

  private config(name: string, body: string): string {
    const path = this.file(`${name}.cnf`);
    writeFileSync(path, `[req]\ndistinguished_name = dn\n[dn]\n${body}`);
    return path;
  }

  private newKey(name: string): string {
    const keyFile = this.file(`${name}.key`);
    this.openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      keyFile,
    ]);
    return keyFile;
  }

  /** A self-signed CA named `name`. */
  ca(name: string): IssuedCert {
    const keyFile = this.newKey(name);
    const cnf = this.config(
      name,
      '[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n' +
        'subjectKeyIdentifier = hash\n',
    );
    this.openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      `/CN=${name}`,
      '-days',
      '1',
      '-config',
      cnf,
      '-extensions',
      'ext',
      '-out',
      this.file(`${name}.crt`),
    ]);
    return this.issued(name);
  }

  /** A leaf certificate `name` signed by `ca`. */
  issue(ca: IssuedCert, name: string, request: CertRequest): IssuedCert {
    const keyFile = this.newKey(name);
    const san = request.san ?? [];
    const cnf = this.config(
      name,
      [
        '[ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `extendedKeyUsage = ${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        'authorityKeyIdentifier = keyid',
        ...(san.length === 0 ? [] : ['subjectAltName = @alt', '[alt]']),
        ...san.map((entry, i) => {
          const colon = entry.indexOf(':');
          return `${entry.slice(0, colon)}.${i + 1} = ${entry.slice(colon + 1)}`;
        }),
        '',
      ].join('\n'),
    );
    const csr = this.file(`${name}.csr`);
    this.openssl([
      'req',
      '-new',
      '-key',
      keyFile,
      '-subj',
      request.subject,
      '-config',
      cnf,
      '-out',
      csr,
    ]);
    this.openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      String(this.serial++),
      '-days',
      '1',
      '-extfile',
      cnf,
      '-extensions',
      'ext',
      '-out',
      this.file(`${name}.crt`),
    ]);
    return this.issued(name);
  }

  /**
   * A PEM CRL file from `ca` revoking `revoked` (none: a current, empty CRL), via
   * `openssl ca` with a throw-away database.
   */
  crl(ca: IssuedCert, name: string, revoked: readonly IssuedCert[] = []): string {
    const database = this.file(`${name}.index`);
    writeFileSync(database, '');
    const cnf = this.file(`${name}.ca.cnf`);
    writeFileSync(
      cnf,
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${database}\ndefault_md = sha256\n` +
        `default_crl_days = 1\ncertificate = ${ca.certFile}\nprivate_key = ${ca.keyFile}\n`,
    );
    for (const cert of revoked) this.openssl(['ca', '-config', cnf, '-revoke', cert.certFile]);
    const out = this.file(`${name}.crl.pem`);
    this.openssl(['ca', '-config', cnf, '-gencrl', '-out', out]);
    return out;
  }

  /** Writes an arbitrary file into the PKI directory (for malformed-input tests). */
  write(name: string, content: string): string {
    const path = this.file(name);
    writeFileSync(path, content);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

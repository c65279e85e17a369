/**
 * TLS for the gateway's listener: PEM files from configuration -> node `https.ServerOptions`,
 * checked at boot so a wrong path or a mismatched key fails with a message naming the file,
 * not with an OpenSSL error on the first connection.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import {
  DEFAULT_TLS_MIN_VERSION,
  TLS_MIN_VERSIONS,
  type TlsConfig,
  tlsConfigProblems,
} from '@mcp-cluster/config';

/** The configuration's (it validates `tls` at load time); the files are read here, at boot. */
export type { TlsConfig, TlsMinVersion } from '@mcp-cluster/config';
export { DEFAULT_TLS_MIN_VERSION, TLS_MIN_VERSIONS, TlsConfigSchema } from '@mcp-cluster/config';

/**
 * Default of requireClientCert. With `false` a client without an acceptable certificate
 * still completes the handshake, so mtlsProvider can answer it with a JSON 401 (and a
 * client with a Bearer token but no certificate can still be served by a chained provider);
 * with `true` the connection ends before HTTP, which clients report poorly: no certificate
 * gets a TLS `certificate required` alert, an untrusted one a bare close right after the
 * handshake (Node verifies then and destroys the socket), seen as ECONNRESET.
 */
export const DEFAULT_REQUIRE_CLIENT_CERT = false;

/** A TLS configuration that cannot be used; names the file, never shows its content. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
  /** The configured path at fault, when one is. */
  readonly file?: string;

  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.file !== undefined) this.file = options.file;
  }
}

type Field = 'certFile' | 'keyFile' | 'caFile' | 'crlFile';

function read(field: Field, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : 'unreadable';
    throw new TlsConfigError(`TLS ${field} ${JSON.stringify(file)}: cannot read (${why})`, {
      cause,
      file,
    });
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate in the file; throws when there is none or one does not parse. */
function certificates(field: Field, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TlsConfigError(`TLS ${field} ${JSON.stringify(file)}: no PEM certificate`, {
      file,
    });
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw new TlsConfigError(
        `TLS ${field} ${JSON.stringify(file)}: certificate #${index + 1} does not parse`,
        { cause, file },
      );
    }
  });
}

const PEM_CRL = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** The PEM CRLs of the file; throws when there is none (a typo must not disable revocation). */
function revocationLists(file: string): Buffer {
  const pem = read('crlFile', file);
  if ((pem.toString('latin1').match(PEM_CRL) ?? []).length === 0) {
    throw new TlsConfigError(`TLS crlFile ${JSON.stringify(file)}: no PEM X509 CRL`, { file });
  }
  return pem;
}

function privateKey(file: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (cause) {
    throw new TlsConfigError(
      `TLS keyFile ${JSON.stringify(file)}: not an unencrypted PEM private key`,
      { cause, file },
    );
  }
}

/**
 * Reads the files (synchronously: this runs once at boot) and returns options for
 * `https.createServer` / fastify's `https`. With a CA:
 *
 * - `requestCert: true` — the server asks for a client certificate and verifies it against
 *   the CA file only; the result reaches the provider as `TlsPeer.authorized`.
 * - `rejectUnauthorized: requireClientCert`. Left false (the default), an untrusted or
 *   missing certificate still completes the handshake: mtlsProvider then answers 401 with a
 *   JSON body (or another provider authenticates the request), which is friendlier and
 *   easier to diagnose than what a client gets with `true` (a TLS alert, or for an untrusted
 *   certificate a connection reset just after the handshake). `true` keeps clients without a
 *   trusted certificate from reaching HTTP at all.
 *
 * Throws TlsConfigError for an inconsistent configuration, an unreadable file, a file that
 * is not PEM, or a key that does not belong to the certificate.
 */
export function tlsServerOptions(config: TlsConfig): Readonly<ServerOptions> {
  const problems = tlsConfigProblems(config);
  if (problems.length > 0) throw new TlsConfigError(`TLS: ${problems.join('; ')}`);
  const minVersion = config.minVersion ?? DEFAULT_TLS_MIN_VERSION;
  if (!(TLS_MIN_VERSIONS as readonly string[]).includes(minVersion)) {
    throw new TlsConfigError(`TLS: minVersion must be one of ${TLS_MIN_VERSIONS.join(', ')}`);
  }

  const cert = read('certFile', config.certFile);
  const [leaf] = certificates('certFile', config.certFile, cert);
  const key = read('keyFile', config.keyFile);
  if (leaf === undefined || !leaf.checkPrivateKey(privateKey(config.keyFile, key))) {
    throw new TlsConfigError(
      `TLS keyFile ${JSON.stringify(config.keyFile)}: does not match the certificate in ${JSON.stringify(config.certFile)}`,
      { file: config.keyFile },
    );
  }

  if (config.caFile === undefined) {
    return Object.freeze({ cert, key, minVersion, requestCert: false, rejectUnauthorized: false });
  }
  const ca = read('caFile', config.caFile);
  certificates('caFile', config.caFile, ca);
  const requestCert = config.requestClientCert ?? true;
  const rejectUnauthorized =
    requestCert && (config.requireClientCert ?? DEFAULT_REQUIRE_CLIENT_CERT);
  const options = { cert, key, ca, minVersion, requestCert, rejectUnauthorized };
  if (config.crlFile === undefined) return Object.freeze(options);
  return Object.freeze({ ...options, crl: revocationLists(config.crlFile) });
}

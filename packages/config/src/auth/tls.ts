/**
 * TLS of the node's listener as configuration writes it: PEM file paths and options. Reading
 * the files and checking the key against the certificate happen at boot
 * (@mcp-cluster/security tlsServerOptions), so a wrong path fails with a message naming it.
 */
import { z } from 'zod';

export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];
/** TLS 1.0/1.1 are deprecated (RFC 8996); 1.2 still serves older clients. */
export const DEFAULT_TLS_MIN_VERSION: TlsMinVersion = 'TLSv1.2';

export interface TlsConfig {
  /** PEM server certificate, optionally followed by its intermediates. */
  readonly certFile: string;
  /** PEM private key of certFile, unencrypted (PKCS#8, PKCS#1 or SEC1). */
  readonly keyFile: string;
  /**
   * PEM CA certificate(s) client certificates must chain to. They replace Node's public
   * root store for client verification: without a CA file any publicly issued certificate
   * would verify, so asking for client certificates requires one.
   */
  readonly caFile?: string;
  /** Ask clients for a certificate. Default: true when caFile is set, else false. */
  readonly requestClientCert?: boolean;
  /** Refuse the handshake without a trusted certificate. Default false (security's DEFAULT_REQUIRE_CLIENT_CERT). */
  readonly requireClientCert?: boolean;
  /** Default DEFAULT_TLS_MIN_VERSION. */
  readonly minVersion?: TlsMinVersion;
  /**
   * PEM certificate revocation list(s) for client certificates. With one, OpenSSL checks
   * revocation for every certificate of a client's chain, so the file needs a current CRL
   * from each CA in caFile; a revoked certificate is refused like an untrusted one. Read at
   * boot: reload (restart) the process when a new CRL is published.
   */
  readonly crlFile?: string;
}

/** Problems no file read can fix; shared by TlsConfigSchema and security's tlsServerOptions. */
export function tlsConfigProblems(config: Partial<TlsConfig>): string[] {
  const problems: string[] = [];
  const hasCa = config.caFile !== undefined;
  if (config.requestClientCert === true && !hasCa) {
    problems.push('requestClientCert needs caFile (else any public CA would be trusted)');
  }
  if (config.requireClientCert === true && !hasCa) {
    problems.push('requireClientCert needs caFile');
  }
  if (config.requireClientCert === true && config.requestClientCert === false) {
    problems.push('requireClientCert contradicts requestClientCert: false');
  }
  if (config.crlFile !== undefined && !hasCa) {
    problems.push('crlFile needs caFile (it revokes client certificates)');
  }
  return problems;
}

const path = z.string().trim().min(1);

/**
 * The JSON shape of TlsConfig, for the config package. No defaults are filled in (an absent
 * field keeps its meaning, e.g. requestClientCert follows caFile); tlsServerOptions applies them.
 */
export const TlsConfigSchema = z
  .strictObject({
    certFile: path,
    keyFile: path,
    caFile: path.optional(),
    requestClientCert: z.boolean().optional(),
    requireClientCert: z.boolean().optional(),
    minVersion: z.enum(TLS_MIN_VERSIONS).optional(),
    crlFile: path.optional(),
  })
  .superRefine((config, ctx) => {
    for (const message of tlsConfigProblems(config)) ctx.addIssue({ code: 'custom', message });
  });

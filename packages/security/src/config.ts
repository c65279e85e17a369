/**
 * The `auth` section of a node's configuration and its defaults, under the names this
 * package has always offered. The schema is @mcp-cluster/config's (it validates the whole
 * file at load time); this subpath (`@mcp-cluster/security/config`) re-exports it.
 */
import type { TlsConfigSchema } from '@mcp-cluster/config';
import type { z } from 'zod';

export type { AuthConfig, AuthConfigInput } from '@mcp-cluster/config';
export {
  AuthConfigSchema,
  CidrSchema,
  DEFAULT_MAX_STREAMS_PER_PRINCIPAL,
  DEFAULT_REVALIDATE_STREAMS_MS,
  MAX_REVALIDATE_STREAMS_MS,
  MIN_REVALIDATE_STREAMS_MS,
  TlsConfigSchema,
} from '@mcp-cluster/config';
/** The parsed `tls` section. */
export type TlsConfig = z.output<typeof TlsConfigSchema>;

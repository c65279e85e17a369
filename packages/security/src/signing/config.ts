/**
 * JSON-friendly configuration of request signing. The schema is the configuration's
 * (@mcp-cluster/config validates `auth.signing` at load time); its output spreads into
 * createRequestVerifier: `createRequestVerifier({ ...config, nonces })`.
 */
export type { SigningConfig, SigningConfigInput } from '@mcp-cluster/config';
export {
  MAX_SIGNATURE_TOLERANCE_MS,
  MIN_SIGNATURE_TOLERANCE_MS,
  SigningConfigSchema,
} from '@mcp-cluster/config';

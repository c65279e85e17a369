/**
 * Principal ids are namespaced by the provider that authenticated them (`static:ops`,
 * `jwt:<iss>#ops`). The naming rules belong to the configuration, which checks every
 * principal it names at load time; providers build ids with the same functions.
 */
export type { PrincipalProvider } from '@mcp-cluster/config';
export {
  ANONYMOUS_PRINCIPAL_ID,
  MTLS_CN_SEGMENT,
  PRINCIPAL_PROVIDERS,
  principalId,
  principalReferenceProblem,
  providerOf,
} from '@mcp-cluster/config';

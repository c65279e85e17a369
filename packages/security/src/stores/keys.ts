/**
 * The security stores' Redis keys and lifetimes live in the cluster's one key module
 * (@mcp-cluster/cluster keys.ts), imported by its own subpath: the cluster's index loads the
 * Redis and NATS clients, which a node without Redis never needs.
 */
export type { SecurityKeys } from '@mcp-cluster/cluster/keys';
export {
  LOCKOUT_DURATION_MS,
  LOCKOUT_MAX_CONCURRENT,
  LOCKOUT_MAX_FAILURES,
  LOCKOUT_RESERVATION_MS,
  LOCKOUT_WINDOW_MS,
  MAX_VERBATIM_KEY_PART,
  RATE_LIMIT_IDLE_SLACK_MS,
  keyPart,
  securityKeys,
} from '@mcp-cluster/cluster/keys';

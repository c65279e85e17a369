export type { Config, ConfigInput, LogLevel } from './config.js';
export {
  ConfigError,
  ConfigSchema,
  DEFAULT_ALLOWED_HOSTS,
  DEFAULT_CLUSTER_PREFIX,
  DEFAULT_DISPATCH_TIMEOUT_MS,
  DEFAULT_DRAIN_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_STRATEGY,
  DEFAULT_ALLOWED_ORIGINS,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_EVENT_LOG,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_PATH,
  DEFAULT_PORT,
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_VERSION,
  DEFAULT_SESSION_IDLE_MS,
  DEFAULT_SSE_RETRY_MS,
  LOG_LEVELS,
  resolveConfig,
  requireCluster,
} from './config.js';
export type { LoadOptions } from './load.js';
export { CONFIG_FILE_ENV, ENV_VARS, configFromEnv, configFromFile, loadConfig } from './load.js';

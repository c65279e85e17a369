export type { SchemaCheck, SchemaRevision, ValidateOptions } from './schema.js';
export {
  SCHEMA_REVISIONS,
  expectValidMessage,
  schemaDir,
  schemaRevisionFor,
  validateAgainstSchema,
} from './schema.js';
export type { RecordedMessage, RecordedViolation } from './recording.js';
export { RecordingTransport, recordTransport } from './recording.js';
export type { McpHttpResponse, ModernRequestOptions, ReadOptions } from './http.js';
export {
  DEFAULT_CLIENT_CAPABILITIES,
  DEFAULT_CLIENT_INFO,
  MODERN_VERSION,
  findResponse,
  modernRequest,
  postMcp,
  readMcpResponse,
} from './http.js';
export type { TestServer } from './embedded.js';
export { CLI_MAIN, REPO_ROOT, cliStdioParams, startTestServer } from './embedded.js';
export type { EnsureServicesOptions, TestServices } from './services.js';
export { ServiceUnavailableError, ensureServices } from './services.js';
export type { Requirement, RequirementId } from './requirements.js';
export { REQUIREMENTS, verifies } from './requirements.js';

export type {
  Engine,
  EngineOptions,
  LegacySession,
  LegacySessionState,
  MessageEngine,
  MessageSink,
  SessionManager,
  StateKey,
} from './api.js';
export type {
  ComponentPack,
  ComponentSpec,
  Completer,
  CompletionContext,
  CompletionListMethod,
  Leadership,
  MethodSpec,
  PackHost,
  PackStop,
  PromptReturn,
  PromptSpec,
  ResourceReturn,
  ResourceSpec,
  ResourceTemplateSpec,
  ToolReturn,
  ToolSpec,
  Validation,
} from './components.js';
export type {
  Caller,
  ChangeEvent,
  Era,
  HandlerContext,
  Outbound,
  Principal,
  RequestContext,
} from './context.js';
export { ANONYMOUS, ANONYMOUS_CALLER } from './context.js';
export type { ChangeFeed, ChangeListener } from './changes.js';
export { createMemoryChangeFeed } from './changes.js';
export { ALWAYS_LEADER } from './leadership.js';
export type { LocalEngine } from './engine.js';
export type { ListFilter } from './list-filter.js';
export { listFilterOf, setListFilter } from './list-filter.js';
export type { MemorySession, MemorySessionManager, StoredSessionState } from './sessions.js';
export type { SessionLimit, SessionLimits } from './sessions.js';
export { DEFAULT_SESSION_LIMITS, legacySessionState, sessionLimitError } from './sessions.js';
export { changeNotification } from './listen.js';
export {
  DEFAULT_ENGINE_OPTIONS,
  LEGACY_ONLY_METHODS,
  canonicalRequest,
  createEngine,
  isCancelledResponse,
} from './engine.js';
export type { Middleware, Next, ParamsValidator, Stage } from './pipeline.js';
export { STAGES } from './pipeline.js';
export type { ComponentCounts, ComponentRegistry } from './registry.js';
export { RegistryError, countComponents } from './registry.js';
export type { ModernRequestMeta, RequestExtras } from './request-context.js';
export {
  abortSourceOf,
  legacyRequestContext,
  modernOutbound,
  modernRequestContext,
} from './request-context.js';
export { RequestAbort } from './inflight.js';
export type { AbortSource } from './inflight.js';
export { ToolError } from './tool-error.js';
export type { Sampler, SamplerRequest } from './sampler.js';
export { samplesOnServer } from './sampler.js';
export { messageText, relayedAs } from './wire-text.js';
export type { EngineLog, RequestSummary } from './request-log.js';
export { componentOf, engineLogHooks, errorLogFields } from './request-log.js';
export { decodeCursor, encodeCursor } from './cursor.js';
export type { TaskHost, TaskJob, TaskPort, TaskRun } from './tasks/api.js';
export type { MemoryTaskHostOptions } from './tasks/index.js';
export { createMemoryTaskHost } from './tasks/index.js';
export type {
  ResolvedTaskHostOptions,
  StoredTaskView,
  TaskBackend,
  TaskError,
  TaskView,
} from './tasks/index.js';
export {
  CANCELLED_BY_CLIENT,
  DEFAULT_TASK_HOST_OPTIONS,
  LEGACY_TASKS_VERSION,
  LEGACY_TASK_METHODS,
  MODERN_TASK_METHODS,
  TaskStatus,
  clientSupportsTasks,
  createTaskResult,
  effectiveTtl,
  handleTaskMethod,
  invalidParams,
  isJsonObject,
  isTerminal,
  legacyTask,
  missingTasksCapability,
  ownerOf,
  randomTaskId,
  requirePositiveIntegers,
  resolveTaskHostOptions,
  servesTaskMethod,
  stripRelatedTask,
  taskIdOf,
  taskNotFound,
  withRelatedTask,
} from './tasks/index.js';
export type { ObserveOptions } from './observe.js';
export { observeEngine, operationLabels, registryKnows } from './observe.js';

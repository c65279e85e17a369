export type { TaskHost, TaskJob, TaskPort, TaskRun } from './api.js';
export type { MemoryTaskHost } from './memory.js';
export { createMemoryTaskHost } from './memory.js';
export type { MemoryTaskHostOptions, ResolvedTaskHostOptions } from './options.js';
export {
  DEFAULT_TASK_HOST_OPTIONS,
  requirePositiveIntegers,
  resolveTaskHostOptions,
} from './options.js';
export { clientSupportsTasks, missingTasksCapability } from './capability.js';
export type { TaskError } from './record.js';
export { TaskStatus, isTerminal, ownerOf } from './record.js';
export { effectiveTtl, randomTaskId } from './options.js';
export type { StoredTaskView, TaskView } from './wire.js';
export { createTaskResult, legacyTask, stripRelatedTask, withRelatedTask } from './wire.js';
export {
  CANCELLED_BY_CLIENT,
  invalidParams,
  isJsonObject,
  taskIdOf,
  taskNotFound,
} from './params.js';
export type { TaskBackend } from './methods.js';
export { handleTaskMethod, servesTaskMethod } from './methods.js';
export { LEGACY_TASKS_VERSION, LEGACY_TASK_METHODS } from './legacy.js';
export { MODERN_TASK_METHODS } from './modern.js';

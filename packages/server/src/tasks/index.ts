export type { TaskHost, TaskJob, TaskPort, TaskRun } from './api.js';
export type { MemoryTaskHost } from './memory.js';
export { createMemoryTaskHost } from './memory.js';
export type { MemoryTaskHostOptions, ResolvedTaskHostOptions } from './options.js';
export { DEFAULT_TASK_HOST_OPTIONS, resolveTaskHostOptions } from './options.js';
export { clientSupportsTasks, missingTasksCapability } from './capability.js';
export type { TaskError } from './record.js';
export { TaskStatus, isTerminal } from './record.js';

/** @mcp-cluster/components: the API tools, resources, prompts and packs are written with. */
export { defineTool } from './tool.js';
export type { TaskSupport, ToolArgs, ToolDefinition, ToolResult } from './tool.js';
export { defineResource, defineResourceTemplate, resourceNotFound } from './resource.js';
export type { ResourceDefinition, ResourceTemplateDefinition } from './resource.js';
export { definePrompt, userText } from './prompt.js';
export type { PromptArgs, PromptArgumentsInput, PromptDefinition } from './prompt.js';
export { definePack, isComponentPack } from './pack.js';
export type { PackDefinition } from './pack.js';
export { BUILTIN_PACKS, loadPacks, packModulePath } from './load.js';
export type { LoadPacksOptions } from './load.js';
export { ComponentError } from './errors.js';
export { fileRoot, globToRegExp } from './file-root.js';
export type { FileRoot, FileRootOptions } from './file-root.js';
export {
  DEFAULT_FILES_OPTIONS,
  FilesWatcher,
  filesMount,
  filesPack,
  filesWatcher,
  watchLeaseName,
} from './packs/files/index.js';
export type { FilesMount, FilesPackOptions, FilesWatcherOptions } from './packs/files/index.js';
export {
  completeFilePaths,
  completePromptNames,
  completeResourceUris,
  completeToolNames,
} from './completions.js';
export type { FilePathCompletionOptions } from './completions.js';
export { ToolError } from '@mcp-cluster/server';
export type { Completer, CompletionContext } from '@mcp-cluster/server';
export type { ComponentErrorCode } from './errors.js';
export { UriTemplate, expand, isTemplate } from './uri-template.js';
export type { TemplateValue, TemplateVariables } from './uri-template.js';
export type { Infer, JsonSchema, SchemaInput } from './schema.js';
/** zod, re-exported so packs use the same instance the component API converts. */
export { z } from 'zod';

/**
 * What the engine serves: normalized component specs. Users do not write these by hand;
 * `@mcp-cluster/components` (defineTool, defineResource, ...) produces them.
 */
import type {
  CallToolResult,
  ContentBlock,
  GetPromptResult,
  JsonObject,
  Prompt,
  Resource,
  ResourceContents,
  ResourceTemplate,
  Tool,
} from '@mcp-cluster/protocol';
import type { HandlerContext } from './context.js';

/** Outcome of validating untrusted input against a schema. */
export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly string[] };

/** What a tool handler may return; normalized by the engine into a CallToolResult. */
export type ToolReturn = string | ContentBlock | ContentBlock[] | CallToolResult;

export interface ToolSpec {
  readonly kind: 'tool';
  /** The descriptor listed by tools/list (inputSchema/outputSchema already JSON Schema). */
  readonly descriptor: Tool;
  /** Validates `arguments`; failures become a CallToolResult with isError: true. */
  validateInput(args: unknown): Validation<unknown>;
  /** Validates structuredContent against outputSchema, when the tool declares one. */
  validateOutput?(structured: unknown): Validation<unknown>;
  /**
   * Whether the tool runs as a task: 'forbidden' never, 'optional' when the client asked
   * (or opted in to the tasks extension), 'required' only as a task.
   */
  readonly taskSupport: 'forbidden' | 'optional' | 'required';
  /**
   * Optional step run in the request itself before a task is created (so it can ask for
   * input with MRTR / server->client requests). Its value is handed to `run` as `prepared`.
   */
  prepare?(args: unknown, ctx: HandlerContext): Promise<unknown>;
  run(args: unknown, ctx: HandlerContext, prepared?: unknown): Promise<ToolReturn> | ToolReturn;
}

/** What a resource read may return: one text, bytes, or full contents. */
export type ResourceReturn = string | Uint8Array | ResourceContents | ResourceContents[];

export interface ResourceSpec {
  readonly kind: 'resource';
  readonly descriptor: Resource;
  read(uri: string, ctx: HandlerContext): Promise<ResourceReturn> | ResourceReturn;
}

/** Completes one argument: returns candidate values for the partial `value`. */
export type Completer = (
  value: string,
  context: { readonly arguments: Readonly<Record<string, string>> },
) => Promise<readonly string[]> | readonly string[];

export interface ResourceTemplateSpec {
  readonly kind: 'resourceTemplate';
  readonly descriptor: ResourceTemplate;
  /** Returns the template variables when `uri` matches (RFC 6570), else undefined. */
  match(uri: string): Readonly<Record<string, string | string[]>> | undefined;
  /**
   * Whether a uri may carry encoded separators (`%2F`, `%5C`) that decode into `/` or `\` in
   * a variable (default: refused with -32602, see `templateVariablesProblem`).
   */
  readonly encodedSeparators?: boolean;
  readonly complete?: Readonly<Record<string, Completer>>;
  /** Optional listing of concrete resources the template currently has. */
  list?(ctx: HandlerContext): Promise<Resource[]> | Resource[];
  read(
    uri: string,
    variables: Readonly<Record<string, string | string[]>>,
    ctx: HandlerContext,
  ): Promise<ResourceReturn> | ResourceReturn;
}

export type PromptReturn = string | GetPromptResult | GetPromptResult['messages'];

export interface PromptSpec {
  readonly kind: 'prompt';
  readonly descriptor: Prompt;
  validateArguments(args: unknown): Validation<Record<string, string>>;
  readonly complete?: Readonly<Record<string, Completer>>;
  get(args: Record<string, string>, ctx: HandlerContext): Promise<PromptReturn> | PromptReturn;
}

export type ComponentSpec = ToolSpec | ResourceSpec | ResourceTemplateSpec | PromptSpec;

/**
 * An extension method a pack serves (e.g. `skills/list`). Its result gets the era's envelope
 * (`resultType`, and caching hints when `cacheable`) from the engine.
 */
export interface MethodSpec {
  readonly method: string;
  /** Adds `ttlMs`/`cacheScope` on the modern wire. */
  readonly cacheable?: boolean;
  run(params: JsonObject, ctx: HandlerContext): Promise<JsonObject> | JsonObject;
}

/** A pack: a named group of components loaded together (an ES module's default export). */
export interface ComponentPack {
  readonly name: string;
  readonly components: readonly ComponentSpec[];
  /** Free-form server instructions contributed by this pack. */
  readonly instructions?: string;
  /** Extra capability entries the pack needs declared (e.g. an extension it implements). */
  readonly capabilities?: JsonObject;
  /** Extension methods served by this pack. */
  readonly methods?: readonly MethodSpec[];
}

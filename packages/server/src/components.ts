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
import type { ChangeEvent, HandlerContext, Principal } from './context.js';

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

/** The list methods a completer may read through `CompletionContext.list`. */
export type CompletionListMethod =
  'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list';

/** What a completer knows of the completion/complete request it answers. */
export interface CompletionContext {
  /** Values the client already gave for the other arguments (`context.arguments`). */
  readonly arguments: Readonly<Record<string, string>>;
  /** The caller. Absent when a completer is called outside the engine (a unit test). */
  readonly principal?: Principal;
  /**
   * Every item of a list method (all pages) as this caller sees it: what the registry
   * serves, narrowed by the filter that narrows the caller's list results when
   * authorization is on. Absent outside the engine.
   */
  readonly list?: (method: CompletionListMethod) => Promise<readonly JsonObject[]>;
}

/**
 * Completes one argument: returns candidate values for the partial `value`, all of them —
 * the engine sends the first 100 with `total` and `hasMore`.
 */
export type Completer = (
  value: string,
  context: CompletionContext,
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
  /**
   * Vets a legacy `resources/subscribe` of a uri this template matches: throws the error a
   * read of it would give for a uri it refuses (a denied path). Absent: every match may be
   * subscribed to (the resource need not exist yet).
   */
  subscribe?(
    uri: string,
    variables: Readonly<Record<string, string | string[]>>,
    ctx: HandlerContext,
  ): Promise<void> | void;
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
  /**
   * Background work that outlives requests (a file watcher): called once when an engine
   * serving the pack is created; what it returns is called when that engine closes.
   */
  readonly start?: (host: PackHost) => PackStop | void;
}

/**
 * What a pack's `start` receives: the engine's change feed, for changes no request made, and
 * leadership, for work one process of a cluster must do for all (watch a directory).
 */
export interface PackHost {
  /** Announces a change to subscribers, like `ctx.emitChange` (the uri made canonical). */
  emitChange(event: ChangeEvent): void;
  /**
   * Runs `onLead` while this process leads `name` (see {@link Leadership}); the returned
   * function stops competing and ends the work. Call it from the pack's stop.
   */
  lead(name: string, onLead: () => Promise<PackStop | void> | PackStop | void): PackStop;
}

/** Stops what a pack's `start` began; the engine awaits it on close. */
export type PackStop = () => Promise<void> | void;

/**
 * Who does cluster-wide background work. A worker elects one leader per name across the
 * cluster (a Redis lease, taken over when its holder dies); one process alone always leads.
 * `onLead` runs each time this process becomes the leader of `name`, what it returned runs
 * when leadership ends (lost, or the returned function was called).
 */
export interface Leadership {
  lead(name: string, onLead: () => Promise<PackStop | void> | PackStop | void): PackStop;
}

/** defineTool: a typed tool definition -> the ToolSpec the engine serves. */
import type {
  CallToolResult,
  ContentBlock,
  Icon,
  JsonObject,
  Tool,
  ToolAnnotations,
} from '@mcp-cluster/protocol';
import type { HandlerContext, ToolReturn, ToolSpec, Validation } from '@mcp-cluster/server';
import { ToolError } from '@mcp-cluster/server';
import { ComponentError } from './errors.js';
import type { CompiledSchema, Infer, SchemaInput } from './schema.js';
import { compileObjectSchema, emptyObjectSchema } from './schema.js';

/** Tool names: 1-128 characters of [A-Za-z0-9_.-] (MCP 2025-11-25 naming rule). */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export type TaskSupport = 'forbidden' | 'optional' | 'required';

/** The arguments a handler receives: parsed zod output, or the validated plain object. */
export type ToolArgs<I> = I extends SchemaInput ? Infer<I> : Record<string, never>;

/**
 * What a handler may return. With an `output` schema, returning the structured value itself
 * is allowed: it becomes `structuredContent` plus a JSON text block.
 */
export type ToolResult<O> = O extends SchemaInput ? ToolReturn | Infer<O> : ToolReturn;

export interface ToolDefinition<I, O, P> {
  readonly name: string;
  readonly title?: string;
  /** Required: clients (and the conformance suite) expect every tool to describe itself. */
  readonly description: string;
  readonly input?: I;
  readonly output?: O;
  readonly annotations?: ToolAnnotations;
  readonly icons?: Icon[];
  readonly meta?: JsonObject;
  /** Whether the tool may or must run as a task. Default 'forbidden'. */
  readonly taskSupport?: TaskSupport;
  /**
   * Runs before a task is created, in the request itself (it may ask for input with
   * ctx.input). Its value is passed to the handler as `prepared`.
   */
  readonly prepare?: (args: ToolArgs<I>, ctx: HandlerContext) => Promise<P>;
  readonly handler: (
    args: ToolArgs<I>,
    ctx: HandlerContext,
    prepared: P,
  ) => Promise<ToolResult<O>> | ToolResult<O>;
}

/** Defines a tool. Throws a ComponentError at definition time for an invalid name or schema. */
export function defineTool<
  I extends SchemaInput | undefined = undefined,
  O extends SchemaInput | undefined = undefined,
  P = undefined,
>(def: ToolDefinition<I, O, P>): ToolSpec {
  if (typeof def.name !== 'string' || !TOOL_NAME.test(def.name)) {
    throw new ComponentError(
      'INVALID_DEFINITION',
      `tool name ${JSON.stringify(def.name)} must be 1-128 characters of [A-Za-z0-9_.-]`,
    );
  }
  if (typeof def.description !== 'string' || def.description.length === 0) {
    throw new ComponentError('INVALID_DEFINITION', `tool ${def.name}: description is required`);
  }
  if (typeof def.handler !== 'function') {
    throw new ComponentError('INVALID_DEFINITION', `tool ${def.name}: handler must be a function`);
  }
  const input: CompiledSchema =
    def.input === undefined
      ? emptyObjectSchema()
      : compileObjectSchema(def.input, 'input', `tool ${def.name} input`);
  const output =
    def.output === undefined
      ? undefined
      : compileObjectSchema(def.output, 'input', `tool ${def.name} output`);
  const taskSupport = def.taskSupport ?? 'forbidden';

  const descriptor: Tool = {
    name: def.name,
    ...(def.title !== undefined && { title: def.title }),
    description: def.description,
    inputSchema: input.jsonSchema,
    ...(output && { outputSchema: output.jsonSchema }),
    ...(def.annotations !== undefined && { annotations: def.annotations }),
    ...(def.icons !== undefined && { icons: def.icons }),
    ...(def.taskSupport !== undefined && { execution: { taskSupport } }),
    ...(def.meta !== undefined && { _meta: def.meta }),
  };

  // The engine hands `run` the value returned by validateInput (zod defaults applied).
  type Args = ToolArgs<I>;
  const handler = def.handler;
  const finish = output === undefined ? asIs : asStructured;

  const spec: ToolSpec = {
    kind: 'tool',
    descriptor,
    taskSupport,
    // Missing `arguments` means {} (tools-call-simple-text omits it).
    validateInput: (args: unknown): Validation<unknown> => input.validate(args ?? {}),
    // Sync handlers stay sync (no extra promise on the hot path); the engine awaits either.
    run(args: unknown, ctx: HandlerContext, prepared?: unknown): Promise<ToolReturn> | ToolReturn {
      let r: unknown;
      try {
        r = handler(args as Args, ctx, prepared as P);
      } catch (err) {
        return fromThrown(err);
      }
      if (r instanceof Promise) return r.then(finish, fromThrown);
      return finish(r);
    },
  };
  if (output) {
    spec.validateOutput = (value: unknown) => output.validate(value);
  }
  if (def.prepare) {
    const prepare = def.prepare;
    spec.prepare = (args: unknown, ctx: HandlerContext) => prepare(args as Args, ctx);
  }
  return Object.freeze(spec);
}

/** The engine also maps ToolError; doing it here keeps specs self-contained. */
function fromThrown(err: unknown): CallToolResult {
  if (!(err instanceof ToolError)) throw err;
  const content: ContentBlock[] = [{ type: 'text', text: err.message }];
  return { content, isError: true };
}

function asIs(r: unknown): ToolReturn {
  return r as ToolReturn;
}

/** A plain object that is not a CallToolResult is the tool's structured output. */
function asStructured(r: unknown): ToolReturn {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return r as ToolReturn;
  if (Array.isArray((r as { content?: unknown }).content)) return r as CallToolResult;
  return { content: [{ type: 'text', text: JSON.stringify(r) }], structuredContent: r };
}

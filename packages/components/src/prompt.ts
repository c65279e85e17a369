/** definePrompt -> the PromptSpec the engine serves. */
import type {
  GetPromptResult,
  Icon,
  JsonObject,
  Prompt,
  PromptArgument,
} from '@mcp-cluster/protocol';
import type {
  Completer,
  HandlerContext,
  PromptReturn,
  PromptSpec,
  Validation,
} from '@mcp-cluster/server';
import { z } from 'zod';
import { ComponentError } from './errors.js';
import { isZodSchema } from './schema.js';

/** Prompt arguments: a zod object of string fields, or a plain argument list. */
export type PromptArgumentsInput =
  z.ZodType<Record<string, string | undefined>> | readonly PromptArgument[];

export type PromptArgs<A> = A extends z.ZodType ? z.output<A> : Record<string, string>;

export interface PromptDefinition<A> {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly arguments?: A;
  readonly icons?: Icon[];
  readonly meta?: JsonObject;
  /** Completers per argument name (completion/complete with a ref/prompt). */
  readonly complete?: Readonly<Record<string, Completer>>;
  /** Returns the messages: a string is one user text message. */
  readonly get: (args: PromptArgs<A>, ctx: HandlerContext) => Promise<PromptReturn> | PromptReturn;
}

/** Defines a prompt. Arguments are validated before `get` runs (required present, strings). */
export function definePrompt<A extends PromptArgumentsInput | undefined = undefined>(
  def: PromptDefinition<A>,
): PromptSpec {
  const what = `prompt ${JSON.stringify(def.name)}`;
  if (typeof def.name !== 'string' || def.name.length === 0) {
    throw new ComponentError('INVALID_DEFINITION', `prompt: name is required`);
  }
  if (typeof def.description !== 'string' || def.description.length === 0) {
    throw new ComponentError('INVALID_DEFINITION', `${what}: description is required`);
  }
  if (typeof def.get !== 'function') {
    throw new ComponentError('INVALID_DEFINITION', `${what}: get must be a function`);
  }
  const { list, validate } =
    def.arguments === undefined
      ? fromList(what, [])
      : isZodSchema(def.arguments)
        ? fromZod(what, def.arguments)
        : fromList(what, def.arguments);
  if (def.complete) {
    for (const key of Object.keys(def.complete)) {
      if (!list.some((a) => a.name === key)) {
        throw new ComponentError(
          'INVALID_DEFINITION',
          `${what}: completer for unknown argument ${JSON.stringify(key)}`,
        );
      }
    }
  }
  const descriptor: Prompt = {
    name: def.name,
    ...(def.title !== undefined && { title: def.title }),
    description: def.description,
    ...(list.length > 0 && { arguments: list }),
    ...(def.icons !== undefined && { icons: def.icons }),
    ...(def.meta !== undefined && { _meta: def.meta }),
  };
  const get = def.get as (
    args: Record<string, string>,
    ctx: HandlerContext,
  ) => Promise<PromptReturn> | PromptReturn;
  const spec: PromptSpec = {
    kind: 'prompt',
    descriptor,
    validateArguments: validate,
    get,
    ...(def.complete !== undefined && { complete: def.complete }),
  };
  return Object.freeze(spec);
}

type Compiled = {
  list: PromptArgument[];
  validate: (args: unknown) => Validation<Record<string, string>>;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fromList(what: string, args: readonly PromptArgument[]): Compiled {
  const list = args.map((a) => {
    if (typeof a.name !== 'string' || a.name.length === 0) {
      throw new ComponentError('INVALID_DEFINITION', `${what}: every argument needs a name`);
    }
    return { ...a };
  });
  const required = list.filter((a) => a.required === true).map((a) => a.name);
  return {
    list,
    validate(args) {
      const value = args ?? {};
      if (!isObject(value)) return { ok: false, issues: ['arguments must be an object'] };
      const issues: string[] = [];
      for (const name of required) {
        if (value[name] === undefined) issues.push(`${name}: required argument is missing`);
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') issues.push(`${k}: must be a string`);
      }
      return issues.length > 0
        ? { ok: false, issues }
        : { ok: true, value: value as Record<string, string> };
    },
  };
}

function fromZod(what: string, schema: z.ZodType): Compiled {
  let json: {
    properties?: Record<string, { description?: string; title?: string; type?: unknown }>;
    required?: string[];
    type?: unknown;
  };
  try {
    json = z.toJSONSchema(schema, { io: 'input' }) as typeof json;
  } catch (cause) {
    throw new ComponentError('INVALID_SCHEMA', `${what}: arguments schema cannot be converted`, {
      cause,
    });
  }
  if (json.type !== 'object') {
    throw new ComponentError('INVALID_SCHEMA', `${what}: arguments must be a zod object`);
  }
  const required = new Set(json.required ?? []);
  const list: PromptArgument[] = Object.entries(json.properties ?? {}).map(([name, p]) => {
    if (p.type !== 'string') {
      throw new ComponentError(
        'INVALID_SCHEMA',
        `${what}: argument ${name} must be a string (prompt arguments are strings)`,
      );
    }
    return {
      name,
      ...(p.title !== undefined && { title: p.title }),
      ...(p.description !== undefined && { description: p.description }),
      required: required.has(name),
    };
  });
  return {
    list,
    validate(args) {
      const r = schema.safeParse(args ?? {});
      if (r.success) return { ok: true, value: r.data as Record<string, string> };
      return {
        ok: false,
        issues: r.error.issues.map((i) =>
          i.path.length === 0 ? i.message : `${i.path.map(String).join('.')}: ${i.message}`,
        ),
      };
    },
  };
}

/** Convenience for handlers: one user text message. */
export function userText(text: string): GetPromptResult['messages'][number] {
  return { role: 'user', content: { type: 'text', text } };
}

/**
 * Schemas for tool inputs and outputs: a zod schema or a plain JSON Schema object.
 * zod is converted once to JSON Schema (draft 2020-12) and validated with `safeParse`.
 * A plain JSON Schema is listed verbatim (never normalized) and validated with ajv 2020,
 * compiled once on first use; ajv itself loads then too, so a process whose packs use zod
 * only never loads it.
 */
import { createRequire } from 'node:module';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { Validation } from '@mcp-cluster/server';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type addFormats from 'ajv-formats';
import { z } from 'zod';
import { ComponentError } from './errors.js';

/** ajv and ajv-formats are CommonJS: loaded synchronously, when a validator first needs them. */
const requireCjs = createRequire(import.meta.url);

/** A plain JSON Schema object (root of a tool input/output schema must be `type: "object"`). */
export type JsonSchema = { readonly [key: string]: unknown };

/** What a definition accepts as a schema. */
export type SchemaInput = z.ZodType | JsonSchema;

/** The value a handler receives for a schema: z.output for zod, a plain object otherwise. */
export type Infer<S> = S extends z.ZodType ? z.output<S> : Record<string, unknown>;

export interface CompiledSchema {
  /** The JSON Schema listed to clients. */
  readonly jsonSchema: JsonObject;
  validate(value: unknown): Validation<unknown>;
}

export function isZodSchema(value: unknown): value is z.ZodType {
  // zod 4 (classic and mini) schemas carry their internals under `_zod`.
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/**
 * Compiles a tool schema. `io` picks the zod side of the listed JSON Schema. Output schemas
 * use 'input' too: zod's 'output' side adds `additionalProperties: false`, and the engine
 * sends the handler's structuredContent as returned (not zod's stripped copy), so a client
 * validating it would reject extra keys zod itself accepts.
 */
export function compileObjectSchema(
  schema: SchemaInput,
  io: 'input' | 'output',
  what: string,
): CompiledSchema {
  return isZodSchema(schema) ? compileZod(schema, io, what) : compileJsonSchema(schema, what);
}

function compileZod(schema: z.ZodType, io: 'input' | 'output', what: string): CompiledSchema {
  let jsonSchema: JsonObject;
  try {
    // `$schema` (2020-12) is kept: it is the MCP default dialect and clients ignore it.
    jsonSchema = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  } catch (cause) {
    throw new ComponentError(
      'INVALID_SCHEMA',
      `${what}: the zod schema cannot be converted to JSON Schema`,
      {
        cause,
      },
    );
  }
  if (jsonSchema.type !== 'object') {
    throw new ComponentError('INVALID_SCHEMA', `${what}: the schema must describe an object`);
  }
  return {
    jsonSchema,
    validate(value) {
      const r = schema.safeParse(value);
      return r.success ? { ok: true, value: r.data } : { ok: false, issues: zodIssues(r.error) };
    },
  };
}

function zodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) =>
    i.path.length === 0 ? i.message : `${i.path.map(String).join('.')}: ${i.message}`,
  );
}

function compileJsonSchema(schema: JsonSchema, what: string): CompiledSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ComponentError(
      'INVALID_SCHEMA',
      `${what}: a schema must be a zod schema or a JSON Schema object`,
    );
  }
  if (schema.type !== 'object') {
    throw new ComponentError(
      'INVALID_SCHEMA',
      `${what}: the JSON Schema root must have type "object"`,
    );
  }
  // A private deep copy: listed verbatim, and immune to later mutation by the caller.
  const jsonSchema: JsonObject = structuredClone<JsonObject>(schema);
  let validateFn: ValidateFunction | undefined;
  return {
    jsonSchema,
    validate(value) {
      validateFn ??= compileAjv(jsonSchema);
      if (validateFn(value)) return { ok: true, value };
      return { ok: false, issues: ajvIssues(validateFn.errors) };
    },
  };
}

let sharedAjv: Ajv2020 | undefined;

function newAjv(): Ajv2020 {
  const { Ajv2020: Ajv } = requireCjs('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
  const { default: addAjvFormats } = requireCjs('ajv-formats') as { default: typeof addFormats };
  // Lenient: unknown keywords (x-mcp-header, ...) and any `$schema` dialect are tolerated.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addAjvFormats(ajv);
  return ajv;
}

function compileAjv(schema: JsonObject): ValidateFunction {
  sharedAjv ??= newAjv();
  try {
    return sharedAjv.compile(schema);
  } catch {
    // Typically a `$id` already registered by another schema: a private instance avoids it.
    try {
      return newAjv().compile(schema);
    } catch {
      // A schema ajv cannot compile (e.g. remote $ref): accept any object rather than
      // making the tool uncallable. The schema is still listed as written.
      return acceptObject;
    }
  }
}

const acceptObject = Object.assign(
  (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { errors: [{ instancePath: '', message: 'must be object' }] },
) as unknown as ValidateFunction;

function ajvIssues(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors || errors.length === 0) return ['invalid value'];
  return errors.map((e) => {
    const at = e.instancePath === '' ? '' : `${e.instancePath.slice(1).replaceAll('/', '.')}: `;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})`
        : '';
    return `${at}${e.message ?? 'is invalid'}${extra}`;
  });
}

/** The empty input schema of a tool without arguments. Fresh per tool: descriptors own theirs. */
export function emptyObjectSchema(): CompiledSchema {
  return {
    jsonSchema: { type: 'object', properties: {} },
    validate(value) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return { ok: true, value };
      }
      return { ok: false, issues: ['arguments must be an object'] };
    },
  };
}

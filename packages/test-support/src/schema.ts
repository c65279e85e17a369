/**
 * Validates messages the server sends against the official MCP JSON Schema of a revision
 * (copies in packages/test-support/schemas, with their source and license). The definition is
 * chosen the way the conformance suite's wire-schema check chooses it, so a test that passes
 * here passes `wire-schema-valid` there.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Revisions with a schema file; older revisions validate against the oldest one. */
export const SCHEMA_REVISIONS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type SchemaRevision = (typeof SCHEMA_REVISIONS)[number];

/** The copies shipped with this package: `packages/test-support/schemas/<revision>/schema.json`. */
export const VENDORED_SCHEMA_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'schemas',
);

/** The vendored schemas, or MCP_SCHEMA_DIR when set (same layout, e.g. a spec checkout). */
export function schemaDir(): string {
  return process.env.MCP_SCHEMA_DIR ?? VENDORED_SCHEMA_DIR;
}

/** Parsed `<schemaDir>/<revision>/schema.json`, unpatched; throws naming the file if absent. */
export function readSchemaFile(revision: SchemaRevision): Record<string, unknown> {
  const file = path.join(schemaDir(), revision, 'schema.json');
  if (!existsSync(file)) {
    throw new Error(
      `MCP JSON Schema missing: ${file}. ` +
        (process.env.MCP_SCHEMA_DIR === undefined
          ? 'The copies in packages/test-support/schemas are part of the repository; restore them.'
          : 'MCP_SCHEMA_DIR must hold <revision>/schema.json; unset it to use the vendored copies.'),
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** 2024-11-05 and 2025-03-26 have no schema of their own: use 2025-06-18. */
export function schemaRevisionFor(revision: string): SchemaRevision {
  if ((SCHEMA_REVISIONS as readonly string[]).includes(revision)) return revision as SchemaRevision;
  if (revision === '2024-11-05' || revision === '2025-03-26') return '2025-06-18';
  throw new Error(`no MCP schema for protocol revision ${JSON.stringify(revision)}`);
}

/**
 * Results whose request has no `<Name>Result` twin in the schema. Methods missing here and
 * from the schema are checked against the generic result envelope only.
 */
const EXTRA_RESULT_DEFS: Readonly<Record<string, string>> = {
  ping: 'EmptyResult',
  'logging/setLevel': 'EmptyResult',
  'resources/subscribe': 'EmptyResult',
  'resources/unsubscribe': 'EmptyResult',
};

/** Unions that would shadow the precise per-method definitions (the suite skips them too). */
const UNION_DEFS = new Set([
  'ClientRequest',
  'ClientNotification',
  'ClientResult',
  'ServerRequest',
  'ServerNotification',
  'ServerResult',
]);

interface RevisionValidator {
  readonly defs: Readonly<Record<string, unknown>>;
  readonly methodDefs: ReadonlyMap<string, string>;
  readonly resultDefs: ReadonlyMap<string, string>;
  readonly errorDefs: ReadonlyMap<number, string>;
  validatorFor(definition: string): ValidateFunction;
}

const cache = new Map<SchemaRevision, RevisionValidator>();

type JsonSchemaNode = {
  properties?: Record<string, JsonSchemaNode>;
  allOf?: JsonSchemaNode[];
  const?: unknown;
  type?: unknown;
};

function loadSchema(revision: SchemaRevision): Record<string, unknown> {
  const schema = readSchemaFile(revision);
  const defs = (schema.$defs ?? schema.definitions) as Record<string, JsonSchemaNode>;
  // The published 2025-06-18 and 2025-11-25 schemas type NumberSchema's minimum/maximum/
  // default as integers, which rejects a valid `default: 95.5`; the conformance suite
  // patches the same three fields to `number`, so we do too.
  if (revision !== '2026-07-28') {
    for (const key of ['minimum', 'maximum', 'default']) {
      const prop = defs.NumberSchema?.properties?.[key];
      if (prop?.type === 'integer') prop.type = 'number';
    }
  }
  return schema;
}

function build(revision: SchemaRevision): RevisionValidator {
  const schema = loadSchema(revision);
  const draft2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
  const options = { strict: false, allErrors: true };
  const ajv = draft2020 ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  ajv.addFormat('byte', true);
  const id = `mcp://${revision}/schema.json`;
  ajv.addSchema({ ...schema, $id: id });

  const defsKey = '$defs' in schema ? '$defs' : 'definitions';
  const defs = schema[defsKey] as Record<string, JsonSchemaNode>;
  const methodDefs = new Map<string, string>();
  const resultDefs = new Map<string, string>();
  const errorDefs = new Map<number, string>();
  for (const [name, def] of Object.entries(defs)) {
    if (UNION_DEFS.has(name)) continue;
    const method = def.properties?.method?.const;
    if (typeof method === 'string') {
      methodDefs.set(method, name);
      const resultName = name.endsWith('Request') ? `${name.slice(0, -7)}Result` : '';
      if (resultName in defs) resultDefs.set(method, resultName);
    }
    for (const part of def.properties?.error?.allOf ?? []) {
      const code = part.properties?.code?.const;
      if (typeof code === 'number') errorDefs.set(code, name);
    }
  }
  for (const [method, name] of Object.entries(EXTRA_RESULT_DEFS)) {
    if (!resultDefs.has(method) && name in defs) resultDefs.set(method, name);
  }

  const compiled = new Map<string, ValidateFunction>();
  return {
    defs,
    methodDefs,
    resultDefs,
    errorDefs,
    validatorFor(definition) {
      let fn = compiled.get(definition);
      if (!fn) {
        fn = ajv.compile({ $ref: `${id}#/${defsKey}/${definition}` });
        compiled.set(definition, fn);
      }
      return fn;
    },
  };
}

function validatorsFor(revision: string): RevisionValidator {
  const rev = schemaRevisionFor(revision);
  let v = cache.get(rev);
  if (!v) {
    v = build(rev);
    cache.set(rev, v);
  }
  return v;
}

export interface ValidateOptions {
  /** For a result: the method of the request it answers (picks e.g. CallToolResult). */
  readonly method?: string;
}

export interface SchemaCheck {
  readonly valid: boolean;
  /** The revision whose schema was used (after mapping older revisions). */
  readonly schemaRevision: SchemaRevision;
  /** Definitions the message was checked against, most specific first. */
  readonly definitions: readonly string[];
  readonly errors: readonly string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatErrors(definition: string, fn: ValidateFunction): string[] {
  return (fn.errors ?? []).map(
    (e) =>
      `${definition}${e.instancePath}: ${e.message ?? 'invalid'}` +
      (e.keyword === 'const' || e.keyword === 'enum' || e.keyword === 'required'
        ? ` ${JSON.stringify(e.params)}`
        : ''),
  );
}

/** Which definitions a single message is checked against, most specific first. */
function definitionsFor(
  v: RevisionValidator,
  revision: SchemaRevision,
  message: Record<string, unknown>,
  method: string | undefined,
): { target: 'message' | 'result'; name: string }[] {
  const envelope = (...names: string[]): string => names.find((n) => n in v.defs) ?? names[0]!;
  if (typeof message.method === 'string') {
    const name =
      v.methodDefs.get(message.method) ??
      ('id' in message ? 'JSONRPCRequest' : 'JSONRPCNotification');
    return [{ target: 'message', name }];
  }
  if (message.error !== undefined && message.error !== null) {
    const code = isObject(message.error) ? message.error.code : undefined;
    const typed = typeof code === 'number' ? v.errorDefs.get(code) : undefined;
    return [{ target: 'message', name: typed ?? envelope('JSONRPCErrorResponse', 'JSONRPCError') }];
  }
  const checks: { target: 'message' | 'result'; name: string }[] = [];
  if ('result' in message) {
    const result = message.result;
    const resultType = isObject(result) ? result.resultType : undefined;
    let specific: string | undefined;
    if (resultType === 'input_required' && 'InputRequiredResult' in v.defs) {
      specific = 'InputRequiredResult';
    } else if (resultType === 'task') {
      // Extension results (2026 tasks) have no schema definition: envelope only, like the suite.
      specific = undefined;
    } else if (
      revision === '2025-11-25' &&
      method === 'tools/call' &&
      isObject(result) &&
      isObject(result.task)
    ) {
      specific = 'CreateTaskResult'; // 2025-11-25 experimental task-augmented tools/call
    } else if (method !== undefined) {
      specific = v.resultDefs.get(method);
    }
    if (specific) checks.push({ target: 'result', name: specific });
  }
  checks.push({ target: 'message', name: envelope('JSONRPCResultResponse', 'JSONRPCResponse') });
  return checks;
}

/**
 * Checks one message (or a batch array) the server sent against the schema of `revision`.
 * Requests and notifications are matched by method, errors by code, results by
 * `options.method` (the request they answer); anything else against the JSON-RPC envelope.
 */
export function validateAgainstSchema(
  revision: string,
  message: unknown,
  options: ValidateOptions = {},
): SchemaCheck {
  const schemaRevision = schemaRevisionFor(revision);
  const v = validatorsFor(schemaRevision);
  if (Array.isArray(message)) {
    const parts = message.map((m) => validateAgainstSchema(revision, m, options));
    const errors = parts.flatMap((p, i) => p.errors.map((e) => `[${i}] ${e}`));
    if (message.length === 0) errors.push('batch: empty array');
    return {
      valid: errors.length === 0,
      schemaRevision,
      definitions: parts.flatMap((p) => p.definitions),
      errors,
    };
  }
  if (!isObject(message)) {
    return {
      valid: false,
      schemaRevision,
      definitions: [],
      errors: ['not a JSON-RPC message object'],
    };
  }
  const checks = definitionsFor(v, schemaRevision, message, options.method);
  const errors: string[] = [];
  for (const check of checks) {
    const fn = v.validatorFor(check.name);
    const value = check.target === 'result' ? message.result : message;
    if (!fn(value)) errors.push(...formatErrors(check.name, fn));
  }
  return {
    valid: errors.length === 0,
    schemaRevision,
    definitions: checks.map((c) => c.name),
    errors,
  };
}

/** Throws a readable error when `message` does not match its schema definition. */
export function expectValidMessage(
  revision: string,
  message: unknown,
  options: ValidateOptions = {},
): void {
  const check = validateAgainstSchema(revision, message, options);
  if (!check.valid) {
    throw new Error(
      `message is not valid MCP ${check.schemaRevision} (${check.definitions.join(', ')}):\n  ` +
        `${check.errors.slice(0, 10).join('\n  ')}\nmessage: ${JSON.stringify(message).slice(0, 2000)}`,
    );
  }
}

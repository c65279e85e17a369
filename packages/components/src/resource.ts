/** defineResource / defineResourceTemplate -> the specs the engine serves. */
import type {
  Annotations,
  Icon,
  JsonObject,
  Resource,
  ResourceTemplate,
} from '@mcp-cluster/protocol';
import { ProtocolError } from '@mcp-cluster/protocol';
import type {
  Completer,
  HandlerContext,
  ResourceReturn,
  ResourceSpec,
  ResourceTemplateSpec,
} from '@mcp-cluster/server';
import { ComponentError } from './errors.js';
import type { TemplateVariables } from './uri-template.js';
import { UriTemplate } from './uri-template.js';

interface CommonFields {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly icons?: Icon[];
  readonly annotations?: Annotations;
  readonly meta?: JsonObject;
}

export interface ResourceDefinition extends CommonFields {
  readonly uri: string;
  /** Size in bytes, when known ahead of reading. */
  readonly size?: number;
  /** Returns the text, the bytes, or full contents. `uri` is the requested URI. */
  readonly read: (uri: string, ctx: HandlerContext) => Promise<ResourceReturn> | ResourceReturn;
}

function checkCommon(what: string, def: CommonFields): void {
  if (typeof def.name !== 'string' || def.name.length === 0) {
    throw new ComponentError('INVALID_DEFINITION', `${what}: name is required`);
  }
}

function common(def: CommonFields): Omit<Resource, 'uri' | 'name'> {
  return {
    ...(def.title !== undefined && { title: def.title }),
    ...(def.description !== undefined && { description: def.description }),
    ...(def.mimeType !== undefined && { mimeType: def.mimeType }),
    ...(def.icons !== undefined && { icons: def.icons }),
    ...(def.annotations !== undefined && { annotations: def.annotations }),
    ...(def.meta !== undefined && { _meta: def.meta }),
  };
}

/** Defines a fixed resource. */
export function defineResource(def: ResourceDefinition): ResourceSpec {
  const what = `resource ${JSON.stringify(def.uri)}`;
  if (typeof def.uri !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(def.uri)) {
    throw new ComponentError('INVALID_DEFINITION', `${what}: uri must be an absolute URI`);
  }
  checkCommon(what, def);
  if (typeof def.read !== 'function') {
    throw new ComponentError('INVALID_DEFINITION', `${what}: read must be a function`);
  }
  const descriptor: Resource = {
    uri: def.uri,
    name: def.name,
    ...common(def),
    ...(def.size !== undefined && { size: def.size }),
  };
  return Object.freeze({ kind: 'resource', descriptor, read: def.read });
}

export interface ResourceTemplateDefinition extends CommonFields {
  /** An RFC 6570 URI template, e.g. `notes://{id}`. */
  readonly uriTemplate: string;
  /** Completers for template variables (completion/complete with a ref/resource). */
  readonly complete?: Readonly<Record<string, Completer>>;
  /**
   * Accept uris whose variables decode `%2F` / `%5C` into `/` / `\` (e.g. `repo://{name}`
   * for `owner%2Frepo`). Default false: such uris are refused with -32602, so a variable
   * never holds a separator the uri did not show. Dot segments are refused either way.
   */
  readonly encodedSeparators?: boolean;
  /** Concrete resources the template currently has, added to resources/list. */
  readonly list?: (ctx: HandlerContext) => Promise<Resource[]> | Resource[];
  /**
   * Vets a legacy `resources/subscribe` of a matching uri: throw what `read` would throw for
   * a uri it refuses (a denied path). Default: every matching uri may be subscribed to.
   */
  readonly subscribe?: (
    uri: string,
    variables: TemplateVariables,
    ctx: HandlerContext,
  ) => Promise<void> | void;
  readonly read: (
    uri: string,
    variables: TemplateVariables,
    ctx: HandlerContext,
  ) => Promise<ResourceReturn> | ResourceReturn;
}

/** Defines a resource template. Throws a ComponentError for an invalid template. */
export function defineResourceTemplate(def: ResourceTemplateDefinition): ResourceTemplateSpec {
  const what = `resource template ${JSON.stringify(def.uriTemplate)}`;
  if (typeof def.uriTemplate !== 'string') {
    throw new ComponentError('INVALID_DEFINITION', `${what}: uriTemplate must be a string`);
  }
  checkCommon(what, def);
  if (typeof def.read !== 'function') {
    throw new ComponentError('INVALID_DEFINITION', `${what}: read must be a function`);
  }
  const template = new UriTemplate(def.uriTemplate);
  if (def.complete) {
    for (const key of Object.keys(def.complete)) {
      if (!template.variableNames.includes(key)) {
        throw new ComponentError(
          'INVALID_DEFINITION',
          `${what}: completer for unknown variable ${JSON.stringify(key)}`,
        );
      }
    }
  }
  const descriptor: ResourceTemplate = {
    uriTemplate: def.uriTemplate,
    name: def.name,
    ...common(def),
  };
  const spec: ResourceTemplateSpec = {
    kind: 'resourceTemplate',
    descriptor,
    match: (uri: string) => template.match(uri),
    ...(def.encodedSeparators === true && { encodedSeparators: true }),
    read: def.read,
    ...(def.complete !== undefined && { complete: def.complete }),
    ...(def.list !== undefined && { list: def.list }),
    ...(def.subscribe !== undefined && { subscribe: def.subscribe }),
  };
  return Object.freeze(spec);
}

/**
 * The error to throw from `read` when a URI names nothing: -32002 on legacy revisions,
 * -32602 on 2026-07-28 (both with `data.uri`), as resources/read does for unknown URIs.
 */
export function resourceNotFound(uri: string, ctx: Pick<HandlerContext, 'era'>): ProtocolError {
  return ctx.era === 'modern'
    ? ProtocolError.of('InvalidParams', `Resource not found: ${uri}`, { uri })
    : ProtocolError.of('ResourceNotFound', `Resource not found: ${uri}`, { uri });
}
